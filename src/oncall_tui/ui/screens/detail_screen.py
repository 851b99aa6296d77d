"""DetailScreen: one ticket full-screen (narrow terminals), with the ticket actions."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from oncall_tui.ui.screens.detail_loader import load_detail
from oncall_tui.ui.screens.escalation_bar import EscalationBar
from oncall_tui.ui.screens.ticket_actions import TICKET_BINDINGS, TicketActions
from oncall_tui.ui.widgets.key_bar import KeyBar
from oncall_tui.ui.widgets.status_bar import StatusBar
from oncall_tui.ui.widgets.ticket_detail import TicketDetail


class DetailScreen(TicketActions, Screen[None]):
    """The detail of one ticket; `q` or escape goes back to the queue."""

    BINDINGS = [
        Binding("escape,q", "back", "Back", id="back"),
        Binding("right_square_bracket", "next_ticket", "Next", id="next-ticket"),
        Binding("left_square_bracket", "previous_ticket", "Previous", id="previous-ticket"),
        *TICKET_BINDINGS,
    ]

    def __init__(self, queue: Any, ticket_id: int) -> None:
        super().__init__()
        self.queue = queue
        self.store = queue.store
        self.config = queue.config
        self.clock = queue.clock
        self.templates = queue.templates
        self.ticket_id = ticket_id
        self.index: int | None = None
        """Where the ticket stood in the queue's result when last seen there."""

    def compose(self) -> ComposeResult:
        yield StatusBar(self.config.sla)
        yield TicketDetail(id="detail")
        yield EscalationBar(id="escalation-bar")
        yield KeyBar()

    def on_mount(self) -> None:
        self.watch(self.app, "store_revision", self.reload, init=False)
        self.set_interval(1.0, self.tick)
        self.reload()
        self.tick()
        self.query_one(TicketDetail).focus()

    def current_id(self) -> int | None:
        return self.ticket_id

    def reload(self, *_: object) -> None:
        from oncall_tui.ui.screens.runbook_cache import runbook_cache

        runbooks = runbook_cache(self.app.ctx).by_slug()
        data = load_detail(self.store, self.ticket_id, runbooks)
        self.query_one(TicketDetail).show(data, self.clock(), self.config.sla)

    def tick(self) -> None:
        now = self.clock()
        self.query_one(StatusBar).now = now
        self.query_one(TicketDetail).refresh_sla(now)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next_ticket(self) -> None:
        self._step(1)

    def action_previous_ticket(self) -> None:
        self._step(-1)

    def _step(self, step: int) -> None:
        """The next (previous) ticket of the queue's view, filter and order, by identity:
        after the one shown, wherever it is now; if it left the view (closed, reassigned),
        the one that took its place."""
        found = self.queue.neighbour(self.ticket_id, step, self.index)
        if found is None:
            edge = "last" if step > 0 else "first"
            self.notify(f"This is the {edge} ticket of the queue's view.", timeout=3)
            return
        self.ticket_id, self.index = found
        self.reload()
        self.query_one(TicketDetail).scroll_home(animate=False)
