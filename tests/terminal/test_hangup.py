"""The terminal goes away without a hang-up signal: the app exits instead of spinning.

The app runs in its own session (as under ``setsid``, or a program that opened the pty for
it), so closing the terminal's other end sends it no ``SIGHUP``; Textual's input thread then
reads end-of-file at once, over and over. Before the check in ``oncall_tui.ui.hangup`` the
process stayed alive at about a core of CPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyte")

from bench.ptydriver import PtyProgram  # noqa: E402

from oncall_tui.ui.hangup import CHECK_SECONDS, terminal_gone  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_a_terminal_closed_under_the_app_ends_it(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "tests.terminal._child", str(tmp_path / "demo.db"), "0"]
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    prog = PtyProgram(argv, size=(100, 30), env=env, cwd=str(ROOT))
    try:
        assert prog.wait_for("Subject", 60), prog.text()
        assert prog.proc.poll() is None  # a live terminal: the app runs on
        prog._stop = True
        prog._reader.join(timeout=2)
        os.close(prog.master)  # the terminal's other end goes away, no signal sent
        prog.master = os.open(os.devnull, os.O_RDONLY)  # (for close() below)
        try:
            prog.proc.wait(timeout=CHECK_SECONDS * 3 + 10)
        except subprocess.TimeoutExpired:
            pytest.fail("the app kept running after its terminal closed")
    finally:
        if prog.proc.poll() is None:
            prog.proc.kill()
            prog.proc.wait()
        os.close(prog.master)


def test_a_terminal_with_its_other_end_open_has_not_hung_up() -> None:
    master, slave = os.openpty()
    try:
        os.write(master, b"x")  # input waiting is not a hang-up
        assert not terminal_gone(slave)
        os.close(master)
        master = -1
        assert terminal_gone(slave)
    finally:
        os.close(slave)
        if master >= 0:
            os.close(master)
