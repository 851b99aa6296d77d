"""Crash safety of sync: the `sync --once` process is SIGKILLed mid-push and mid-pull.

The fake help desk runs in this test process (a real loopback server), the sync in a real
subprocess, so a kill -9 loses exactly what a crash would lose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import SystemClock
from oncall_tui.domain.ops import OpState
from oncall_tui.store import open_store
from tests.fakes import remote_ticket

TOKEN_ENV = {"ONCALL_TUI_ZENDESK_TOKEN": DEFAULT_TOKEN}


def sync_once(tmp_path: Path, config: Path, db: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **TOKEN_ENV}
    return subprocess.Popen(
        [sys.executable, "-m", "oncall_tui", "--config", str(config), "--db", str(db), "sync",
         "--once"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )


def write_config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[backends.zendesk]\nurl = "{url}"\n')
    return config


def integrity_ok(db: Path) -> bool:
    store = open_store(db)
    try:
        return store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()


def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_killed_mid_push_nothing_lost_nothing_twice(tmp_path: Path) -> None:
    clock = SystemClock()
    now = clock()
    tickets = [remote_ticket(i, remote_id=str(200 + i), opened_at=now, updated_at=now)
               for i in range(1, 4)]
    fake = ZendeskFake(tickets=tickets, clock=clock, export_lag=0, export_rate_per_minute=None)
    url, stop = serve_on_loopback(fake)
    try:
        config, db = write_config(tmp_path, url), tmp_path / "cache.db"
        first = sync_once(tmp_path, config, db)
        assert first.wait(60) == 0, first.stderr.read() if first.stderr else ""
        store = open_store(db)
        tid = store.tickets.find_ticket("helpdesk", "201").id  # type: ignore[union-attr]
        store.tickets.add_comment(tid, "Restarting the workers now", public=True, author="me@x.io")
        store.close()
        # The next update of ticket 201 is applied at once but answered only after 30 s.
        fake.faults = FaultPlan(script=[Fault.LATENCY], latency=30.0, match=r"/tickets/201")
        victim = sync_once(tmp_path, config, db)
        wait_for(lambda: fake.mutations["add_comment"] >= 1)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        fake.faults = FaultPlan()
        again = sync_once(tmp_path, config, db)
        out, err = again.communicate(timeout=60)
        assert again.returncode == 0, out + err
        bodies = [c["body"] for c in fake.comments[201]]
        assert bodies.count("Restarting the workers now") == 1  # applied exactly once
        store = open_store(db)
        try:
            (op,) = store.outbox.ops((OpState.DONE,))
            assert op.attempts == 1  # looked up after the crash, not sent a second time
            assert store.outbox.ops() == [] and store.tickets.get_ticket(tid).pending_ops == 0
        finally:
            store.close()
        assert integrity_ok(db)
    finally:
        stop()


@pytest.mark.parametrize("kill_after_pages", [1, 3])
def test_killed_mid_pull_resumes_without_loss(tmp_path: Path, kill_after_pages: int) -> None:
    clock = SystemClock()
    now = clock()
    tickets = [remote_ticket(i, remote_id=str(1000 + i), opened_at=now, updated_at=now)
               for i in range(1, 61)]
    fake = ZendeskFake(tickets=tickets, clock=clock, export_lag=0, export_rate_per_minute=None,
                       export_page_size=10, comments_page_size=5)
    fake.faults = FaultPlan(probabilities={Fault.LATENCY: 1.0}, latency=0.15)
    url, stop = serve_on_loopback(fake)
    try:
        config, db = write_config(tmp_path, url), tmp_path / "cache.db"
        victim = sync_once(tmp_path, config, db)
        wait_for(lambda: sum(1 for e in fake.log if "incremental" in e.path) >= kill_after_pages)
        time.sleep(0.1)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        assert integrity_ok(db)
        fake.faults = FaultPlan()
        for _ in range(5):  # each pass continues from the last page it saved
            done = sync_once(tmp_path, config, db)
            out, err = done.communicate(timeout=60)
            assert done.returncode == 0, out + err
            store = open_store(db)
            count = store.tickets.ticket_count()
            store.close()
            if count == 60:
                break
        store = open_store(db)
        try:
            assert store.tickets.ticket_count() == 60  # all there, none twice (unique remote ids)
            rows = store.db.execute("SELECT count(DISTINCT remote_id) FROM tickets").fetchone()
            assert rows[0] == 60
        finally:
            store.close()
        assert integrity_ok(db)
    finally:
        stop()


def test_killed_mid_comment_stream_resumes_with_every_comment_once(tmp_path: Path) -> None:
    """A first sync's comment events are written by multi-row statements: killed -9 while
    they arrive, the next passes go on, and every comment is in its thread exactly once."""
    from datetime import timedelta

    from oncall_tui.domain.remote import RemoteComment
    from oncall_tui.domain.tickets import Source

    clock = SystemClock()
    now = clock()
    tickets = [remote_ticket(i, remote_id=str(1000 + i), opened_at=now - timedelta(hours=2),
                             updated_at=now - timedelta(hours=2)) for i in range(1, 41)]
    comments = [
        RemoteComment(source=Source.HELPDESK, ticket_remote_id=str(1000 + i),
                      remote_id=str(50_000 + 10 * i + n), author="Alice Agent",
                      body=f"step {n} on {1000 + i}", public=True,
                      created_at=now - timedelta(minutes=90 - 10 * n), author_role="staff")
        for i in range(1, 41) for n in range(3)
    ]
    fake = ZendeskFake(tickets=tickets, comments=comments, clock=clock, export_lag=0,
                       export_rate_per_minute=None, export_page_size=20, comments_page_size=7)
    fake.faults = FaultPlan(probabilities={Fault.LATENCY: 1.0}, latency=0.15)
    url, stop = serve_on_loopback(fake)
    try:
        config, db = write_config(tmp_path, url), tmp_path / "cache.db"
        victim = sync_once(tmp_path, config, db)
        wait_for(lambda: sum(1 for e in fake.log if "ticket_events" in e.path) >= 3)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        assert integrity_ok(db)
        fake.faults = FaultPlan()
        for _ in range(6):
            done = sync_once(tmp_path, config, db)
            out, err = done.communicate(timeout=60)
            assert done.returncode == 0, out + err
            store = open_store(db)
            stored = store.db.execute("SELECT count(*) FROM comments").fetchone()[0]
            store.close()
            if stored >= len(comments):
                break
        store = open_store(db)
        try:
            rows = store.db.execute(
                "SELECT t.remote_id, c.remote_id, c.body FROM comments c "
                "JOIN tickets t ON t.id = c.ticket_id"
            ).fetchall()
            assert sorted(rows) == sorted(
                (c.ticket_remote_id, c.remote_id, c.body) for c in comments
            )  # every comment, in its own thread, none twice
            assert store.tickets.ticket_count() == 40
            assert store.db.execute("SELECT count(*) FROM pending_comments").fetchone() == (0,)
        finally:
            store.close()
        assert integrity_ok(db)
    finally:
        stop()
