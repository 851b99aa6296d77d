"""What a real terminal receives from the queue (issue 22): over SSH every byte counts.

The app runs on its demo in a real pty read by a VT emulator (bench/ptydriver.py). A cursor move
must write the two rows it touched, not the screen; a second that changes no countdown writes
nothing; a countdown that changes is still repainted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pyte")

from bench.ptydriver import PtyProgram  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SIZE = (120, 40)


def _start(tmp_path: Path, factor: float) -> PtyProgram:
    argv = [sys.executable, "-m", "tests.terminal._child", str(tmp_path / "demo.db"), str(factor)]
    env = {
        **__import__("os").environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    prog = PtyProgram(argv, size=SIZE, env=env, cwd=str(ROOT))
    assert prog.wait_for("Subject", 60), prog.text()
    prog.wait_quiet(0.5, 15)
    return prog


def _row_bytes_full_table(prog: PtyProgram) -> int:
    """Bytes of a full repaint of the queue: what a view switch writes."""
    prog.press("5")
    return prog.press("1").nbytes


def _highlighted_row(prog: PtyProgram) -> int:
    """The screen row whose cells have the cursor's background (the most common background
    among rows that differ from the rest)."""
    with prog._lock:
        buffer = prog.screen.buffer
        backgrounds = [buffer[y][20].bg for y in range(SIZE[1])]
    counts = {bg: backgrounds.count(bg) for bg in backgrounds}
    rare = [y for y, bg in enumerate(backgrounds) if counts[bg] == 1 and 2 < y < SIZE[1] - 3]
    assert len(rare) == 1, backgrounds
    return rare[0]


def test_a_cursor_move_writes_the_two_rows_it_touched(tmp_path: Path) -> None:
    prog = _start(tmp_path, 0)
    try:
        full = _row_bytes_full_table(prog)
        start = _highlighted_row(prog)
        sizes = [prog.press("down").nbytes for _ in range(5)]
        assert _highlighted_row(prog) == start + 5  # the cursor really moved, on screen
        up = prog.press("up").nbytes
    finally:
        prog.close()
    assert full > 8000, full  # the queue fills the screen: a full repaint is big
    for n in [*sizes, up]:
        assert 0 < n < full / 5, (sizes, up, full)


def test_a_second_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    prog = _start(tmp_path, 1)  # real time: countdowns change once a minute
    try:
        full = _row_bytes_full_table(prog)
        prog.wait_quiet(0.3, 5)
        before = prog.total
        time.sleep(4.5)  # four or five ticks
        written = prog.total - before
    finally:
        prog.close()
    # At most one minute boundary falls in the window: the rows whose countdown changed, once
    # (a repaint of the table every second is ~13 KB a tick, over half a view switch in 4 s).
    assert written < full / 2, (written, full)


def test_countdowns_that_change_are_repainted(tmp_path: Path) -> None:
    prog = _start(tmp_path, 600)  # ten minutes a second
    try:
        first = prog.text().splitlines()[3:30]
        time.sleep(2.5)
        later = prog.text().splitlines()[3:30]
    finally:
        prog.close()
    sla_before = [line[:9] for line in first]
    sla_after = [line[:9] for line in later]
    assert sla_before != sla_after
