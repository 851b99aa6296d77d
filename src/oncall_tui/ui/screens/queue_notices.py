"""The queue telling of SLA crossings: a toast per ticket (a few per tick, then a count), a
desktop notification when configured, the bell.

Loaded with the first crossing, not with the first frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from oncall_tui.domain.tickets import ticket_title
from oncall_tui.ui.screens.hosts import StoreHost

if TYPE_CHECKING:
    from oncall_tui.ui.desktop_notify import DesktopNotifier


class NoticeHost(StoreHost, Protocol):
    """What announcing needs of its screen (the queue's): its notifier besides the store's."""

    @property
    def desktop(self) -> DesktopNotifier: ...


#: Toasts per tick; the rest are counted.
MAX_NOTIFICATIONS_PER_TICK = 3


def announce(queue: NoticeHost, crossings: list[tuple[int, str, str]]) -> None:
    """Tell of the tick's crossings: (ticket id, subject, state), ``"breached"`` or about to."""
    wanted = queue.config.notifications
    for number, (ticket_id, subject, state) in enumerate(crossings):
        verb = "breached its SLA" if state == "breached" else "is due within minutes"
        ticket = queue.store.tickets.get_ticket(ticket_id)  # by primary key: named as shown
        name = ticket_title(ticket.source, ticket.remote_id, subject, width=60)
        if wanted.breach if state == "breached" else wanted.about_to_breach:
            # Once per clock and state: a clock is the ticket's target until it is
            # answered (first response), then the next reply's.
            key = (ticket_id, state, ticket.sla_target, ticket.first_response_at)
            queue.desktop.send(key, f"Ticket {verb}", name)
        if number >= MAX_NOTIFICATIONS_PER_TICK:
            continue
        queue.notify(
            name,
            title=f"Ticket {verb}",
            severity="error" if state == "breached" else "warning",
            markup=False,
        )
    if len(crossings) > MAX_NOTIFICATIONS_PER_TICK:
        queue.notify(f"and {len(crossings) - MAX_NOTIFICATIONS_PER_TICK} more", markup=False)
    if crossings and queue.config.bell:
        queue.app.bell()
