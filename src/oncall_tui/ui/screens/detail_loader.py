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

    ticket = store.get_ticket(ticket_id)
    failed = [f"{op.kind}: {op.error}" for op in store.ops(("failed",), ticket_id=ticket_id)]  # type: ignore[arg-type]
    return DetailData(
        ticket=ticket,
        customer=store.get_customer(ticket.customer_id),
        comments=store.comments(ticket_id),
        links=store.links(ticket_id),
        runbooks=progress_lines(store.runbook_progress(ticket_id), runbooks or {}),
        failed=failed,
        conflicts=store.conflicts(ticket_id),
        waiting_until=store.waiting(store.clock()).get(ticket_id),
        not_refreshed_since=store.not_refreshed_since(ticket_id),
    )
