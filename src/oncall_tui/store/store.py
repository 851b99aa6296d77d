"""The :class:`Store` facade: one object, one connection, every intent-named operation."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from oncall_tui.store.drafts import DraftsMixin
from oncall_tui.store.escalation import EscalationMixin
from oncall_tui.store.handoff import HandoffMixin
from oncall_tui.store.remote import RemoteMixin
from oncall_tui.store.team import TeamMixin

if TYPE_CHECKING:  # each part's module loads when the part is first used
    from oncall_tui.store.queue import Queue
    from oncall_tui.store.sync_state import SyncState
    from oncall_tui.store.watches import Watches


class Store(
    TeamMixin,
    EscalationMixin,
    HandoffMixin,
    RemoteMixin,
    DraftsMixin,
):
    """The local cache. Open it with :func:`oncall_tui.store.db.open_store`.

    One connection per thread: the UI keeps one on the main thread, the sync engine opens its
    own writer.
    """

    @cached_property
    def watches(self) -> Watches:
        from oncall_tui.store.watches import Watches

        return Watches(self)

    @cached_property
    def sync_state(self) -> SyncState:
        from oncall_tui.store.sync_state import SyncState

        return SyncState(self)

    @cached_property
    def queue(self) -> Queue:
        from oncall_tui.store.queue import Queue

        return Queue(self)
