"""ColumnsScreen: which of the queue's columns to show (the width still decides what fits)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, SelectionList
from textual.widgets.selection_list import Selection

from oncall_tui.ui.widgets.columns import COLUMNS, chosen_columns


class ColumnsScreen(ModalScreen[tuple[str, ...] | None]):
    """Tick the columns to show; ``esc`` or ``enter`` on Done keeps the choice."""

    BINDINGS = [
        Binding("escape", "done", "Done", id="columns-done"),
        Binding("ctrl+z", "cancel", "Cancel", id="columns-cancel"),
    ]

    def __init__(self, keys: Sequence[str] | None) -> None:
        super().__init__()
        self.keys = {c.key for c in chosen_columns(keys)}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                Text(
                    "Columns: space shows or hides one, esc keeps the choice. SLA and "
                    "priority are always shown; a narrow terminal hides some (←/→ scroll)."
                ),
                classes="dialog--title",
            )
            yield SelectionList[str](
                *[
                    Selection(c.title, c.key, c.key in self.keys, disabled=c.pinned)
                    for c in COLUMNS
                ],
                id="columns",
            )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_done(self) -> None:
        selected = set(self.query_one(SelectionList).selected)
        self.dismiss(tuple(c.key for c in COLUMNS if c.pinned or c.key in selected))

    def action_cancel(self) -> None:
        self.dismiss(None)
