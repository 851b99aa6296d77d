"""Why the queue's result is empty: what the explanation (``widgets.empty_state``) is told.

Loaded with the first empty result, not with the first frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from oncall_tui.domain.query import parse_query
from oncall_tui.ui.screens.hosts import StoreHost
from oncall_tui.ui.widgets.empty_state import BackendSync, EmptyContext, ViewCount

if TYPE_CHECKING:
    from oncall_tui.domain.query import Query


class EmptyHost(StoreHost, Protocol):
    """What explaining an empty result needs of its screen (the queue's)."""

    counts: list[int]
    _count_generation: int
    _explanation: tuple[int, int, list[tuple[int, int]]] | None

    @property
    def view_index(self) -> int: ...

    @property
    def filter_text(self) -> str: ...

    def query_now(self) -> Query: ...

    def _numbered(self, number: str) -> list[int]: ...


def empty_context(queue: EmptyHost) -> EmptyContext:
    """What the queue knows about its empty result: the views' counts, the filter, the
    tickets with the number typed, the first sync's outcome per backend."""
    views = tuple(
        ViewCount(i + 1, v.name, c)
        for i, (v, c) in enumerate(zip(queue.config.views, queue.counts, strict=False))
    )
    view = queue.config.views[queue.view_index]
    number = parse_query(queue.filter_text).ticket_number
    numbered: tuple[str, ...] = ()
    if number is not None:
        tickets = [queue.store.tickets.get_ticket(i) for i in queue._numbered(number)]
        numbered = tuple(f"“{t.subject}” ({t.status})" for t in tickets)
    has = queue.store.queue.has_tickets()
    app = queue.app
    ctx = getattr(app, "ctx", None)
    engine = getattr(app, "engine", None)
    backends: tuple[BackendSync, ...] = ()
    if not has and engine is not None:  # the first run: what each backend's sync did
        states = {s.backend: s for s in queue.store.sync_state.backend_states()}
        backends = tuple(
            BackendSync(
                name,
                synced=name in states and states[name].last_success_at is not None,
                error=states[name].last_error if name in states else None,
            )
            for name in engine.by_name
        )
    known = queue._explanation
    elsewhere = anywhere = None
    if known is not None and known[0] == queue._count_generation:
        anywhere = known[1]
        elsewhere = tuple(ViewCount(i + 1, queue.config.views[i].name, n) for i, n in known[2])
    return EmptyContext(
        has_tickets=has,
        view=ViewCount(queue.view_index + 1, view.name, 0),
        view_query=view.query,
        filter_text=queue.filter_text,
        problems=queue.query_now().problems,
        views=views,
        elsewhere=elsewhere,
        anywhere=anywhere,
        numbered=numbered,
        number=number,
        user=queue.config.user,
        config_path=ctx.paths.config if ctx is not None and not ctx.demo else None,
        demo=bool(ctx is not None and ctx.demo),
        backends=backends,
        syncing=bool(getattr(app, "syncing", False)),
        starting=engine is None and bool(getattr(app, "engine_pending", False)),
        history_days=queue.config.history_days,
    )
