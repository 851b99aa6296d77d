"""Damaged and newer database files: one clear line, a non-zero exit, the file untouched.

Each case runs the real entry point, ``python -m oncall_tui --db FILE``, in a subprocess
(isolated dirs, no terminal). It must exit non-zero with one line on stderr that says what
to do (move the file aside; a fresh database syncs again), never a traceback, and must not
change a byte of the file. Opening must fail before the UI starts: a UI that crashes later
prints a traceback (with locals) and, today, exits 0.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.demo.seed import make_demo_data, seed_store
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.query import parse_query
from oncall_tui.store import open_store
from oncall_tui.store.migrations import SCHEMA_VERSION

NOW = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
pytestmark = pytest.mark.slow


def real_db(path: Path) -> bytes:
    """A seeded demo database as after a clean exit: in WAL mode, the WAL folded in and gone."""
    clock = FrozenClock(NOW)
    store = open_store(path, clock=clock)
    seed_store(store, make_demo_data(clock(), seed=1))
    store.close()
    assert not path.with_name(path.name + "-wal").exists()
    return path.read_bytes()


def page_of(path: Path, table: str) -> tuple[int, int]:
    conn = sqlite3.connect(path)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    conn.close()
    return size, root


def truncated(path: Path) -> None:
    data = real_db(path)
    path.write_bytes(data[: len(data) // 2])


def garbage(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 this is a zip, not a database" * 200)


def all_zeros(path: Path) -> None:
    path.write_bytes(bytes(len(real_db(path))))


def header_only(path: Path) -> None:
    path.write_bytes(real_db(path)[:100])


def zeroed_table_page(path: Path) -> None:
    real_db(path)
    size, root = page_of(path, "tickets")
    data = bytearray(path.read_bytes())
    data[(root - 1) * size : root * size] = bytes(size)
    path.write_bytes(bytes(data))


def zeroed_schema_page(path: Path) -> None:
    data = bytearray(real_db(path))
    data[100:4096] = bytes(4096 - 100)  # page 1 after the header: sqlite_master
    path.write_bytes(bytes(data))


def newer(path: Path) -> None:
    real_db(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


CASES: dict[str, Callable[[Path], None]] = {
    "truncated": truncated,
    "garbage": garbage,
    "all-zeros": all_zeros,
    "header-only": header_only,
    "zeroed-schema-page": zeroed_schema_page,
    "newer-schema": newer,
}
AHEAD = {  # what the message must offer as a way forward
    "newer-schema": ("move", "aside"),
}


def run_cli(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def check_refused(tmp_path: Path, name: str, make: Callable[[Path], None]) -> None:
    db = tmp_path / f"{name}.db"
    make(db)
    before = db.read_bytes()
    out = run_cli(db)
    lines = out.stderr.strip().splitlines()
    assert out.returncode != 0, f"exit status 0; stderr ends: {out.stderr[-600:]}"
    assert "Traceback" not in out.stderr and "Error:" not in out.stderr.replace("error:", "")
    assert len(lines) == 1, f"not one line: {out.stderr[-600:]}"
    message = lines[0].lower()
    assert message.startswith("oncall-tui: error:") and str(db).lower() in message
    for word in AHEAD.get(name, ("move", "aside", "sync again")):
        assert word in message, f"no way forward ({word!r}) in: {lines[0]}"
    assert out.stdout == ""
    assert db.read_bytes() == before, "the file was changed"


@pytest.mark.parametrize("name", list(CASES))
def test_damaged_or_newer_file_is_refused_untouched(tmp_path: Path, name: str) -> None:
    check_refused(tmp_path, name, CASES[name])


@pytest.mark.product_bug("B16: damage past page 1 is not detected at open; the UI crashes")
def test_zeroed_table_page_is_refused_untouched(tmp_path: Path) -> None:
    """Damage past the first pages is found by the background check right after the first
    paint (not on the start-up path): the app leaves the screen, exits 1 and prints one line.
    """
    db = tmp_path / "zeroed-table-page.db"
    zeroed_table_page(db)
    before = db.read_bytes()
    out = run_cli(db)
    assert out.returncode == 1, out.stderr[-600:]
    screen_free = re.sub(
        r"\x1b(\[[0-9;?<>=$]*[A-Za-z~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B]|.)", "", out.stderr
    )
    assert "Traceback" not in screen_free
    last = screen_free.strip().splitlines()[-1]
    assert last.startswith("oncall-tui: error:") and str(db) in last
    assert "damaged" in last and "move it aside" in last.lower() and "sync again" in last
    assert db.read_bytes() == before


@pytest.mark.product_bug("B13: `oncall-tui` exits 0 after the UI crashed")
def test_a_crashed_ui_gives_a_non_zero_exit_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oncall_tui.cli.main import main
    from oncall_tui.ui.app import OncallApp

    def crashed_run(self: OncallApp, *args: object, **kwargs: object) -> None:
        self._return_code = 1  # what Textual's _handle_exception leaves after a crash

    monkeypatch.setattr(OncallApp, "run", crashed_run)
    assert main(["--db", str(tmp_path / "ok.db")]) != 0


# -- not ours, pieces missing, cannot be written, and paths that are not database files -----------


def foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.com')")
    conn.commit()
    conn.close()


def dropped_table(path: Path) -> None:
    real_db(path)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE comments")
    conn.commit()
    conn.close()


def dropped_column(path: Path) -> None:
    real_db(path)
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX tickets_requester")  # SQLite keeps a column an index uses
    conn.execute("ALTER TABLE tickets DROP COLUMN requester")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (foreign, ("not an oncall-tui database", "moz_places", "left untouched", "--db")),
        (dropped_table, ("table comments is missing", "move it aside", "sync again")),
        (dropped_column, ("column tickets.requester is missing", "move it aside")),
    ],
)
def test_foreign_or_incomplete_files_are_refused_untouched(
    tmp_path: Path, make: Callable[[Path], None], words: tuple[str, ...]
) -> None:
    db = tmp_path / "x.db"
    make(db)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    out = run_cli(db)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1, out.stderr[-600:]
    assert "Traceback" not in out.stderr
    for word in words:
        assert word.lower() in lines[0].lower(), f"{word!r} not in: {lines[0]}"
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def run_read_only(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m oncall_tui ARGS`` with ``folder`` mounted read-only (a private mount
    namespace: ``unshare``, as root or in a user namespace). Where that is not allowed and
    we are not root, the folder's write permission is taken away instead."""
    if not _can_unshare() and os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            return subprocess.run(
                [sys.executable, "-m", "oncall_tui", *args],
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )
        finally:
            folder.chmod(0o755)
    inner = " ".join(
        [
            f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} {folder} &&",
            "exec",
            sys.executable,
            "-m",
            "oncall_tui",
            *args,
        ]
    )
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", inner],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def _can_unshare() -> bool:
    try:
        probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10)
    except OSError:
        return False
    return probe.returncode == 0


def test_a_read_only_file_system_keeps_the_unsent_changes(tmp_path: Path) -> None:
    """The advice used to be "move it aside" (a fresh database syncs again), which throws
    away changes not yet sent. On a read-only file system the message says to keep the file
    and how to go on; the file is not touched."""
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "x.db"
    clock = FrozenClock(NOW)
    store = open_store(db, clock=clock)
    seed_store(store, make_demo_data(clock(), seed=1))
    tid = store.queue.open_queue(parse_query(""), limit=1)[0].id
    store.tickets.add_comment(tid, "a note not yet sent", public=False, author="alex")
    store.close()
    before = db.read_bytes()
    out = run_read_only(folder, "--db", str(db))
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1, out.stderr[-600:]
    message = lines[0]
    assert "Keep the file" in message and "not yet sent" in message, message
    assert "read-only" in message or not _can_unshare(), message
    assert "Move it aside" not in message and "--db" in message
    doctor = run_read_only(folder, "--db", str(db), "doctor")
    assert "FAIL  database:" in doctor.stdout and "Keep the file" in doctor.stdout, doctor.stdout
    new = run_read_only(folder, "--db", str(folder / "new.db"))
    assert new.returncode == 1 and "cannot create the database" in new.stderr, new.stderr
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    "path",
    [
        "/proc/x.db",
        "/proc/self/x.db",
        "/dev/null",
        "/dev/zero",
        "/",
        "/etc/passwd",
        "{tmp}",
        "{tmp}/file/under/a/file.db",
        "{tmp}/fifo",
        "~nosuchuser-oncall/x.db",
    ],
)
def test_no_database_path_gives_a_traceback(tmp_path: Path, path: str) -> None:
    """Each path, for the app, `sync --once` and `doctor`: one line (doctor: a FAIL line or
    a PASS for a path it may create), never a traceback, never a hang."""
    (tmp_path / "file").write_text("a file, not a folder")
    os.mkfifo(tmp_path / "fifo")
    db = path.format(tmp=tmp_path)
    for args in (["--db", db], ["--db", db, "sync", "--once"], ["--db", db, "doctor"]):
        out = subprocess.run(
            [sys.executable, "-m", "oncall_tui", *args],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        assert "Traceback" not in out.stderr + out.stdout, (args, out.stderr[-800:])
        if args[-1] == "doctor" and out.returncode != 2:
            assert "database:" in out.stdout, out.stdout
            continue
        if args[-1] == "--once" and out.returncode == 0:  # no backend: the db is not opened
            assert "nothing to sync" in out.stdout, out.stdout
            continue
        lines = out.stderr.strip().splitlines()
        assert out.returncode != 0 and len(lines) == 1, (args, out.stderr[-600:])
        assert lines[0].startswith("oncall-tui: error: "), lines
    assert (Path("/etc/passwd")).read_bytes().startswith(b"root:")
