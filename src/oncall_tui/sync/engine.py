"""The sync engine: drains the outbox, then pulls each backend, through its own connection.

``run_once`` never raises for a backend's trouble: each backend's outcome is recorded in the
report and in ``sync_state``, and one failing backend does not stop the others.

Outbox entries are marked in flight before they are sent. An entry found in flight at the
start of a pass had an unclear outcome (timeout, reset, or the process was killed mid-push):
the backend is asked (``lookup``) whether it was applied before anything is sent again, so
nothing is applied twice and nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from oncall_tui.clock import Clock
from oncall_tui.domain.ops import Op, OpKind, OpState
from oncall_tui.domain.tickets import Source
from oncall_tui.store import Store
from oncall_tui.sync.base import (
    AuthFailed,
    Backend,
    BackendUnavailable,
    BadPayload,
    Page,
    PushResult,
    RateLimited,
    Rejected,
    SyncError,
)

#: Pages pulled per backend per pass; the rest continues in the next pass.
MAX_PAGES_PER_PASS = 50
MAX_BACKOFF = 300.0
#: A budget wait up to this long happens inside a pass (longer ones resume in a later pass).
MAX_INLINE_WAIT = 15.0


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: ~1 s, 2 s, 4 s ... capped at five minutes."""
    base = min(MAX_BACKOFF, 2.0 ** max(attempts - 1, 0))
    return base * (0.5 + (rng or random).random())


@dataclass
class BackendOutcome:
    """What one pass did with one backend."""

    name: str
    pulled: int = 0
    pushed: int = 0
    failed: int = 0
    error: str | None = None
    waiting: float | None = None
    more: bool = False
    """The pass stopped at MAX_PAGES_PER_PASS with pages still to pull."""
    skipped: int = 0
    """Records set aside as unreadable (their pages were applied without them)."""


@dataclass
class SyncReport:
    """The result of one pass."""

    changed_ids: set[int] = field(default_factory=set)
    outcomes: dict[str, BackendOutcome] = field(default_factory=dict)

    @property
    def more(self) -> bool:
        """A backend has pages left that nothing stops us from pulling now (a first sync)."""
        return any(o.more and o.error is None for o in self.outcomes.values())

    @property
    def ok(self) -> bool:
        """True when no backend reported an error."""
        return all(o.error is None for o in self.outcomes.values())

    def summary(self) -> str:
        """One line per backend."""
        lines = []
        for o in self.outcomes.values():
            state = f"error: {o.error}" if o.error else "ok"
            wait = f", rate limited: waiting {o.waiting:.0f}s" if o.waiting else ""
            skipped = f", skipped {o.skipped} unreadable (see the sync log)" if o.skipped else ""
            lines.append(
                f"{o.name}: {state}; pulled {o.pulled}, pushed {o.pushed}, failed {o.failed}"
                f"{skipped}{wait}"
            )
        return "\n".join(lines) or "no backends configured (local only)"


class SyncEngine:
    """Drains the outbox and pulls changes, one pass at a time."""

    def __init__(
        self,
        store: Store,
        backends: Sequence[Backend],
        clock: Clock,
        *,
        progress: Callable[[str], None] | None = None,
        rng: random.Random | None = None,
        between_passes: Callable[[], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.backends = {b.source: b for b in backends}
        self.by_name = {b.name: b for b in backends}
        self.clock = clock
        self.progress = progress or (lambda text: None)
        self.rng = rng or random.Random()
        self._lock = asyncio.Lock()
        self._blocked_until: dict[str, float] = {}
        self.between_passes = between_passes
        self.sleep = sleep
        self.passes = 0

    async def _db(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Run a store call off the event loop (its connection allows one call at a time)."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def run_once(self) -> SyncReport:
        """One pass: push due outbox entries, then pull each backend."""
        async with self._lock:
            if self.passes and self.between_passes is not None:
                self.between_passes()
            self.passes += 1
            report = SyncReport()
            for backend in self.by_name.values():
                report.outcomes[backend.name] = BackendOutcome(backend.name)
            await self._drain(report)
            for backend in self.by_name.values():
                await self._pull(backend, report)
            for outcome in report.outcomes.values():
                await self._db(self.store.record_outcome, outcome.name, outcome.error)
            return report

    async def push_once(self) -> SyncReport:
        """Only drain the outbox (no pull): the relay sends its automation's entries."""
        async with self._lock:
            report = SyncReport()
            for backend in self.by_name.values():
                report.outcomes[backend.name] = BackendOutcome(backend.name)
            await self._drain(report)
            return report

    # ---- search ------------------------------------------------------------------------------

    async def search_tracker(self, query: str) -> set[int]:
        """Live search of the tracker (the bug report's "search first"); results are cached.

        Returns the ids of cached tickets that changed. Never raises for a backend's trouble:
        offline, the local cache is all there is.
        """
        changed: set[int] = set()
        for backend in self.by_name.values():
            search = getattr(backend, "search_issues", None)
            if backend.source != Source.TRACKER or search is None or self._blocked(backend.name):
                continue
            try:
                found = await search(query)
            except SyncError as exc:
                await self._db(self.store.log, backend.name, "info", f"live search: {exc}")
                continue
            changed |= await self._db(self.store.apply_records, backend.name, found)
        return changed

    # ---- push ----------------------------------------------------------------------------------

    def _blocked(self, name: str) -> bool:
        until = self._blocked_until.get(name)
        return until is not None and self.clock().timestamp() < until

    async def _drain(self, report: SyncReport) -> None:
        skipped: set[str] = set()
        while True:
            ops = await self._db(self.store.due_ops, self.clock())
            ops = [
                op
                for op in ops
                if self.backends.get(op.source) is not None
                # team mode without the member's own sign-in: the change waits for one
                and getattr(self.backends[op.source], "can_push", True)
                and self.backends[op.source].name not in skipped
                and not self._blocked(self.backends[op.source].name)
            ]
            if not ops:
                return
            for op in ops:
                backend = self.backends[op.source]
                outcome = report.outcomes[backend.name]
                self.progress(f"{backend.name}: sending {op.kind.replace('_', ' ')}")
                stop = await self._push_one(backend, op, outcome, report)
                if stop:
                    skipped.add(backend.name)
                    break

    async def _push_one(
        self, backend: Backend, op: Op, outcome: BackendOutcome, report: SyncReport
    ) -> bool:
        """Push one entry; True means stop pushing to this backend for this pass."""
        assert op.id is not None
        try:
            result: PushResult | None = None
            if op.state == OpState.INFLIGHT:
                result = await backend.lookup(op)
            if result is None:
                await self._db(self.store.mark_inflight, op.id)
                result = await backend.push(op)
        except Rejected as exc:
            await self._db(self.store.mark_failed, op.id, str(exc))
            await self._db(self.store.log, backend.name, "error", f"{op.kind} refused: {exc}")
            outcome.failed += 1
            if op.ticket_id is not None:
                report.changed_ids.add(op.ticket_id)
            return False
        except RateLimited as exc:
            await self._db(
                self.store.mark_retry, op.id, timedelta(seconds=exc.retry_after), str(exc)
            )
            self._blocked_until[backend.name] = self.clock().timestamp() + exc.retry_after
            outcome.waiting = exc.retry_after
            await self._db(
                self.store.log,
                backend.name,
                "warning",
                f"rate limited: waiting {exc.retry_after:.0f}s before sending more",
            )
            return True
        except AuthFailed as exc:
            await self._db(self.store.mark_retry, op.id, timedelta(seconds=60), str(exc))
            outcome.error = f"sign-in needed: {exc}"
            return True
        except (BackendUnavailable, BadPayload) as exc:
            delay = timedelta(seconds=backoff(op.attempts + 1, self.rng))
            # The request may or may not have reached the backend: stay in flight so the
            # next attempt looks it up before sending again.
            await self._db(self.store.mark_unclear, op.id, delay, str(exc))
            outcome.error = str(exc)
            return True
        except SyncError as exc:  # pragma: no cover - the tree above is complete
            await self._db(self.store.mark_failed, op.id, str(exc))
            outcome.failed += 1
            return False
        comment_id = result.comment.remote_id if result.comment else None
        remote_id = comment_id if op.kind in (OpKind.REPLY, OpKind.NOTE) else result.remote_id
        await self._db(
            self.store.settle_op,
            op.id,
            remote_id=remote_id,
            version=result.version,
            url=result.url,
            ticket=result.ticket,
            backend=backend.name,
        )
        outcome.pushed += 1
        if op.ticket_id is not None:
            report.changed_ids.add(op.ticket_id)
        return False

    # ---- pull ----------------------------------------------------------------------------------

    async def _pull(self, backend: Backend, report: SyncReport) -> None:
        outcome = report.outcomes[backend.name]
        if outcome.error or self._blocked(backend.name):
            return
        cursor = await self._db(self.store.cursor, backend.name)
        self.progress(f"{backend.name}: pulling")
        fetching: asyncio.Future[Page] | None = asyncio.ensure_future(backend.fetch_changes(cursor))
        try:
            for n in range(MAX_PAGES_PER_PASS):
                assert fetching is not None
                try:
                    page = await fetching
                except RateLimited as exc:
                    self._blocked_until[backend.name] = self.clock().timestamp() + exc.retry_after
                    outcome.waiting = exc.retry_after
                    await self._db(
                        self.store.log,
                        backend.name,
                        "warning",
                        f"rate limited: next pull in {exc.retry_after:.0f}s",
                    )
                    return
                except SyncError as exc:
                    outcome.error = str(exc)
                    await self._db(self.store.log, backend.name, "error", f"pull failed: {exc}")
                    return
                fetching = None
                if not page.done and not page.wait_hint and n + 1 < MAX_PAGES_PER_PASS:
                    # Ask for the next page while this one is written: the network and the
                    # backend's work overlap with SQLite's. Nothing is stored until a page is
                    # written with its cursor, so an unused answer is simply asked again.
                    fetching = asyncio.ensure_future(backend.fetch_changes(page.cursor))
                changed = await self._db(self.store.apply_page, backend.name, page)
                report.changed_ids |= changed
                outcome.pulled += len(page.tickets)
                outcome.skipped += len(page.quarantined)
                if page.done:
                    return
                if page.wait_hint:
                    # The backend's budget (e.g. the help desk's ~10 export requests a minute).
                    if page.wait_hint > MAX_INLINE_WAIT:
                        until = self.clock().timestamp() + page.wait_hint
                        self._blocked_until[backend.name] = until
                        outcome.waiting = page.wait_hint
                        await self._db(
                            self.store.log,
                            backend.name,
                            "info",
                            f"request budget: next page in {page.wait_hint:.0f}s",
                        )
                        return
                    self.progress(
                        f"{backend.name}: request budget, next page in {page.wait_hint:.0f}s"
                    )
                    await self.sleep(page.wait_hint)
                # Local edits made meanwhile go out between pages, not after a long first sync.
                await self._drain(report)
                if fetching is None and n + 1 < MAX_PAGES_PER_PASS:
                    self.progress(f"{backend.name}: pulling")
                    fetching = asyncio.ensure_future(backend.fetch_changes(page.cursor))
            outcome.more = True  # the page cap bounds one pass, not the sync: go on at once
        finally:
            if fetching is not None:  # a pass that ended early drops its read-ahead
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetching
