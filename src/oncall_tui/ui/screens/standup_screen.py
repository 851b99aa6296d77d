"""StandupScreen: the daily support stand-up over every ``~investigate`` bug.

Each bug with its age in business days (from when the label went on), the customers it hits
and their plans, and whether the support manager acknowledged it today. ``a`` queues the
acknowledgement comment (once per stand-up day); from the second business day the line asks
for the decision and ``d`` takes it: reproduced → ``:product``, not reproduced → ``:incoming``
and ``:reproduce`` back on. Every change is a local edit with its outbox entry, through the
confidentiality guard like any other public write.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Static

from oncall_tui.domain import escalation as esc
from oncall_tui.domain import guard
from oncall_tui.domain.labels import LabelScheme
from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import ticket_ref
from oncall_tui.settings.config import Config
from oncall_tui.store import Store
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.escalation_bar import EscalationBar
from oncall_tui.ui.screens.label_actions import guarded_labels, label_change, public_hits
from oncall_tui.ui.screens.ticket_actions import TicketActions
from oncall_tui.ui.widgets.key_bar import KeyBar
from oncall_tui.ui.widgets.status_bar import StatusBar


def load_standup(
    store: Store, config: Config, scheme: LabelScheme, now: datetime
) -> list[esc.StandupItem]:
    """The stand-up's lines, decisions due first."""
    settings = config.escalation
    days = esc.business_days_of(config.sla.calendar, config.sla.business_day_seconds)
    issues = store.escalation.investigations(scheme.investigate)
    acks = store.escalation.standup_acks([t.id for t in issues])
    folded = scheme.investigate.casefold()
    items = []
    for issue in issues:
        since = next(
            (at for label, at in issue.label_since.items() if label.casefold() == folded),
            issue.updated_at,
        )
        customers = [
            esc.Affected(c.name, c.plan)
            for c in store.escalation.affected_customers(issue, scheme.customer_prefix)
        ]
        title = f"{ticket_ref(issue.source, issue.remote_id)} {issue.subject}"
        item = esc.standup_item(
            issue.id,
            title,
            issue.labels,
            since,
            now,
            days,
            customers=customers,
            acknowledged_on=acks.get(issue.id),
            settings=settings,
            scheme=scheme,
        )
        if item is not None:
            items.append(item)
    return esc.standup_order(items)


class StandupScreen(TicketActions, Screen[None]):
    """The stand-up list; `a` acknowledges, `d` decides, escape goes back."""

    BINDINGS = [
        Binding("escape,q", "back", "Back", id="standup-back"),
        Binding("a", "acknowledge", "Acknowledge", id="standup-ack"),
        Binding("d", "decide", "Decide", id="standup-decide"),
        Binding("I", "timebox", "Time-box", id="standup-timebox"),
        Binding("o", "open_browser", "Browser", id="standup-browser"),
    ]

    def __init__(self, store: Store, config: Config, clock: Any, templates: list[Any]) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.clock = clock
        self.templates = templates
        self.items: list[esc.StandupItem] = []

    @property
    def scheme(self) -> LabelScheme:
        from oncall_tui.ui.screens.bug_report_data import bug_report_settings

        return bug_report_settings(self.config).scheme

    def compose(self) -> ComposeResult:
        yield StatusBar(self.config.sla)
        yield Static(id="standup-title")
        yield DataTable(id="standup-table", cursor_type="row")
        yield Static(id="standup-empty")
        yield EscalationBar(id="escalation-bar")
        yield KeyBar()

    def on_resize(self) -> None:
        self.reload()

    def on_mount(self) -> None:
        self.watch(self.app, "store_revision", self.reload, init=False)
        self.query_one(StatusBar).now = self.clock()
        self.reload()
        due = sum(1 for i in self.items if i.decision_due)
        if due:
            self.notify(
                f"{due} bug{'s' if due != 1 else ''} still under investigation on a second "
                "business day: decide with d (reproduced or not).",
                severity="warning",
                timeout=6,
            )
        self.query_one(DataTable).focus()

    def today(self) -> date:
        """The stand-up day, in the zone every time is shown in."""
        today: date = self.clock().astimezone(self.config.tz).date()
        return today

    def reload(self, *_: object) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        keep = self.current_id()
        self.items = load_standup(self.store, self.config, self.scheme, self.clock())
        today = self.today()
        rows = []
        for item in self.items:
            if item.decision_due:
                day = Text(f"⚑ day {item.day}", style="bold")
            else:
                day = Text(f"day {item.day}")
            customers = ", ".join(f"{c.name} ({c.plan})" for c in item.customers) or "none known"
            if item.acknowledged_today(today):
                ack = Text("✓ today")
            elif item.acknowledged_on is not None:
                ack = Text(f"last {item.acknowledged_on:%a %d %b}")
            else:
                ack = Text("not yet")
            if item.decision_due:
                ack = Text.assemble(ack, " · decide")
            rows.append((item, day, customers, ack))
        # The issue's title takes what the other columns leave: nothing scrolls sideways.
        # The stand-up cell is never cut ("last Mon 30 Nov · decide" lost its "decide").
        width = self.size.width or 120
        customers_width = min(34, width // 4, max([16, *(len(r[2]) for r in rows)]))
        ack_width = min(24, max([18, *(r[3].cell_len for r in rows)]))
        fixed = 9 + customers_width + ack_width + 2 * 4 + 2
        issue_width = max(16, width - fixed)
        table.clear(columns=True)
        table.add_column("Issue", key="issue", width=issue_width)
        table.add_column("Day", key="day", width=9)
        table.add_column("Customers (plan)", key="customers", width=customers_width)
        table.add_column("Stand-up", key="ack", width=ack_width)
        for item, day, customers, ack in rows:
            table.add_row(
                Text(item.title, no_wrap=True, overflow="ellipsis"),
                day,
                Text(customers, no_wrap=True, overflow="ellipsis"),
                ack,
                key=str(item.ticket_id),
            )
        if keep is not None and str(keep) in {str(i.ticket_id) for i in self.items}:
            table.move_cursor(row=table.get_row_index(str(keep)))
        n = len(self.items)
        due = sum(1 for i in self.items if i.decision_due)
        self.query_one("#standup-title", Static).update(
            Text(
                f"Stand-up {today:%a %d %b %Y} · {n} bug{'s' if n != 1 else ''} under "
                f"investigation ({self.scheme.investigate})"
                + (f" · {due} to decide" if due else "")
            )
        )
        empty = self.query_one("#standup-empty", Static)
        empty.display = not self.items
        empty.update(
            Text(
                f"No bug carries {self.scheme.investigate}: nothing to review. Put a tracker "
                "bug under investigation with E (Escalate) on the queue."
            )
        )

    def current_id(self) -> int | None:
        table: DataTable[Text] = self.query_one(DataTable)
        if not self.items or table.cursor_row < 0 or table.cursor_row >= len(self.items):
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return int(key) if key is not None else None

    def _item(self) -> esc.StandupItem | None:
        tid = self.current_id()
        if tid is None:
            self.notify("No bug under investigation to act on.", severity="warning", timeout=3)
            return None
        return next((i for i in self.items if i.ticket_id == tid), None)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_acknowledge(self) -> None:
        """Queue the support manager's acknowledgement comment (once per stand-up day)."""
        item = self._item()
        if item is None:
            return
        today = self.today()
        name = self._ticket_name(item.ticket_id)
        if item.acknowledged_today(today):
            self.notify(f"{name} was already acknowledged today.", timeout=3, markup=False)
            return
        body = esc.ack_comment(self.config.escalation, item, today)
        ticket = self.store.tickets.get_ticket(item.ticket_id)
        if guard.needs_guard(ticket.source, OpKind.REPLY):
            hits = public_hits(self, ticket, {"comment": body})
            if hits:
                self.notify(
                    f"Not posted: the acknowledgement would name {hits[0].customer} on a "
                    "public issue. Change [escalation] ack_comment.",
                    severity="error",
                    markup=False,
                )
                return

        def ack() -> None:
            if not self.store.escalation.acknowledge(
                item.ticket_id, today, body, author=self.config.user
            ):
                raise ValueError(f"{name} was already acknowledged today.")

        self._guard(ack, message=f"{name}: acknowledgement queued")

    def action_decide(self) -> None:
        """The day-two decision: reproduced (product board) or not (back to QA)."""
        item = self._item()
        if item is None:
            return
        from oncall_tui.domain import labels as escalation

        s = self.scheme
        tid = item.ticket_id
        ref = self._ticket_name(tid)
        when = f"day {item.day}" if item.decision_due else f"day {item.day}, before the second day"
        options = [
            ("reproduced", f"Reproduced: to the product board (+{s.product} -{s.investigate})"),
            (
                "not_reproduced",
                f"Not reproduced: back to QA (+{s.incoming} +{s.reproduce} -{s.investigate})",
            ),
            ("keep", "Keep investigating"),
        ]
        transitions = {
            "reproduced": escalation.mark_reproduced,
            "not_reproduced": escalation.mark_not_reproduced,
        }

        def done(choice: str | None) -> None:
            if choice not in transitions:
                return
            ticket = self.store.tickets.get_ticket(tid)
            found = label_change(self, transitions[choice], ticket.labels, s)
            if found is None:
                return
            change, shown = found
            guarded_labels(
                self,
                ticket,
                list(change.add),
                lambda: self._guard(
                    self._decided, tid, change, message=f"{ref}: labels queued: {shown}"
                ),
                name=ref,
            )

        short = self._ticket_name(tid, subject=False)
        self.app.push_screen(ChoiceScreen(f"Decide on {short} ({when})", options), done)

    def _decided(self, tid: int, change: Any) -> None:
        with self.store.db.atomic():
            self._relabel(tid, change)
            timer = self.store.escalation.timebox_for(tid)
            if timer is not None:  # the investigation is over
                self.store.escalation.stop_timer(timer.id)

    def action_timebox(self) -> None:
        from oncall_tui.ui.screens.escalation_bar import toggle_timebox

        tid = self.current_id()
        if tid is not None:
            toggle_timebox(self, tid)


def open_standup(app: Any) -> None:
    """Push the stand-up (once)."""
    if isinstance(app.screen, StandupScreen):
        return
    ctx = app.ctx
    app.push_screen(StandupScreen(ctx.store, ctx.config, ctx.clock, app._templates()))
