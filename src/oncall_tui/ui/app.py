"""OncallApp: the Textual application shell."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from oncall_tui.context import AppContext
from oncall_tui.paths import styles_dir
from oncall_tui.ui.commands import BindingCommands
from oncall_tui.ui.screens.help_screen import HelpScreen, binding_rows
from oncall_tui.ui.screens.queue_screen import QueueScreen

STYLE_FILES = ("app.tcss", "queue.tcss", "ticket.tcss", "dialogs.tcss")


class OncallApp(App[None]):
    """The on-call support console."""

    TITLE = "oncall-tui"
    CSS_PATH: ClassVar = [styles_dir() / name for name in STYLE_FILES]
    COMMANDS = App.COMMANDS | {BindingCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
    ]

    store_revision: reactive[int] = reactive(0)
    """Bumped whenever the store changed (local edit or sync); screens re-query on it."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        if ctx.demo:
            self.sub_title = "demo"

    def on_mount(self) -> None:
        if self.ctx.config.keys:
            self.set_keymap(dict(self.ctx.config.keys))
        self.push_screen(
            QueueScreen(
                self.ctx.store, self.ctx.config, self.ctx.clock, templates=self._templates()
            )
        )

    def _templates(self) -> list[object]:
        try:
            from oncall_tui.resources import default_templates
        except ImportError:
            return []
        return list(default_templates())

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        self.push_screen(HelpScreen(binding_rows(screen), type(screen).__name__))

    def action_quit(self) -> None:  # type: ignore[override]
        """Quit from the queue; go back from any other screen."""
        if len(self.screen_stack) > 2:
            self.pop_screen()
        else:
            self.exit()
