"""The relay: one per team, headless. It pulls the backends with the team's service
credentials (the ordinary sync engine and adapters, into its own store) and publishes every
record that changed to the stream; members read the stream instead of the backends.

A pass, while this relay leads (holds the lease, see :mod:`.shared`):

1. publish what an earlier pass queued and did not get acknowledged;
2. ``SyncEngine.run_once()``: the relay's outbox (the out-of-hours entries), then every
   backend; each page's changed records are queued in the page's transaction;
3. publish the queue (``Nats-Msg-Id`` = a digest of subject and content, so a resend within
   the stream's duplicate window is dropped by the server) and purge subjects a moved ticket
   left;
4. out of hours: new customer chat messages to the shared bucket, then their entries;
5. checkpoint: the backends' cursors to the shared bucket, once nothing pulled is unpublished;
6. one log line: what was pulled, published and sent, and the backends' budgets.

A standby reads the stream into its own index instead (so it knows what the stream holds) and
tries for the lease each few seconds. Taking over from another relay it drops its stale queue
and goes on from the last checkpoint: what the dead leader published after it is found
unchanged in the index and not published again.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets as random_ids
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.tickets import Source
from oncall_tui.settings.config import Config
from oncall_tui.settings.team import RelayConfig, TeamConfig
from oncall_tui.store import Store
from oncall_tui.sync.base import Backend, SyncError
from oncall_tui.sync.engine import SyncEngine, SyncReport
from oncall_tui.team.connect import Connection, TeamUnavailable
from oncall_tui.team.member import TeamFeed
from oncall_tui.team.shared import Lease, SharedState

RELAY_ID_META = "team_relay_id"
TERM_META = "team_term"
FOLLOW_KEY = "team:stream"
PUBLISH_BATCH = 500
ACK_TIMEOUT = 30.0
#: A standby looks for a free lease this often (so it leads within lease_ttl + this).
LEASE_POLL = 5.0
#: Messages a standby reads from the stream in one pass (it goes on at once if there are more).
FOLLOW_CHUNK = 50_000


class LostLease(SyncError):
    """Another relay leads now: stop publishing at once."""


@dataclass
class PassReport:
    """What one relay pass did."""

    number: int
    role: str
    sync: SyncReport | None = None
    published: int = 0
    purged: int = 0
    queued: int = 0
    followed: int = 0
    after_hours: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and (self.sync is None or self.sync.ok)

    @property
    def more(self) -> bool:
        """A backend has pages left now (a first sync): go on without waiting."""
        return self.sync is not None and self.sync.more

    def line(self) -> str:
        """One log line: counts and budgets."""
        parts = [f"relay pass {self.number} ({self.role})"]
        if self.sync is not None:
            pulls = []
            for o in self.sync.outcomes.values():
                text = f"{o.name} pulled {o.pulled}"
                if o.pushed or o.failed:
                    text += f", sent {o.pushed}, refused {o.failed}"
                if o.waiting:
                    text += f", budget: next request in {o.waiting:.0f}s"
                elif o.more:
                    text += ", more to pull"
                if o.error:
                    text += f", error: {o.error}"
                pulls.append(text)
            parts.append("; ".join(pulls) or "no backends")
            parts.append(f"published {self.published}, purged {self.purged}, waiting {self.queued}")
            if self.after_hours:
                parts.append(self.after_hours)
        else:
            parts.append(f"followed {self.followed} messages")
        parts.extend(f"error: {e}" for e in self.errors)
        return ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if parts[2:] else "")


class Relay:
    """One relay process (see the module docstring).

    Args:
        config: the whole config (``[team]``, ``[relay]``, ``[sla]`` for business hours).
        store: the relay's own store (a cache like a member's, with publishing on).
        backends: the adapters, built with the team's service credentials.
        clock: now.
        connection: the NATS connection.
        log: where the pass lines go.
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        backends: Sequence[Backend],
        clock: Clock,
        connection: Connection,
        *,
        log: Callable[[str], None] = print,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        assert config.team is not None
        self.team: TeamConfig = config.team
        self.settings: RelayConfig = config.relay or RelayConfig()
        self.config = config
        self.store = store
        self.clock = clock
        self.connection = connection
        self.log = log
        self.monotonic = monotonic
        self.sleep = sleep
        self.relay_id = store.tickets.meta(RELAY_ID_META) or ""
        if not self.relay_id:
            self.relay_id = f"relay-{random_ids.token_hex(6)}"
            with store.db.atomic():
                store.tickets.set_meta(RELAY_ID_META, self.relay_id)
        channels = self.settings.after_hours.channels
        backends = list(backends)
        if channels:
            from oncall_tui.sync.slack import SlackBackend
            from oncall_tui.team.after_hours import WatchedSlackBackend

            backends = [
                WatchedSlackBackend(b, channels) if isinstance(b, SlackBackend) else b
                for b in backends
            ]
        self.backends = backends
        store.team.publish = True
        store.team.sources = {b.name: b.source for b in backends}
        store.team.prefix = self.team.prefix
        self.engine = SyncEngine(store, backends, clock)
        self.follower = TeamFeed(connection, batch=5000)
        self.state: SharedState | None = None
        self.lease: Lease | None = None
        self.after_hours: Any = None
        self.leading = False
        self.passes = 0
        self._renewer: asyncio.Task[None] | None = None

    # ---- setup ---------------------------------------------------------------------------

    async def setup(self) -> None:
        """Connect; create the stream and the bucket if they are not there yet."""
        from nats.js import api
        from nats.js import errors as jerr

        js = await self.connection.open()
        subjects = [f"{self.team.prefix}.>"]
        try:
            try:
                info = await js.stream_info(self.team.stream)
            except jerr.NotFoundError:
                await js.add_stream(
                    api.StreamConfig(
                        name=self.team.stream,
                        description="oncall-tui team records: the last value of each record",
                        subjects=subjects,
                        max_msgs_per_subject=1,
                        duplicate_window=self.settings.duplicate_window,
                        num_replicas=self.settings.replicas,
                        storage=api.StorageType.FILE,
                        discard=api.DiscardPolicy.OLD,
                    )
                )
            else:
                if info.config.max_msgs_per_subject != 1 or info.config.subjects != subjects:
                    raise SyncError(
                        f"team: the stream {self.team.stream} exists with other settings "
                        f"(it must keep one message per subject of {subjects[0]})"
                    )
            self.state = SharedState(js, self.settings.bucket)
            await self.state.open(self.settings.replicas)
        except SyncError:
            raise
        except Exception as exc:
            raise self.connection.error(exc, "setting up the stream") from None
        self.lease = Lease(self.state, self.relay_id, self.settings.lease_ttl, self.monotonic)
        if self.settings.after_hours.channels:
            from oncall_tui.team.after_hours import AfterHours

            helpdesk = next((b for b in self.backends if b.source is Source.HELPDESK), None)
            if helpdesk is None:
                self.log("relay: after hours is off: no help desk backend is signed in")
            else:
                self.after_hours = AfterHours(
                    self.settings.after_hours,
                    self.store,
                    self.state,
                    self.config.sla.calendar,
                    helpdesk,
                    self.clock,
                    self.log,
                )
                await self.after_hours.start()

    async def _db(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    # ---- passes ----------------------------------------------------------------------------

    async def run_pass(self) -> PassReport:
        """One pass as leader, or one round of following as standby."""
        assert self.lease is not None
        self.passes += 1
        try:
            was_leading = self.leading
            self.leading = await self.lease.acquire()
            if self.leading and not was_leading:
                await self._take_over()
        except SyncError as exc:
            self.leading = False
            return PassReport(self.passes, "standby", errors=[str(exc)])
        except Exception as exc:
            self.leading = False
            return PassReport(
                self.passes, "standby", errors=[str(self.connection.error(exc, "lease"))]
            )
        if not self.leading:
            self._stop_renewing()
            report = PassReport(self.passes, "standby")
            try:
                report.followed = await self.follow()
            except SyncError as exc:
                report.errors.append(str(exc))
            return report
        self._start_renewing()
        report = PassReport(self.passes, "leader")
        try:
            await self.publish(report)
            report.sync = await self.engine.run_once()
            await self.publish(report)
            if self.after_hours is not None:
                from oncall_tui.team.after_hours import AfterHoursCounts

                counts = AfterHoursCounts()
                await self.after_hours.share()
                await self.checkpoint()
                await self.after_hours.run(self.engine, counts)
                await self.publish(report)
                report.after_hours = counts.text()
            await self.checkpoint()
        except LostLease as exc:
            self.leading = False
            report.errors.append(str(exc))
        except SyncError as exc:
            report.errors.append(str(exc))
        except Exception as exc:  # the NATS client's own errors
            report.errors.append(str(self.connection.error(exc, "publishing")))
        report.queued = await self._db(self.store.team.outgoing_count)
        return report

    async def run(self, once: bool = False, stop: asyncio.Event | None = None) -> int:
        """Pass after pass (``once``: one, as leader if the lease is free)."""
        await self.setup()
        try:
            while True:
                report = await self.run_pass()
                self.log(report.line())
                if once:
                    return 0 if report.ok else 1
                behind = report.more or report.followed >= FOLLOW_CHUNK
                wait = 0.0 if behind else (self.settings.interval if self.leading else LEASE_POLL)
                if stop is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), wait)
                    if stop.is_set():
                        return 0
                else:
                    await self.sleep(wait)
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop renewing, give the lease up, close the connection."""
        self._stop_renewing()
        if self.lease is not None and self.leading:
            with contextlib.suppress(Exception):
                await self.lease.release()
        self.leading = False
        await self.follower.aclose()

    # ---- the lease ---------------------------------------------------------------------------

    def _start_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.ensure_future(self._renew())

    def _stop_renewing(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None

    async def _renew(self) -> None:
        assert self.lease is not None
        while True:
            await asyncio.sleep(self.settings.lease_ttl / 3)
            try:
                if not await self.lease.renew():
                    self.leading = False
                    return
            except Exception:  # a broken link: `held` runs out and publishing stops
                continue

    def _check_lease(self) -> None:
        assert self.lease is not None
        if not self.leading or not self.lease.held:
            self.leading = False
            raise LostLease("team: the lease is lost; another relay leads")

    async def _take_over(self) -> None:
        """Just became leader: if another relay led since our last term, start from the
        shared checkpoint with a fresh queue."""
        from nats.js import errors as jerr

        assert self.state is not None
        term, revision = await self.state.get("term")
        n = int(term.get("n", 0)) if term else 0
        mine = term is not None and term.get("id") == self.relay_id
        continuous = mine and await self._db(self.store.tickets.meta, TERM_META) == str(n)
        try:
            await self.state.write("term", {"n": n + 1, "id": self.relay_id}, last=revision)
        except jerr.KeyWrongLastSequenceError:
            self.leading = False
            return
        with self.store.db.atomic():
            self.store.tickets.set_meta(TERM_META, str(n + 1))
        if continuous:
            return
        await self.follow(to_end=True)
        dropped = await self._db(self.store.team.drop_outgoing)
        checkpoint, _rev = await self.state.get("checkpoint")
        cursors = checkpoint.get("cursors") if checkpoint else None
        if isinstance(cursors, dict):
            for name, cursor in cursors.items():
                if isinstance(cursor, str | None):
                    await self._db(self._set_cursor, str(name), cursor)
        if self.after_hours is not None:
            await self.after_hours.adopt()
        self.log(
            f"relay: leading (term {n + 1}); going on from the shared checkpoint"
            + (f", {dropped} stale queued messages dropped" if dropped else "")
        )

    def _set_cursor(self, name: str, cursor: str | None) -> None:
        with self.store.db.atomic():
            self.store.sync_state.set_cursor(name, cursor)

    async def checkpoint(self) -> None:
        """Share the backends' cursors once everything pulled before them is published."""
        assert self.state is not None
        if await self._db(self.store.team.outgoing_count):
            return
        self._check_lease()
        cursors = {
            b.name: await self._db(self.store.sync_state.cursor, b.name) for b in self.backends
        }
        value = {
            "term": int(await self._db(self.store.tickets.meta, TERM_META) or 0),
            "id": self.relay_id,
            "cursors": cursors,
            "at": self.clock().isoformat(),
        }
        await self.state.write("checkpoint", value, last=None)

    # ---- publishing and following ---------------------------------------------------------

    async def publish(self, report: PassReport) -> None:
        """Send the queue to the stream, a batch at a time, while the lease holds."""
        js = await self.connection.open()
        while True:
            batch = await self._db(self.store.team.outgoing, PUBLISH_BATCH)
            if not batch:
                return
            self._check_lease()
            futures = []
            done: list[int] = []
            for item in batch:
                if item.payload is None:
                    await js.purge_stream(self.team.stream, subject=item.subject)
                    report.purged += 1
                    done.append(item.id)
                    continue
                future = await js.publish_async(
                    item.subject,
                    item.payload,
                    headers={"Nats-Msg-Id": item.digest or ""},
                )
                futures.append((item.id, future))
            try:
                acks = await asyncio.wait_for(
                    asyncio.gather(*(f for _i, f in futures)), ACK_TIMEOUT
                )
            except TimeoutError:
                raise TeamUnavailable("team: the stream did not acknowledge in time") from None
            for (item_id, _f), ack in zip(futures, acks, strict=True):
                done.append(item_id)
                if not getattr(ack, "duplicate", False):
                    report.published += 1
            await self._db(self.store.team.published, done)

    async def follow(self, to_end: bool = False) -> int:
        """Read the stream into the index (what a standby does); returns messages read."""
        subject = f"{self.team.prefix}.>"
        total = 0
        while True:
            cursor = await self._db(self.store.sync_state.cursor, FOLLOW_KEY)
            after = int(cursor) if cursor and cursor.isdigit() else 0
            messages, left = await self.follower.fetch(subject, after)
            if messages:
                await self._db(self.store.team.follow_stream, messages, FOLLOW_KEY)
                total += len(messages)
            if not left or not messages:
                return total
            if not to_end and total >= FOLLOW_CHUNK:
                return total
