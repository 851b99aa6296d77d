"""The :class:`Store`: one connection, and the parts that speak SQL over it.

Each part owns its tables' SQL and is handed, in its constructor, the few other parts it
uses (it never reaches the rest)::

    watches      Watches(shared)                                 watched tickets
    sync_state   SyncState(shared)                               cursors, outcomes, sync log
    queue        Queue(shared)                                   queue windows and counts
    drafts       Drafts(shared)                                  drafts
    team         Team(shared)                                    removals, the relay's queue
    outbox       Outbox(shared, sla_changed=tickets' recompute)  claiming and settling entries
    tickets      Tickets(shared, outbox)                         tickets, customers, comments
    remote       Remote(shared, tickets, outbox, team)           pulled pages, confirmations
    escalation   Escalation(shared, tickets, drafts, outbox)     stand-up, time-boxes, outages
    handoff      Handoffs(shared, outbox, drafts)                the on-call week's handoff

A part is built the first time it is used (its module is imported then, not at start).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.sla import SlaSettings
from oncall_tui.store.base import FromShared, Shared
from oncall_tui.store.db import Database

if TYPE_CHECKING:  # each part's module loads when the part is first used
    from oncall_tui.store.drafts import Drafts
    from oncall_tui.store.escalation import Escalation
    from oncall_tui.store.handoff import Handoffs
    from oncall_tui.store.outbox import Outbox
    from oncall_tui.store.queue import Queue
    from oncall_tui.store.remote import Remote
    from oncall_tui.store.sync_state import SyncState
    from oncall_tui.store.team import Team
    from oncall_tui.store.tickets import Tickets
    from oncall_tui.store.watches import Watches


#: The sync engine's connection's page cache (KiB): see :meth:`Store.use_writer_cache`.
WRITER_CACHE_KIB = 32 * 1024


class Store:
    """The local cache. Open it with :func:`oncall_tui.store.open_store`.

    One connection per thread: the UI keeps one on the main thread, the sync engine opens its
    own writer.
    """

    def __init__(self, db: Database, *, sla: SlaSettings, clock: Clock, path: Path) -> None:
        self.shared = Shared(db, sla=sla, clock=clock, path=path)

    # ---- what the parts share ------------------------------------------------------------

    db: FromShared[Database] = FromShared()
    path: FromShared[Path] = FromShared()
    sla: FromShared[SlaSettings] = FromShared()
    clock: FromShared[Clock] = FromShared(writable=True)
    undo_seconds: FromShared[float] = FromShared(writable=True)
    """How long an entry queued through this connection waits before it may be sent."""
    damage_notes: FromShared[list[str]] = FromShared()
    """Damaged rows left out of lists so far (each also noted once in the sync log)."""

    def now(self) -> str:
        """The clock's now as stored text."""
        return self.shared.now()

    def close(self) -> None:
        """Close the connection."""
        self.shared.close()

    def use_writer_cache(self) -> None:
        """Give this connection the page cache of a bulk writer (:data:`WRITER_CACHE_KIB`).

        A first sync inserts into a table with many indexes, each insert touching a leaf of
        every one; with SQLite's default 2 MiB cache those leaves are read back from the OS
        for each page of tickets (100,000 inserts: 20.7 s with the default, 15.5 s with
        16 MiB, in one measurement). The cache is only filled as pages are used, so an
        idle engine's connection stays small.
        """
        self.db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")

    # ---- the parts -----------------------------------------------------------------------

    @cached_property
    def watches(self) -> Watches:
        from oncall_tui.store.watches import Watches

        return Watches(self.shared)

    @cached_property
    def sync_state(self) -> SyncState:
        from oncall_tui.store.sync_state import SyncState

        return SyncState(self.shared)

    @cached_property
    def queue(self) -> Queue:
        from oncall_tui.store.queue import Queue

        return Queue(self.shared)

    @cached_property
    def drafts(self) -> Drafts:
        from oncall_tui.store.drafts import Drafts

        return Drafts(self.shared)

    @cached_property
    def team(self) -> Team:
        from oncall_tui.store.team import Team

        return Team(self.shared)

    @cached_property
    def outbox(self) -> Outbox:
        from oncall_tui.store.outbox import Outbox

        return Outbox(self.shared, sla_changed=self._recompute_sla)

    def _recompute_sla(self, ticket_id: int) -> None:
        self.tickets.recompute_sla([ticket_id])

    @cached_property
    def tickets(self) -> Tickets:
        from oncall_tui.store.tickets import Tickets

        return Tickets(self.shared, outbox=self.outbox)

    @cached_property
    def remote(self) -> Remote:
        from oncall_tui.store.remote import Remote

        return Remote(self.shared, tickets=self.tickets, outbox=self.outbox, team=self.team)

    @cached_property
    def escalation(self) -> Escalation:
        from oncall_tui.store.escalation import Escalation

        return Escalation(self.shared, tickets=self.tickets, drafts=self.drafts, outbox=self.outbox)

    @cached_property
    def handoff(self) -> Handoffs:
        from oncall_tui.store.handoff import Handoffs

        return Handoffs(self.shared, outbox=self.outbox, drafts=self.drafts)
