"""What the detail of one ticket shows, read from the store.

Both screens that show a ticket's detail use it: the queue (beside the list, on wide
terminals) and the full-screen :class:`~oncall_tui.ui.screens.detail_screen.DetailScreen`.
It lives apart from both so neither screen imports the other for it (the queue opens the
detail screen; the detail screen knows the queue only as the object that made it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from oncall_tui.store import Store
from oncall_tui.ui.widgets.ticket_detail import DetailData

if TYPE_CHECKING:
    from oncall_tui.domain.runbooks import Runbook  # PyYAML: not on the start-up path


def load_detail(
    store: Store, ticket_id: int, runbooks: Mapping[str, Runbook] | None = None
) -> DetailData:
    """Everything the detail shows for one ticket (a handful of indexed queries)."""
    from oncall_tui.ui.screens.runbook_cache import progress_lines

    ticket = store.tickets.get_ticket(ticket_id)
    failed = [f"{op.kind}: {op.error}" for op in store.outbox.ops(("failed",), ticket_id=ticket_id)]  # type: ignore[arg-type]
    return DetailData(
        ticket=ticket,
        customer=store.tickets.get_customer(ticket.customer_id),
        comments=store.tickets.comments(ticket_id),
        links=store.tickets.links(ticket_id),
        runbooks=progress_lines(store.tickets.runbook_progress(ticket_id), runbooks or {}),
        failed=failed,
        conflicts=store.remote.conflicts(ticket_id),
        waiting_until=store.outbox.waiting(store.clock()).get(ticket_id),
        not_refreshed_since=store.remote.not_refreshed_since(ticket_id),
    )
