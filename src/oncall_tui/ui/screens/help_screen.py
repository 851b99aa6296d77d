"""HelpScreen: every key binding of the screen it was opened from."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static


def binding_rows(screen: Screen[object]) -> list[tuple[str, str]]:
    """(keys, description) for each active binding of ``screen``, deduplicated."""
    app = screen.app
    rows: dict[str, list[str]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or not active.enabled:
            continue
        label = app.get_key_display(binding)
        rows.setdefault(binding.description, [])
        if label not in rows[binding.description]:
            rows[binding.description].append(label)
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
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", no_wrap=True)
            table.add_column()
            for keys, description in self.rows:
                table.add_row(Text(keys), Text(description))
            yield Static(table, id="help-table")
            yield Label(
                Text("Every action is also in the command palette (ctrl+p)."),
                classes="dialog--hint",
            )

    def action_close(self) -> None:
        self.dismiss(None)
