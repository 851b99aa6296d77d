"""Exact fault sequences against the fake help desk on loopback, one engine, a frozen clock.

- a look-up after an unclear send that fails (429, 401, 5xx, a dropped link) keeps the entry
  unclear, never pending: it is looked up again and delivered once;
- a second note with the same text after a dropped connection is delivered once, never
  matched to the first note's comment, and the pull keeps syncing;
- absurd ``Retry-After`` values wait 15 minutes (no ``OverflowError``, no year 5195);
- a pass that meets an unexpected error (an exception, a database locked by another process)
  reports it and the next pass works, without ``ctrl+r``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpState
from oncall_tui.store import Store, open_store
from oncall_tui.store.db import parse_iso
from oncall_tui.sync.base import MAX_SERVER_WAIT, BackendUnavailable, RateLimited, clamp_wait
from oncall_tui.sync.engine import SyncEngine
from oncall_tui.sync.http import build_client, parse_retry_after
from oncall_tui.sync.zendesk import ZendeskBackend
from tests.fakes import remote_ticket

pytestmark = pytest.mark.anyio
PUSH = r"/tickets/201\.json"
LOOKUP = r"/tickets/201/comments\.json"


class Rig:
    """The fake on a loopback socket, a store on a real file, the real engine."""

    def __init__(self, fake: ZendeskFake, store: Store, engine: SyncEngine, clock: Any) -> None:
        self.fake, self.store, self.engine, self.clock = fake, store, engine, clock

    @property
    def ticket_id(self) -> int:
        found = self.store.tickets.find_ticket("helpdesk", "201")
        assert found is not None
        return found.id

    def bodies(self, text: str) -> int:
        return sum(1 for c in self.fake.comments.get(201, []) if c["body"] == text)

    def local(self, text: str) -> list[Any]:
        return list(
            self.store.db.execute(
                "SELECT remote_id, outbox_id FROM comments WHERE ticket_id = ? AND body = ?",
                [self.ticket_id, text],
            )
        )

    async def run(self, advance: float = 0.0) -> Any:
        self.clock.advance(advance)
        return await self.engine.run_once()


@pytest.fixture
async def rig(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Rig]:
    now = clock()
    fake = ZendeskFake(
        tickets=[remote_ticket(1, remote_id="201", opened_at=now, updated_at=now)],
        clock=clock,
        export_lag=0,
        export_rate_per_minute=None,
    )
    url, stop = serve_on_loopback(fake)
    store = open_store(tmp_path / "cache.db", clock=clock)
    try:
        async with build_client(url, DEFAULT_TOKEN, timeout=10) as client:
            engine = SyncEngine(store, [ZendeskBackend(client, clock=clock)], clock)
            rig = Rig(fake, store, engine, clock)
            report = await rig.run()  # the first sync brings ticket 201
            assert report.ok, report.summary()
            yield rig
    finally:
        store.close()
        stop()


def only_op(store: Store) -> Any:
    (op,) = store.outbox.ops((OpState.PENDING, OpState.INFLIGHT, OpState.FAILED))
    return op


@pytest.mark.parametrize("lookup_fault", ["429", "401", "500", "drop"])
async def test_a_failed_lookup_keeps_the_entry_unclear(rig: Rig, lookup_fault: str) -> None:
    text = "We are restarting the workers"
    rig.store.tickets.add_comment(rig.ticket_id, text, public=True, author="me@x.io")
    rig.fake.faults = FaultPlan(script=[Fault.LOST_RESPONSE], match=PUSH)
    await rig.run()
    assert rig.bodies(text) == 1  # applied, its answer lost
    assert only_op(rig.store).state == OpState.INFLIGHT

    script = {"429": Fault.RATE_LIMIT, "500": Fault.SERVER_ERROR, "drop": Fault.DROP}
    tokens = set(rig.fake.tokens)
    if lookup_fault == "401":
        rig.fake.tokens = {"someone-else"}
    else:
        rig.fake.faults = FaultPlan(script=[script[lookup_fault]], match=LOOKUP)
    report = await rig.run(advance=400)  # past any backoff: the look-up is asked, and fails
    assert any(path.endswith("/comments.json") for _, path, _ in rig.fake.faults.injected) or (
        lookup_fault == "401"
    )
    op = only_op(rig.store)
    assert op.state == OpState.INFLIGHT, f"after a {lookup_fault} look-up: {op.state}"
    assert "looking up" in (op.error or "")
    assert not report.trouble
    rig.fake.tokens = tokens
    rig.fake.faults = FaultPlan()

    report = await rig.run(advance=MAX_SERVER_WAIT + 1)
    assert report.ok, report.summary()
    assert rig.bodies(text) == 1, "the unclear reply was sent again"
    assert rig.store.outbox.get_op(op.id).state == OpState.DONE
    assert rig.store.outbox.get_op(op.id).attempts == 1
    assert [r[0] is not None for r in rig.local(text)] == [True]


async def test_the_same_text_twice_after_a_drop_delivers_once_and_keeps_pulling(
    rig: Rig,
) -> None:
    text = "Restarting the workers now"
    first = rig.store.tickets.add_comment(rig.ticket_id, text, public=False, author="me@x.io")
    await rig.run(advance=1)
    assert rig.bodies(text) == 1

    for fault in (Fault.LOST_RESPONSE, Fault.DROP):  # applied / not applied, answer lost
        rig.store.tickets.add_comment(rig.ticket_id, text, public=False, author="me@x.io")
        rig.fake.faults = FaultPlan(script=[fault], match=PUSH)
        await rig.run(advance=1)
        rig.fake.faults = FaultPlan()
        for _ in range(3):
            report = await rig.run(advance=400)
            assert report.ok, report.summary()
    assert rig.bodies(text) == 3, "each note once: the first, the lost one, the resent one"
    local = rig.local(text)
    assert len(local) == 3 and len({r[0] for r in local}) == 3 and None not in {r[0] for r in local}
    kept = {c.id: c.remote_id for c in rig.store.tickets.comments(rig.ticket_id)}
    assert kept[first.id] is not None  # the first note kept its own comment
    assert rig.store.outbox.ops() == []

    # The pull keeps going: the customer's next answer arrives.
    rig.fake.add_comment(
        {"ticket_id": 201, "body": "Thanks, it works again", "public": True, "author_id": 1}
    )
    report = await rig.run(advance=5)
    assert report.ok, report.summary()
    assert len(rig.local("Thanks, it works again")) == 1


async def test_a_pulled_copy_of_an_unsettled_comment_is_merged(rig: Rig) -> None:
    """The pull may bring the comment of a lost send before its entry settles: settling
    must merge the two rows, not fail on UNIQUE(ticket_id, remote_id) on every pass."""
    text = "A note whose answer was lost"
    rig.store.tickets.add_comment(rig.ticket_id, text, public=False, author="me@x.io")
    rig.fake.faults = FaultPlan(script=[Fault.LOST_RESPONSE], match=PUSH)
    await rig.run(advance=1)
    rig.fake.faults = FaultPlan()
    op = only_op(rig.store)
    remote = next(c for c in rig.fake.comments[201] if c["body"] == text)
    # What a pull writes when it sees that comment first.
    rig.store.db.execute(
        "INSERT INTO comments (ticket_id, remote_id, author, body, public, created_at) "
        "VALUES (?, ?, 'agent', ?, 0, ?)",
        [rig.ticket_id, str(remote["id"]), text, remote["created_at"]],
    )
    for _ in range(2):
        report = await rig.run(advance=400)
        assert report.ok, report.summary()
    assert rig.store.outbox.get_op(op.id).state == OpState.DONE
    assert rig.local(text) == [(str(remote["id"]), op.id)]
    rig.store.outbox.mark_done(op.id, remote_id=str(remote["id"]))  # settling twice is harmless
    assert rig.local(text) == [(str(remote["id"]), op.id)]
    assert rig.store.tickets.get_ticket(rig.ticket_id).pending_ops == 0


@pytest.mark.parametrize("retry_after", [1_000_000_000_000, 99_999_999_999, 10**400])
async def test_absurd_retry_after_waits_fifteen_minutes(rig: Rig, retry_after: int) -> None:
    text = f"after a Retry-After of {str(retry_after)[:15]}"
    rig.store.tickets.add_comment(rig.ticket_id, text, public=True, author="me@x.io")
    rig.fake.faults = FaultPlan(script=[Fault.RATE_LIMIT], match=PUSH)
    rig.fake.rate_limited = lambda call, _: _answer_429(retry_after)  # type: ignore[method-assign]
    report = await rig.run(advance=1)
    assert not report.trouble, report.trouble
    assert report.outcomes["zendesk"].waiting == MAX_SERVER_WAIT
    op = only_op(rig.store)
    assert op.state == OpState.PENDING
    (when,) = rig.store.db.execute("SELECT next_attempt_at FROM outbox WHERE id = ?", [op.id])
    parked = parse_iso(when[0])
    assert parked is not None and parked <= rig.clock() + timedelta(seconds=MAX_SERVER_WAIT)
    report = await rig.run(advance=MAX_SERVER_WAIT + 1)
    assert report.ok, report.summary()
    assert rig.bodies(text) == 1


def _answer_429(retry_after: int) -> Any:
    from oncall_tui.demo.fakes import json_response

    return json_response(429, {"error": "APIRateLimitExceeded"}, {"Retry-After": str(retry_after)})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1000000000000", MAX_SERVER_WAIT),
        ("99999999999", MAX_SERVER_WAIT),
        ("1e400", MAX_SERVER_WAIT),
        ("nan", 60.0),
        ("-5", 0.0),
        ("12", 12.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_SERVER_WAIT),
    ],
)
def test_retry_after_values_are_clamped(value: str, expected: float) -> None:
    assert parse_retry_after(value, 1_800_000_000.0) == expected


def test_server_waits_in_errors_are_clamped() -> None:
    assert RateLimited("x", 10**400).retry_after == MAX_SERVER_WAIT  # float() overflows
    assert RateLimited("x", float("inf")).retry_after == MAX_SERVER_WAIT
    assert BackendUnavailable("x", 1e12).retry_after == MAX_SERVER_WAIT
    assert clamp_wait(-1) == 0.0


async def test_a_pass_survives_an_injected_exception(rig: Rig) -> None:
    text = "sent after the trouble"
    real = rig.store.remote.apply_page
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("injected: something nobody expected")
        return real(*args, **kwargs)

    rig.store.remote.apply_page = failing  # type: ignore[method-assign]
    report = await rig.run(advance=1)
    assert not report.ok and any("injected" in t for t in report.trouble), report.summary()
    assert any("injected" in m for _, _, _, m in rig.store.sync_state.log_entries())
    rig.store.tickets.add_comment(rig.ticket_id, text, public=True, author="me@x.io")
    report = await rig.run(advance=1)
    assert report.ok, report.summary()
    assert rig.bodies(text) == 1


async def test_a_database_locked_by_another_process_does_not_stop_sync(rig: Rig) -> None:
    """Another process holds the write lock past the busy timeout (9 s in the issue, cut to
    0.2 s here): the pass reports it, and the next one delivers, with no ctrl+r."""
    text = "queued before the lock"
    rig.store.tickets.add_comment(rig.ticket_id, text, public=True, author="me@x.io")
    rig.store.db.execute("PRAGMA busy_timeout = 200")
    other = sqlite3.connect(rig.store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        report = await rig.run(advance=1)
        assert not report.ok and any("locked" in t for t in report.trouble), report.summary()
    finally:
        other.execute("ROLLBACK")
        other.close()
    report = await rig.run(advance=1)
    assert report.ok, report.summary()
    assert rig.bodies(text) == 1
    assert rig.store.outbox.ops() == []
