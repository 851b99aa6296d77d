"""Two and three sync processes drain one outbox under every fault the wire fakes inject.

The fake help desk runs in this test process on a real loopback socket; each drainer
(``_drainer.py``) is a separate Python process running the real engine on the same SQLite
file, started once and fed one trial per line, so a trial costs a fresh database and a fresh
fake, not three interpreter start-ups. What must hold in every trial: every outbox entry (30
notes and replies over 10 tickets, two of them with the same text on the same ticket) arrives
exactly once, counted on the fake's side; every entry is settled locally, each comment with
its own remote id; no process met an error it did not report as a backend's trouble.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import SystemClock
from oncall_tui.domain.tickets import Source, Ticket
from oncall_tui.store import open_store
from tests.fakes import remote_ticket
from tests.reliability.conftest import scaled

DRAINER = Path(__file__).with_name("_drainer.py")
TICKETS = 10
NOTES_PER_TICKET = 3
SAME_TEXT = "Restarting the workers now"
#: A lease long enough for any send here (a push gives up after half of it).
LEASE = 20.0
#: The fault mixes, each on every request (pushes and look-ups alike).
FAULTS: dict[str, dict[Fault, float]] = {
    "drop before commit": {Fault.DROP: 0.25},
    "drop after commit": {Fault.LOST_RESPONSE: 0.25},
    "429": {Fault.RATE_LIMIT: 0.12},
    "5xx": {Fault.SERVER_ERROR: 0.15, Fault.UNAVAILABLE: 0.1},
    "slow": {Fault.LATENCY: 0.3, Fault.SLOW_BODY: 0.2},
    "everything": {
        Fault.LATENCY: 0.1,
        Fault.DROP: 0.08,
        Fault.LOST_RESPONSE: 0.12,
        Fault.RATE_LIMIT: 0.05,
        Fault.SERVER_ERROR: 0.08,
        Fault.SLOW_BODY: 0.05,
    },
}
#: Trials per fault mix and process count (x ONCALL_SOAK in soak mode).
TRIALS = 3

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def drainers() -> Iterator[list[subprocess.Popen[str]]]:
    env = {**os.environ, "ONCALL_TUI_ZENDESK_TOKEN": DEFAULT_TOKEN}
    procs = [
        subprocess.Popen(
            [sys.executable, str(DRAINER), str(LEASE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert json.loads(line) == {"ready": True}, proc.stderr.read() if proc.stderr else ""
        yield procs
    finally:
        for proc in procs:
            if proc.stdin:
                proc.stdin.close()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def note_text(ticket: int, n: int) -> str:
    if ticket == 1 and n < 2:
        return SAME_TEXT  # two notes with the same text, one after the other
    return f"note {n} on ticket {200 + ticket}"


def make_outbox(db: Path) -> list[tuple[str, str, bool]]:
    """Ten cached tickets and 30 queued notes and replies; returns (ticket, text, public)."""
    clock = SystemClock()
    store = open_store(db, clock=clock)
    now = clock()
    store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.HELPDESK,
                remote_id=str(200 + n),
                subject=f"Ticket {200 + n}",
                opened_at=now,
                updated_at=now,
            )
            for n in range(1, TICKETS + 1)
        ]
    )
    made = []
    for n in range(NOTES_PER_TICKET):
        for t in range(1, TICKETS + 1):
            ticket = store.tickets.find_ticket("helpdesk", str(200 + t))
            assert ticket is not None
            public = (t + n) % 2 == 0
            store.tickets.add_comment(ticket.id, note_text(t, n), public=public, author="me@x.io")
            made.append((str(200 + t), note_text(t, n), public))
    store.close()
    return made


def run_trial(procs: list[subprocess.Popen[str]], tmp_path: Path, mix: str, seed: int) -> list[str]:
    """One trial; returns what went wrong (empty: every entry arrived exactly once)."""
    clock = SystemClock()
    now = clock()
    tickets = [
        remote_ticket(i, remote_id=str(200 + i), opened_at=now, updated_at=now)
        for i in range(1, TICKETS + 1)
    ]
    fake = ZendeskFake(tickets=tickets, clock=clock, export_lag=0, export_rate_per_minute=None)
    fake.faults = FaultPlan(
        probabilities=FAULTS[mix],
        seed=seed,
        latency=0.15,
        retry_after=1.0,
        slow_chunk_delay=0.01,
    )
    url, stop = serve_on_loopback(fake)
    db = tmp_path / f"trial-{len(procs)}-{mix.replace(' ', '-')}-{seed}.db"
    made = make_outbox(db)
    try:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{db} {url}\n")
            proc.stdin.flush()
        results: list[dict[str, Any]] = []
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(proc.stderr.read() if proc.stderr else "a drainer died")
            results.append(json.loads(line))
    finally:
        stop()
    problems: list[str] = []
    tag = f"{mix}, {len(procs)} processes, seed {seed}"
    for r in results:
        unexpected = [e for e in r["errors"] if "zendesk" not in e.lower()]
        if unexpected:
            problems.append(f"{tag}: {r['claimer']}: {unexpected[:3]}")
        if r["left"].get("pending") or r["left"].get("inflight"):
            problems.append(f"{tag}: {r['claimer']} stopped with {r['left']}")
    expected = Counter((t, text, public) for t, text, public in made)
    arrived = Counter(
        (str(tid), str(c["body"]), bool(c["public"]))
        for tid, thread in fake.comments.items()
        for c in thread
        if c["body"] != "body"  # the ticket's description
    )
    if arrived != expected:
        twice = {k: v for k, v in arrived.items() if v > expected.get(k, 0)}
        lost = {k: v for k, v in expected.items() if arrived.get(k, 0) < v}
        problems.append(f"{tag}: sent twice {twice}, lost {lost}")
    if fake.mutations["add_comment"] != len(made):
        problems.append(f"{tag}: the fake applied {fake.mutations['add_comment']} comments")
    store = open_store(db, clock=clock)
    try:
        states = dict(store.db.execute("SELECT state, count(*) FROM outbox GROUP BY state"))
        if states != {"done": len(made)}:
            problems.append(f"{tag}: outbox states {states}")
        ids = [r[0] for r in store.db.execute("SELECT remote_id FROM comments")]
        if None in ids or len(set(ids)) != len(ids) or len(ids) != len(made):
            problems.append(f"{tag}: local comments' remote ids {sorted(map(str, ids))}")
    finally:
        store.close()
    return problems


@pytest.mark.parametrize("processes", [2, 3])
def test_processes_drain_one_outbox_exactly_once(
    drainers: list[subprocess.Popen[str]], tmp_path: Path, processes: int
) -> None:
    problems: list[str] = []
    for mix in FAULTS:
        for trial in range(scaled(TRIALS)):
            problems += run_trial(drainers[:processes], tmp_path, mix, seed=trial)
    assert not problems, "\n".join(problems[:20])
