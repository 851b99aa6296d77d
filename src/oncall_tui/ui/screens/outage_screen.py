"""OutageScreen: pick the tickets a suspected outage hits, from the keyboard or the mouse.

The candidates are the open tickets, most recently updated first, with the current ticket on
top and ticked. Typing filters them with the queue's own filter language (a number, a word of
the subject or the customer, ``plan:premium``...); the tickets ticked stay ticked while the
filter hides them, and the line under the list counts them all. ``space`` ticks or unticks
the highlighted ticket (a click does too), ``enter`` files the outage for the ticked ones,
``esc`` clears the filter, then leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, SelectionList
from textual.widgets.selection_list import Selection

from oncall_tui.domain.text import clean_line
from oncall_tui.ui.widgets.ticket_table import age_text

#: How many candidates the list shows for one filter (the most recently updated).
LIMIT = 50


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ticket the picker offers."""

    id: int
    ref: str
    subject: str
    customer: str | None
    priority: str
    updated_at: datetime


def candidate_label(c: Candidate, now: datetime) -> Text:
    """``zendesk #41165  P1  3h  Acme (ceres)  Queries hang``: what is cut at the right edge
    is the subject; customer text stays text."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(c.ref, style="bold")
    line.append(f"  {c.priority}  {age_text(c.updated_at, now):>3}  ")
    if c.customer:
        line.append(clean_line(c.customer) + "  ")
    line.append(clean_line(c.subject))
    return line


class FilterInput(Input):
    """The picker's filter: every printable key but space (space ticks)."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return key != "space" and super().check_consume_key(key, character)


class OutageScreen(ModalScreen[list[int] | None]):
    """Tick the affected tickets; dismisses with their ids in the order shown, or None."""

    BINDINGS = [
        Binding("space", "tick", "Tick", id="outage-tick", priority=True),
        Binding("enter", "file", "File", id="outage-file", priority=True),
        Binding("down", "move(1)", "Down", show=False, priority=True),
        Binding("up", "move(-1)", "Up", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
        Binding("escape", "cancel", "Clear / cancel", id="outage-cancel"),
    ]

    def __init__(
        self,
        title: str,
        current: Candidate,
        search: Callable[[str], Sequence[Candidate]],
        now: datetime,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.current = current
        self.search = search
        self.now = now
        self.ticked: dict[int, Candidate] = {current.id: current}
        self.shown: list[Candidate] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide", id="outage-picker"):
            yield Label(Text(self.title_text), classes="dialog--title")
            yield FilterInput(
                placeholder="Filter: a number, a word, plan:premium…",
                id="outage-filter",
            )
            choices = SelectionList[int](id="outage-candidates")
            choices.can_focus = False  # typing always filters; a click still ticks
            yield choices
            yield Label("", id="outage-count", classes="dialog--hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refilter("")
        self.query_one(Input).focus()

    @property
    def choices(self) -> SelectionList[int]:
        return self.query_one("#outage-candidates", SelectionList)

    def refilter(self, text: str) -> None:
        """Show the candidates for ``text``: the current ticket first (when it matches or
        nothing is typed), then the search's, each ticked as chosen so far."""
        found = list(self.search(text))
        if not text.strip() and all(c.id != self.current.id for c in found):
            found.insert(0, self.current)
        elif not text.strip():
            found.sort(key=lambda c: c.id != self.current.id)  # stable: the rest keep order
        self.shown = found
        choices = self.choices
        choices.clear_options()
        choices.add_options(
            [Selection(candidate_label(c, self.now), c.id, c.id in self.ticked) for c in found]
        )
        if found:
            choices.highlighted = 0
        self.update_count()

    def update_count(self) -> None:
        shown = {c.id for c in self.shown}
        hidden = sum(1 for tid in self.ticked if tid not in shown)
        n = len(self.ticked)
        text = f"{n} ticket{'s' if n != 1 else ''} ticked"
        if hidden:
            text += f" ({hidden} hidden by the filter)"
        if not self.shown:
            text += " · no open ticket matches the filter"
        self.query_one("#outage-count", Label).update(Text(text + " · enter files the outage"))

    @on(Input.Changed, "#outage-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refilter(event.value)

    @on(SelectionList.SelectionToggled, "#outage-candidates")
    def _toggled(self, event: SelectionList.SelectionToggled[int]) -> None:
        event.stop()
        tid = event.selection.value
        if tid not in event.selection_list.selected:
            self.ticked.pop(tid, None)
        else:
            found = next((c for c in self.shown if c.id == tid), None)
            if found is not None:
                self.ticked[tid] = found
        self.update_count()

    def action_move(self, step: int) -> None:
        choices = self.choices
        if not self.shown:
            return
        at = choices.highlighted if choices.highlighted is not None else 0
        choices.highlighted = max(0, min(len(self.shown) - 1, at + step))

    def action_tick(self) -> None:
        # Not ``toggle``: that name is Textual's own action (DOMNode.action_toggle(attribute)).
        choices = self.choices
        if choices.highlighted is None or not self.shown:
            return
        choices.toggle(self.shown[choices.highlighted].id)

    def action_file(self) -> None:
        if not self.ticked:
            self.notify("Tick at least one ticket (space) to file the outage.", timeout=4)
            return
        # the current ticket first (it is the outage's own), then the others as ticked
        order = sorted(self.ticked, key=lambda tid: tid != self.current.id)
        self.dismiss(order)

    def action_cancel(self) -> None:
        field = self.query_one(Input)
        if field.value:
            field.value = ""  # Changed refilters
            return
        self.dismiss(None)
