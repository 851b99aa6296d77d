"""The integrity check's child process (store/integrity_child.py): its SQLite pauses inside a
table's walk, it dies with the app (even a SIGKILLed one), and a child that cannot run leaves
the rest of its round to the app's own SQLite."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import oncall_tui.store.integrity as integrity
import oncall_tui.store.integrity_child as child
from oncall_tui.store.integrity import check_paced


def one_big_table(path: Path, rows: int = 3000) -> int:
    """A table of nullable blobs without an index: its check is nearly all b-tree walk.
    Returns its page count."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (a BLOB)")
    conn.executemany("INSERT INTO t VALUES (?)", ([os.urandom(1500)] for _ in range(rows)))
    conn.commit()
    pages = int(conn.execute("SELECT count(*) FROM dbstat WHERE name = 't'").fetchone()[0])
    conn.close()
    return pages


def test_the_childs_sqlite_pauses_inside_a_tables_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The premise of the child: apsw's SQLite calls the progress handler while it walks a
    table's pages, about once per STEPS pages (the app's SQLite 3.40 calls it only between
    the rows of the scan after the walk). Two tables of as many rows, one ten times as many
    pages: the larger gets about (pages / STEPS) more calls."""
    db = tmp_path / "two.db"
    conn = sqlite3.connect(db)
    for name, size in (("big", 1500), ("small", 1)):
        conn.execute(f"CREATE TABLE {name} (a BLOB)")
        conn.executemany(
            f"INSERT INTO {name} VALUES (?)", ([os.urandom(size)] for _ in range(3000))
        )
    conn.commit()
    pages = dict(conn.execute("SELECT name, count(*) FROM dbstat GROUP BY name").fetchall())
    conn.close()
    looks: list[int] = []

    class Counted(integrity._Pacer):
        def statement(self) -> None:
            looks.append(0)
            super().statement()

        def progress(self) -> int:
            looks[-1] += 1
            return super().progress()

    monkeypatch.setattr(child, "_Pacer", Counted)
    assert child.run(str(db), None, threading.Event(), duty=1.0, slice_s=0.0) is None
    assert capsys.readouterr().out.splitlines() == ['["sound", "big"]', '["sound", "small"]']
    _schema, big, small = looks
    walked = (pages["big"] - pages["small"]) // child.STEPS
    assert walked >= 5 and big - small >= walked // 2, (looks, pages)


def test_the_child_reports_a_table_it_cannot_read(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    one_big_table(db)
    conn = sqlite3.connect(db)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    middle = len(data) // size // 2
    data[middle * size : (middle + 1) * size] = b"\xff" * size  # a leaf in the middle
    db.write_bytes(bytes(data))
    sound: list[str] = []
    found = check_paced(db, after=None, stop=threading.Event(), sound=sound.append, in_child=True)
    assert found and "ok" != found and sound == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="SIGKILL and /proc")
@pytest.mark.slow
def test_a_killed_app_takes_its_check_child_with_it(tmp_path: Path) -> None:
    """SIGKILL of the app: the child's stdin ends, it stops at its next pause and exits, so
    no orphan holds a read transaction (which would keep the WAL from being reset)."""
    db = tmp_path / "big.db"
    one_big_table(db, rows=300)
    script = (
        "import sys, threading\n"
        "from oncall_tui.store.integrity import check_paced\n"
        "check_paced(sys.argv[1], after=None, stop=threading.Event(),\n"
        "            sound=lambda n: print(n, flush=True), duty=1e-6, slice_s=0.0, in_child=True)\n"
    )
    app = subprocess.Popen([sys.executable, "-c", script, str(db)])
    try:
        deadline = time.monotonic() + 10
        while not (kids := children_of(app.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(kids) == 1
        time.sleep(1.0)  # in its first pause (of hours, at this duty)
        assert alive(kids[0])
        app.send_signal(signal.SIGKILL)
        app.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(kids[0]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(kids[0])
    finally:
        if app.poll() is None:
            app.kill()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


@pytest.mark.skipif(sys.platform == "win32", reason="the fake child is a shell script")
def test_a_child_that_cannot_run_leaves_the_rest_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child that fails part-way (here: found one table sound, then exited): the app goes
    on from there with its own SQLite, and the round still covers every table once."""
    db = tmp_path / "x.db"
    conn = sqlite3.connect(db)
    for name in ("a", "b", "c"):
        conn.execute(f"CREATE TABLE {name} (x)")
    conn.close()
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho \'["sound", "a"]\'\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    sound: list[str] = []
    assert (
        check_paced(db, after=None, stop=threading.Event(), sound=sound.append, in_child=True)
        is None
    )
    assert sound == ["a", "b", "c"]
