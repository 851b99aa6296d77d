"""Floor apps: the least Textual work that answers the same keypresses.

``BareTableApp`` is a stock ``DataTable`` of 50 rows (the queue's nine columns, realistic
text) with a hidden ``Input``: ``down`` and ``pagedown`` move the table's cursor, ``/`` shows
and focuses the input and a typed character goes into it, ``escape`` hides it again, and the
digits ``1``-``9`` swap in another 50 rows (clear + add_rows: the least a view switch can do).
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input

COLUMNS = ("SLA", "Pri", "Plan", "Customer", "Subject", "Status", "Assignee", "Source", "Updated")


def sample_rows(view: int, count: int = 50) -> list[tuple[str, ...]]:
    """``count`` queue-like rows (the demo's vocabulary), different per ``view``."""
    from oncall_tui.demo import seed

    rng = random.Random(view)
    rows = []
    for _ in range(count):
        name, plan, codename, _domains, _contacts = rng.choice(seed.CUSTOMERS)
        subject, _body, priority = rng.choice(seed.SUBJECTS)
        rows.append(
            (
                f"{rng.randint(0, 9)}h {rng.randint(0, 59):02d}m",
                str(priority),
                plan,
                f"{codename} {name}",
                subject.format(ver="4.55.1", agent="1.30.0", osq="5.12.1"),
                rng.choice(("new", "open", "pending")),
                rng.choice(seed.AGENTS),
                "desk",
                f"{rng.randint(1, 59)}m",
            )
        )
    return rows


class BareTableApp(App[None]):
    """The keypress floor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear", show=False),
        *[Binding(str(n), f"view({n})", f"View {n}", show=False) for n in range(1, 10)],
    ]

    def compose(self) -> ComposeResult:
        yield Input(id="filter")
        yield DataTable(id="table", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one(Input).display = False
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        table.add_rows(sample_rows(1))
        table.focus()

    def action_filter(self) -> None:
        field = self.query_one(Input)
        field.display = True
        field.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one(Input)
        field.value = ""
        field.display = False
        self.query_one(DataTable).focus()

    def action_view(self, n: int) -> None:
        table: DataTable[Any] = self.query_one(DataTable)
        table.clear()
        table.add_rows(sample_rows(n))
