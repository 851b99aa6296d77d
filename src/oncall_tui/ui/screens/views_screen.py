"""ViewsScreen: the queue's views, edited in the app and written back to the config file.

Save the current filter as a view, rename, move up or down, delete; every change is written
to the config (comments kept, see :mod:`oncall_tui.settings.config_write`) and applies at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from oncall_tui.settings.config import ViewSpec

#: Keys 1-9: at most nine views.
MAX_VIEWS = 9

Apply = Callable[[tuple[ViewSpec, ...], str], bool]
"""Writes the views (and says ``what`` was done); False when nothing could be changed."""


class ViewsScreen(ModalScreen[None]):
    """The views in key order; each key edits the highlighted one."""

    BINDINGS = [
        Binding("n", "save_filter", "New view from the filter", id="view-save"),
        Binding("r", "rename", "Rename", id="view-rename"),
        Binding("K", "move(-1)", "Move up", id="view-move-up"),
        Binding("J", "move(1)", "Move down", id="view-move-down"),
        Binding("d", "delete", "Delete", id="view-delete"),
        Binding("escape", "close", "Close", id="views-close"),
    ]

    def __init__(
        self, views: Sequence[ViewSpec], current: int, filter_text: str, where: str, apply: Apply
    ) -> None:
        super().__init__()
        self.views = tuple(views)
        self.current = current
        self.filter_text = filter_text.strip()
        self.where = where
        self.apply = apply

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("Views (keys 1-9 in this order)"), classes="dialog--title")
            yield OptionList(id="views")
            yield Label(Text(self.where), classes="dialog--hint", id="views-where")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._fill(self.current)
        self.query_one(OptionList).focus()

    def _fill(self, highlight: int) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(Text(f"{i + 1}  {v.name}   {v.query or '(everything)'}"), id=str(i))
                for i, v in enumerate(self.views)
            ]
        )
        if self.views:
            options.highlighted = min(max(highlight, 0), len(self.views) - 1)

    @property
    def highlighted(self) -> int | None:
        index = self.query_one(OptionList).highlighted
        return index if index is not None and index < len(self.views) else None

    def _change(self, views: tuple[ViewSpec, ...], what: str, highlight: int) -> None:
        if self.apply(views, what):
            self.views = views
            self._fill(highlight)

    def _ask(self, title: str, value: str, done: Callable[[str], None]) -> None:
        from oncall_tui.ui.screens.prompt_screen import PromptScreen

        def answered(text: str | None) -> None:
            if text:
                done(text)

        self.app.push_screen(PromptScreen(title, hint=f"now: {value}" if value else ""), answered)

    def action_save_filter(self) -> None:
        if not self.filter_text:
            self.notify("No filter typed: / types one, then V and n save it.", timeout=4)
            return
        if len(self.views) >= MAX_VIEWS:
            self.notify(f"{MAX_VIEWS} views already (keys 1-9): delete one first.", timeout=4)
            return

        def named(name: str) -> None:
            views = (*self.views, ViewSpec(name, self.filter_text))
            self._change(views, f"saved view {len(views)} {name}", len(views) - 1)

        self._ask(f"Name for the view of “{self.filter_text}”", "", named)

    def action_rename(self) -> None:
        index = self.highlighted
        if index is None:
            return
        old = self.views[index]

        def named(name: str) -> None:
            views = list(self.views)
            views[index] = ViewSpec(name, old.query)
            self._change(tuple(views), f"renamed {old.name} to {name}", index)

        self._ask(f"New name for view {index + 1}", old.name, named)

    def action_move(self, step: int) -> None:
        index = self.highlighted
        if index is None or not 0 <= index + step < len(self.views):
            return
        views = list(self.views)
        views[index], views[index + step] = views[index + step], views[index]
        name = views[index + step].name
        self._change(tuple(views), f"moved {name} to key {index + step + 1}", index + step)

    def action_delete(self) -> None:
        index = self.highlighted
        if index is None:
            return
        if len(self.views) == 1:
            self.notify("The last view cannot go: the queue needs one.", timeout=4)
            return
        from oncall_tui.ui.screens.choice_screen import ChoiceScreen

        view = self.views[index]

        def confirmed(choice: str | None) -> None:
            if choice == "delete":
                views = self.views[:index] + self.views[index + 1 :]
                self._change(views, f"deleted view {view.name}", index)

        self.app.push_screen(
            ChoiceScreen(
                f"Delete view {index + 1} “{view.name}” ({view.query})?",
                [("keep", "Keep it"), ("delete", "Delete the view")],
            ),
            confirmed,
        )

    def action_close(self) -> None:
        self.dismiss(None)
