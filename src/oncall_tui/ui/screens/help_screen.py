"""HelpScreen: the app's own keys on the screen it was opened from.

Only bindings of ours (every one carries an id, for ``[keys]``): not Textual's own (scroll
left, focus next, copy selected text), which act on whatever widget has the focus and are
not what a person looks for here. A screen may say how a key is described, or that it is not
shown (``describe_binding``): the queue lists its views by name, and only the views defined.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

#: The help's title for each screen (a class not listed: its name, in words).
SCREEN_TITLES = {
    "QueueScreen": "Queue",
    "DetailScreen": "Ticket",
    "DraftsScreen": "Drafts",
    "SyncLogScreen": "Sync log",
    "RunbookScreen": "Runbooks",
    "BugReportScreen": "Bug report",
}


def screen_title(screen: Screen[object]) -> str:
    """What the help calls ``screen``: "Queue", "Sync log"..."""
    name = type(screen).__name__
    if name in SCREEN_TITLES:
        return SCREEN_TITLES[name]
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name.removesuffix("Screen")).split()
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else name


def describer(screen: Screen[object]) -> Callable[[Binding], str | None]:
    """The screen's words for a binding (None: not listed); by default its description."""
    describe = getattr(screen, "describe_binding", None)
    if callable(describe):
        return describe  # type: ignore[no-any-return]
    return lambda binding: binding.description


def binding_rows(screen: Screen[object]) -> list[tuple[str, str]]:
    """(keys, description) for each of the app's own active bindings of ``screen``."""
    app = screen.app
    describe = describer(screen)
    rows: dict[str, list[str]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.id is None or not active.enabled:  # Textual's own, or not usable here
            continue
        description = describe(binding)
        if not description:
            continue
        label = app.get_key_display(binding)
        rows.setdefault(description, [])
        if label not in rows[description]:
            rows[description].append(label)
    return [(" / ".join(keys), description) for description, keys in rows.items()]


class HelpScreen(ModalScreen[None]):
    """A modal table of keys; any of escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="close-help"),
    ]

    def __init__(self, rows: list[tuple[str, str]], title: str) -> None:
        super().__init__()
        self.rows = rows
        self.title_text = title

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog -wide"):
            yield Label(Text(f"Keys · {self.title_text}"), classes="dialog--title")
            table = Table(
                box=None, padding=(0, 2), show_edge=False, pad_edge=False, header_style="bold"
            )
            table.add_column("Key", style="bold", no_wrap=True)
            table.add_column("Does")
            for keys, description in self.rows:
                table.add_row(Text(keys), Text(description))
            yield Static(table, id="help-table")
            yield Label(
                Text("Every action is also in the command palette (ctrl+p)."),
                classes="dialog--hint",
            )

    def action_close(self) -> None:
        self.dismiss(None)
