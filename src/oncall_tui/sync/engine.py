"""The sync engine: drains the outbox, then pulls each backend, through its own connection.

``run_once`` never raises for a backend's trouble: each backend's outcome is recorded in the
report and in ``sync_state``, and one failing backend does not stop the others.

Several engines (the app, ``sync --loop``, a second instance) may drain one outbox. Each
entry is *claimed* before it is sent (``Store.outbox.claim_due``: one transaction moves it to in
flight with this engine's id and a lease), so no two engines send it. An entry claimed while
in flight had an unclear outcome (a lost answer, or a claimer killed mid-push whose lease ran
out): the backend is asked (``lookup``) whether it was applied before anything is sent again,
and any trouble during that look-up keeps it unclear, never pending. A push never outlives
half its lease, so a live claimer's entry is never taken for a dead one's.

A pass never raises: an unexpected error (a database locked by another process for longer
than the busy timeout, a full disk) is reported in the pass's report and the sync log, and
the next pass starts afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import ParamSpec, TypeVar

from oncall_tui.domain.clock import Clock
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
    clamp_wait,
)

P = ParamSpec("P")
T = TypeVar("T")

#: Pages pulled per backend per pass; the rest continues in the next pass.
MAX_PAGES_PER_PASS = 50
#: Pages that arrived while the ones before were written are written together, this many at
#: most in one transaction: a first sync's 1,000-ticket pages then write each index leaf and
#: full-text segment once for several pages, not once per page (100,000 tickets: 98.8 s
#: instead of 104.8 s, bench sync). The cost: a UI edit made meanwhile may wait for up to
#: four pages' writes (~1 s on the 2-core bench machine) instead of one; pages that arrive
#: slower than they are written still go one by one.
WRITE_BATCH = 4
MAX_BACKOFF = 300.0
#: A budget wait up to this long happens inside a pass (longer ones resume in a later pass).
MAX_INLINE_WAIT = 15.0
#: How long a claim on an outbox entry holds; a push gives up (unclear) after half of it.
DEFAULT_LEASE = timedelta(minutes=10)


def new_claimer() -> str:
    """An engine's claimer id: host, process id and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def claimer_is_dead(claimer: str) -> bool:
    """True only when ``claimer`` was a process on this machine that no longer exists.

    Anything unsure (another host, a pid that exists again, an id of another form) is
    alive: its lease then runs out on its own.
    """
    host, _, rest = claimer.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: it exists, as another user's
        return False
    return False


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
    trouble: list[str] = field(default_factory=list)
    """Unexpected errors of the pass (not a backend's answer): a locked or full database..."""

    @property
    def more(self) -> bool:
        """A backend has pages left that nothing stops us from pulling now (a first sync)."""
        return any(o.more and o.error is None for o in self.outcomes.values())

    @property
    def ok(self) -> bool:
        """True when no backend reported an error and nothing unexpected went wrong."""
        return not self.trouble and all(o.error is None for o in self.outcomes.values())

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
        lines.extend(f"sync: error: {text}" for text in self.trouble)
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
        claimer: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.store = store
        store.use_writer_cache()  # a first sync writes every index of every page of tickets
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
        self.claimer = claimer or new_claimer()
        """Who this engine is when it claims outbox entries."""
        self.lease = lease

    async def _db(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store call off the event loop (its connection allows one call at a time)."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def run_once(self) -> SyncReport:
        """One pass: push due outbox entries, then pull each backend."""
        async with self._lock:
            report = SyncReport()
            if self.passes and self.between_passes is not None:
                try:
                    self.between_passes()
                except Exception as exc:  # noqa: BLE001 - a pass never dies
                    await self._trouble(report, "before the pass", exc)
            self.passes += 1
            await self._send(report)
            for backend in self.by_name.values():
                try:
                    await self._pull(backend, report)
                except Exception as exc:  # noqa: BLE001 - one backend's trouble is its own
                    report.outcomes[backend.name].error = describe_error(exc)
                    await self._trouble(report, f"{backend.name}: pulling", exc)
            for outcome in report.outcomes.values():
                try:
                    await self._db(
                        self.store.sync_state.record_outcome, outcome.name, outcome.error
                    )
                except Exception as exc:  # noqa: BLE001 - e.g. the database is locked
                    await self._trouble(report, "recording the outcome", exc)
                    break
            return report

    async def _trouble(self, report: SyncReport, doing: str, exc: BaseException) -> None:
        """Report an unexpected error of a pass (and log it, if the database lets us)."""
        text = f"{doing}: {describe_error(exc)}"
        report.trouble.append(text)
        with contextlib.suppress(Exception):
            await self._db(self.store.sync_state.log, "sync", "error", f"pass failed while {text}")

    async def push_once(self) -> SyncReport:
        """Only drain the outbox (no pull): the relay sends its automation's entries."""
        async with self._lock:
            report = SyncReport()
            await self._send(report)
            return report

    async def _send(self, report: SyncReport) -> None:
        """Start each backend's outcome in ``report`` and send the due outbox entries; an
        unexpected error is the pass's trouble, never its end."""
        for backend in self.by_name.values():
            report.outcomes[backend.name] = BackendOutcome(backend.name)
        try:
            await self._drain(report)
        except Exception as exc:  # noqa: BLE001 - a pass never dies
            await self._trouble(report, "sending", exc)

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
                await self._db(
                    self.store.sync_state.log, backend.name, "info", f"live search: {exc}"
                )
                continue
            changed |= await self._db(self.store.remote.apply_records, backend.name, found)
        return changed

    # ---- push ----------------------------------------------------------------------------------

    def lift_waits(self) -> None:
        """Forget every backend's server-sent wait (the user chose to send a change now)."""
        self._blocked_until.clear()

    def _blocked(self, name: str) -> bool:
        until = self._blocked_until.get(name)
        return until is not None and self.clock().timestamp() < until

    async def _drain(self, report: SyncReport) -> None:
        skipped: set[str] = set()
        # A claimer killed mid-send on this machine: its entries need not wait out the lease.
        for claimer in await self._db(self.store.outbox.live_claimers, self.clock()):
            if claimer != self.claimer and claimer_is_dead(claimer):
                await self._db(self.store.outbox.end_leases, claimer)
        while True:
            sources = [
                str(source)
                for source, backend in self.backends.items()
                # team mode without the member's own sign-in: the change waits for one
                if getattr(backend, "can_push", True)
                and backend.name not in skipped
                and not self._blocked(backend.name)
            ]
            if not sources:
                return
            claimed = await self._db(
                self.store.outbox.claim_due, self.clock(), self.claimer, self.lease, sources=sources
            )
            if not claimed:
                return
            for op in claimed:
                backend = self.backends[op.source]
                outcome = report.outcomes[backend.name]
                self.progress(f"{backend.name}: sending {op.kind.replace('_', ' ')}")
                try:
                    stop = await self._push_one(backend, op, outcome, report)
                except BaseException:
                    # Whatever happened (the database, a cancel), the entry may have gone
                    # out: it stays unclear, released for the next pass to look up.
                    assert op.id is not None
                    with contextlib.suppress(Exception):
                        await self._db(
                            self.store.outbox.mark_unclear,
                            op.id,
                            timedelta(seconds=backoff(op.attempts + 1, self.rng)),
                            "interrupted while sending",
                            self.claimer,
                        )
                    raise
                if stop:
                    skipped.add(backend.name)
                    break

    async def _push_one(
        self, backend: Backend, op: Op, outcome: BackendOutcome, report: SyncReport
    ) -> bool:
        """Push one claimed entry; True means stop pushing to this backend for this pass."""
        assert op.id is not None
        me = self.claimer
        budget = self.lease.total_seconds() / 2
        result: PushResult | None = None
        if op.state == OpState.INFLIGHT:  # unclear: did it happen? Ask before any resend
            taken = await self._db(self.store.outbox.taken_comment_ids, op)
            try:
                async with asyncio.timeout(budget):
                    result = await backend.lookup(op, taken)
            except (SyncError, TimeoutError) as exc:
                return await self._lookup_failed(backend, op, outcome, exc)
        try:
            if result is None:
                if not await self._db(self.store.outbox.mark_inflight, op.id, me):
                    return False  # the claim is gone (settled or taken over): not ours
                async with asyncio.timeout(budget):
                    result = await backend.push(op)
        except Rejected as exc:
            await self._db(self.store.outbox.mark_failed, op.id, str(exc), me)
            await self._db(
                self.store.sync_state.log, backend.name, "error", f"{op.kind} refused: {exc}"
            )
            outcome.failed += 1
            if op.ticket_id is not None:
                report.changed_ids.add(op.ticket_id)
            return False
        except RateLimited as exc:
            wait = clamp_wait(exc.retry_after)
            await self._db(
                self.store.outbox.mark_retry, op.id, timedelta(seconds=wait), str(exc), me
            )
            self._block(backend.name, wait, outcome)
            await self._db(
                self.store.sync_state.log,
                backend.name,
                "warning",
                f"rate limited: waiting {wait:.0f}s before sending more",
            )
            return True
        except AuthFailed as exc:
            await self._db(self.store.outbox.mark_retry, op.id, timedelta(seconds=60), str(exc), me)
            outcome.error = f"sign-in needed: {exc}"
            return True
        except (BackendUnavailable, BadPayload, TimeoutError) as exc:
            delay = timedelta(seconds=backoff(op.attempts + 1, self.rng))
            # The request may or may not have reached the backend: stay in flight so the
            # next attempt looks it up before sending again.
            text = str(exc) or f"{backend.name}: no answer within {budget:.0f}s"
            await self._db(self.store.outbox.mark_unclear, op.id, delay, text, me)
            outcome.error = text
            return True
        except SyncError as exc:  # pragma: no cover - the tree above is complete
            await self._db(self.store.outbox.mark_failed, op.id, str(exc), me)
            outcome.failed += 1
            return False
        comment_id = result.comment.remote_id if result.comment else None
        remote_id = comment_id if op.kind in (OpKind.REPLY, OpKind.NOTE) else result.remote_id
        await self._db(
            self.store.remote.settle_op,
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

    async def _lookup_failed(
        self, backend: Backend, op: Op, outcome: BackendOutcome, exc: BaseException
    ) -> bool:
        """The look-up of an unclear send failed: it stays unclear (never pending), so the
        next attempt asks again before anything is sent."""
        assert op.id is not None
        if isinstance(exc, RateLimited):
            wait = clamp_wait(exc.retry_after)
            self._block(backend.name, wait, outcome)
        else:
            wait = backoff(op.attempts + 1, self.rng)
            outcome.error = (
                f"sign-in needed: {exc}" if isinstance(exc, AuthFailed) else describe_error(exc)
            )
        text = f"looking up an unclear {op.kind.replace('_', ' ')} failed: {describe_error(exc)}"
        await self._db(
            self.store.outbox.mark_unclear, op.id, timedelta(seconds=wait), text, self.claimer
        )
        await self._db(
            self.store.sync_state.log, backend.name, "warning", f"{text}; asking again later"
        )
        return True

    def _block(self, name: str, wait: float, outcome: BackendOutcome) -> None:
        self._blocked_until[name] = self.clock().timestamp() + wait
        outcome.waiting = wait

    # ---- pull ----------------------------------------------------------------------------------

    async def _pull(self, backend: Backend, report: SyncReport) -> None:
        outcome = report.outcomes[backend.name]
        if outcome.error or self._blocked(backend.name):
            return
        cursor = await self._db(self.store.sync_state.cursor, backend.name)
        self.progress(f"{backend.name}: pulling")
        # The next pages are asked for while the last ones are written: the network and the
        # backend's work overlap with SQLite's. Nothing is stored until a page is written
        # with its cursor, so an unused answer is simply asked again.
        ahead = _PagesAhead(backend, cursor, limit=MAX_PAGES_PER_PASS)
        taken = 0
        try:
            while taken < MAX_PAGES_PER_PASS:
                try:
                    batch = await ahead.take()
                except RateLimited as exc:
                    wait = clamp_wait(exc.retry_after)
                    self._block(backend.name, wait, outcome)
                    await self._db(
                        self.store.sync_state.log,
                        backend.name,
                        "warning",
                        f"rate limited: next pull in {wait:.0f}s",
                    )
                    return
                except SyncError as exc:
                    outcome.error = str(exc)
                    await self._db(
                        self.store.sync_state.log, backend.name, "error", f"pull failed: {exc}"
                    )
                    return
                taken += len(batch)
                changed = await self._db(self.store.remote.apply_pages, backend.name, batch)
                report.changed_ids |= changed
                outcome.pulled += sum(len(page.tickets) for page in batch)
                outcome.skipped += sum(len(page.quarantined) for page in batch)
                page = batch[-1]  # a page that ends a stream or asks to wait comes last
                if page.done:
                    return
                if page.wait_hint:
                    # The backend's budget (e.g. the help desk's ~10 export requests a minute).
                    hint = clamp_wait(page.wait_hint)
                    if hint > MAX_INLINE_WAIT:
                        self._block(backend.name, hint, outcome)
                        await self._db(
                            self.store.sync_state.log,
                            backend.name,
                            "info",
                            f"request budget: next page in {hint:.0f}s",
                        )
                        return
                    self.progress(f"{backend.name}: request budget, next page in {hint:.0f}s")
                    await self.sleep(hint)
                # Local edits made meanwhile go out between pages, not after a long first sync.
                await self._drain(report)
                if page.wait_hint and taken < MAX_PAGES_PER_PASS:
                    self.progress(f"{backend.name}: pulling")
                    await ahead.close()
                    ahead = _PagesAhead(backend, page.cursor, limit=MAX_PAGES_PER_PASS - taken)
            outcome.more = True  # the page cap bounds one pass, not the sync: go on at once
        finally:
            await ahead.close()  # a pass that ended early drops its read-ahead


class _PagesAhead:
    """A backend's next pages, each asked for as soon as the one before arrived, at most
    :data:`WRITE_BATCH` of them waiting to be written; up to ``limit`` pages, ending after a
    page that is the stream's last or asks to wait (its cursor is then the caller's to go on
    from). A failed request ends it too: its error is raised by :meth:`take` once the pages
    before it were taken."""

    def __init__(self, backend: Backend, cursor: str | None, *, limit: int) -> None:
        self._backend = backend
        self._ready: asyncio.Queue[Page | Exception] = asyncio.Queue(maxsize=WRITE_BATCH)
        self._held: Page | Exception | None = None
        self._task = asyncio.ensure_future(self._fetch(cursor, limit))

    async def _fetch(self, cursor: str | None, limit: int) -> None:
        for _ in range(limit):
            try:
                page = await self._backend.fetch_changes(cursor)
            except Exception as exc:  # noqa: BLE001 - handed to the writer, in order
                await self._ready.put(exc)
                return
            await self._ready.put(page)
            if page.done or page.wait_hint:
                return
            cursor = page.cursor

    async def _next(self) -> Page | Exception:
        """The next page or error, waited for. A request cancelled from inside (not by
        :meth:`close`) ends the asking without either: that is an error of the pull, not a
        wait forever."""
        if self._held is not None:
            item, self._held = self._held, None
            return item
        getter = asyncio.ensure_future(self._ready.get())
        await asyncio.wait({getter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done() or not self._ready.empty():
            return getter.result() if getter.done() else await getter
        getter.cancel()
        if not self._task.cancelled():
            self._task.result()  # raises what ended it, if anything did
        return BackendUnavailable(f"{self._backend.name}: a page request was cut short")

    async def take(self) -> list[Page]:
        """The pages that arrived (at least one, waited for; at most :data:`WRITE_BATCH`),
        in order; raises the error of the request after the last page taken."""
        item = await self._next()
        if isinstance(item, Exception):
            raise item
        batch = [item]
        while len(batch) < WRITE_BATCH and not self._ready.empty():
            item = self._ready.get_nowait()
            if isinstance(item, Exception):
                self._held = item  # the pages before it are written first
                break
            batch.append(item)
        return batch

    async def close(self) -> None:
        """Stop asking; an answer in flight is dropped."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


def describe_error(exc: BaseException) -> str:
    """One line for an unexpected error (its type when it says nothing), secrets removed."""
    from oncall_tui.settings.secrets import redact_text

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return redact_text(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:300]
