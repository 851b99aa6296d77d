"""Damaged and newer database files: one clear line, a non-zero exit, the file untouched.

Each case runs the real entry point, ``python -m oncall_tui --db FILE``, in a subprocess
(isolated dirs, no terminal). It must exit non-zero with one line on stderr that says what
to do (move the file aside; a fresh database syncs again), never a traceback, and must not
change a byte of the file. Opening must fail before the UI starts: a UI that crashes later
prints a traceback (with locals) and, today, exits 0.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.clock import FrozenClock
from oncall_tui.demo.seed import make_demo_data, seed_store
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
    from oncall_tui.cli import main
    from oncall_tui.ui.app import OncallApp

    def crashed_run(self: OncallApp, *args: object, **kwargs: object) -> None:
        self._return_code = 1  # what Textual's _handle_exception leaves after a crash

    monkeypatch.setattr(OncallApp, "run", crashed_run)
    assert main(["--db", str(tmp_path / "ok.db")]) != 0
