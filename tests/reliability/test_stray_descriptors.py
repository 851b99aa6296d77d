"""No stray descriptors: nothing in the process opens the database outside SQLite while
SQLite holds it.

On POSIX, closing *any* descriptor of a file drops every lock the process holds on it
(SQLite's "How To Corrupt An SQLite Database File", section 2.2). The app holds four
connections (UI, sync writer, count reader, integrity check); when opening the second one read
the header with Python's ``open()``, another process that opened and closed the database (a
second instance, ``sync --once``, the sqlite3 shell) believed it was the last connection and
deleted the live WAL: every change acknowledged afterwards was lost at the next kill.

Two levels: an audit hook sees every ``open`` this process makes while a connection is open
(none may name the database, its -wal or -shm), and real processes repeat the whole story
20 times, ending each trial with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Source, Ticket
from oncall_tui.store import open_store
from oncall_tui.store.checks import check_integrity, inspect_database
from oncall_tui.store.db import HELD

NOW = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
HOLDER = Path(__file__).with_name("_holder.py")
TRIALS = 20

_recording: list[list[str]] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _recording and args and isinstance(args[0], str | bytes | Path):
        _recording[-1].append(os.fsdecode(os.fspath(args[0])))  # type: ignore[arg-type]


sys.addaudithook(_audit)  # audit hooks cannot be removed: this one records only when asked


class Opens:
    """Every path this process passes to ``open``/``os.open`` while recording."""

    def __init__(self, db: Path) -> None:
        self.names = {str(db.resolve()) + suffix for suffix in ("", "-wal", "-shm")}
        self.seen: list[str] = []

    def of_database(self) -> list[str]:
        return [p for p in self.seen if str(Path(p).resolve()) in self.names]


@contextmanager
def recording(db: Path) -> Iterator[Opens]:
    opens = Opens(db)
    _recording.append(opens.seen)
    try:
        yield opens
    finally:
        _recording.remove(opens.seen)


def seeded(path: Path) -> None:
    store = open_store(path)
    store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.HELPDESK,
                remote_id="1",
                subject="x",
                opened_at=NOW,
                updated_at=NOW,
            )
        ]
    )
    store.close()


def test_the_audit_hook_sees_the_header_check(tmp_path: Path) -> None:
    """The first connection of the process reads the header with ``open``: the hook sees it
    (so the next test's silence means something)."""
    db = tmp_path / "x.db"
    seeded(db)
    with recording(db) as opens:
        store = open_store(db)
    store.close()
    assert opens.of_database(), "the header check was not seen: the audit hook is blind"


def test_no_raw_open_while_a_connection_is_open(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    seeded(db)
    ui = open_store(db)  # the app's first connection (may read the header: nothing held yet)
    assert HELD.held(db)
    with recording(db) as opens:
        writer = open_store(db, migrate=False)  # the sync engine's connection
        again = open_store(db)  # a second window onto the same file, e.g. `sync --once`
        counter = ui.queue.queue_counter()
        assert counter is not None and counter.count(parse_query("")) == 1
        assert check_integrity(db) is None
        ok, detail = inspect_database(db)  # what `doctor` does
        assert ok, detail
        writer.tickets.add_labels(1, ["seen"])
        counter.close()
        again.close()
        writer.close()
    deleted = deleted_wal(os.getpid())
    ui.close()
    assert opens.of_database() == [], f"opened outside SQLite: {opens.of_database()}"
    assert not deleted, deleted


def test_the_count_goes_back_to_zero(tmp_path: Path) -> None:
    """Once every connection is closed, the next open checks the header again."""
    db = tmp_path / "x.db"
    seeded(db)
    a = open_store(db)
    b = open_store(db, migrate=False)
    a.close()
    assert HELD.held(db)
    b.close()
    assert not HELD.held(db)


# -- real processes -------------------------------------------------------------------------------


def second_process(db: Path, trial: int) -> list[str]:
    """Another program that opens and closes the database: a second oncall-tui, a sqlite3
    shell reading it, or `oncall-tui doctor`."""
    kind = trial % 3
    if kind == 0:
        code = f"from oncall_tui.store import open_store; open_store({str(db)!r}).close()"
        return [sys.executable, "-c", code]
    if kind == 1:
        code = (
            "import sqlite3\n"
            f"c = sqlite3.connect({str(db)!r})\n"
            "c.execute('SELECT count(*) FROM tickets').fetchall()\n"
            "c.close()\n"
        )
        return [sys.executable, "-c", code]
    return [sys.executable, "-m", "oncall_tui", "--db", str(db), "doctor"]


def deleted_wal(pid: int) -> list[str]:
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if "(deleted)" in target and ".db" in target:
            found.append(target)
    return found


def one_trial(tmp_path: Path, trial: int) -> tuple[list[str], list[str], list[str]]:
    """(labels acknowledged, labels found after the kill, WAL files deleted under the app)."""
    db = tmp_path / f"trial{trial}" / "x.db"
    seeded(db)
    holder = subprocess.Popen(
        [sys.executable, str(HOLDER), str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    acked: list[str] = []
    try:
        assert holder.stdout.readline().strip() == "ready"
        holder.stdin.write("go 0\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "acked 0"
        acked.append("acked-0")
        other = subprocess.run(
            second_process(db, trial), capture_output=True, text=True, timeout=60
        )
        assert other.returncode == 0, other.stderr[-500:]
        for n in (1, 2):
            holder.stdin.write(f"go {n}\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == f"acked {n}"
            acked.append(f"acked-{n}")
        deleted = deleted_wal(holder.pid)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    conn = sqlite3.connect(db)
    try:
        (labels,) = conn.execute("SELECT labels FROM tickets").fetchone()
    finally:
        conn.close()
    found = [label for label in acked if f'"{label}"' in labels]
    return acked, found, deleted


@pytest.mark.slow
def test_nothing_acknowledged_is_lost_when_another_process_opens_the_database(
    tmp_path: Path,
) -> None:
    """20 trials: the app-like holder acknowledges a change, another process opens and
    closes the database, the holder acknowledges two more and is killed with SIGKILL. Every
    acknowledged change must be in the file. (Before the fix: lost in 20 of 20.)"""
    started = time.monotonic()
    lost = []
    for trial in range(TRIALS):
        acked, found, deleted = one_trial(tmp_path, trial)
        if found != acked or deleted:
            lost.append((trial, sorted(set(acked) - set(found)), deleted))
    assert not lost, f"changes lost in {len(lost)} of {TRIALS} trials: {lost[:3]}"
    assert time.monotonic() - started < 120
