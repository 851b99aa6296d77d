"""`oncall-tui sync --loop` as a real process: it outlives a database held by another process
past the busy timeout (the issue's 9 s write lock), delivers once the lock is gone, and stops
cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import SystemClock
from oncall_tui.domain.tickets import Source, Ticket
from oncall_tui.store import open_store
from tests.fakes import remote_ticket

pytestmark = pytest.mark.slow


def wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sync_loop_survives_a_long_write_lock_and_delivers_once(tmp_path: Path) -> None:
    clock = SystemClock()
    now = clock()
    fake = ZendeskFake(
        tickets=[remote_ticket(1, remote_id="201", opened_at=now, updated_at=now)],
        clock=clock,
        export_lag=0,
        export_rate_per_minute=None,
    )
    url, stop = serve_on_loopback(fake)
    config = tmp_path / "config.toml"
    config.write_text(f'sync_interval = 5\n[backends.zendesk]\nurl = "{url}"\n')
    db = tmp_path / "cache.db"
    store = open_store(db, clock=clock)
    store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.HELPDESK,
                remote_id="201",
                subject="x",
                opened_at=now,
                updated_at=now,
            )
        ]
    )
    tid = store.tickets.find_ticket("helpdesk", "201").id  # type: ignore[union-attr]
    env = {**os.environ, "ONCALL_TUI_ZENDESK_TOKEN": DEFAULT_TOKEN}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oncall_tui",
            "--config",
            str(config),
            "--db",
            str(db),
            "sync",
            "--loop",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert wait_for(lambda: fake.mutations["export"] or len(fake.log) > 0, 20)
        # Hold the write lock past the loop's busy timeout (5 s), with a note queued in it.
        store.db.conn.execute("BEGIN IMMEDIATE")
        store.tickets.add_comment(
            tid, "Queued while the database was locked", public=False, author="me@x.io"
        )
        time.sleep(11)  # two passes meet the lock
        store.db.conn.execute("COMMIT")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert wait_for(lambda: fake.mutations["add_comment"] >= 1, 30), "never delivered"
        time.sleep(0.5)
        assert fake.mutations["add_comment"] == 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "locked" in out, out
        assert "Traceback" not in out + err
        assert store.outbox.ops() == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        store.close()
        stop()
