"""The :class:`Store` facade: one object, one connection, every intent-named operation."""

from __future__ import annotations

from oncall_tui.store.drafts import DraftsMixin
from oncall_tui.store.escalation import EscalationMixin
from oncall_tui.store.handoff import HandoffMixin
from oncall_tui.store.queue import QueueMixin
from oncall_tui.store.remote import RemoteMixin
from oncall_tui.store.sync_state import SyncStateMixin
from oncall_tui.store.team import TeamMixin
from oncall_tui.store.watches import WatchesMixin


class Store(
    TeamMixin,
    EscalationMixin,
    HandoffMixin,
    RemoteMixin,
    QueueMixin,
    DraftsMixin,
    SyncStateMixin,
    WatchesMixin,
):
    """The local cache. Open it with :func:`oncall_tui.store.db.open_store`.

    One connection per thread: the UI keeps one on the main thread, the sync engine opens its
    own writer.
    """
