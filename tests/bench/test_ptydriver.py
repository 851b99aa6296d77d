"""The pty driver behind ``python -m bench terminal`` counts what a terminal really receives.

A tiny program in the pty answers each key with a known number of bytes; the driver must count
exactly those, show them on the emulated screen, see when watched rows change, and, as a
throttled link, take as long as the link needs to carry them.
"""

from __future__ import annotations

import sys
import textwrap
import time

import pytest

pytest.importorskip("pyte")

from bench.ptydriver import PtyProgram, key_bytes  # noqa: E402

#: Reads keys in raw mode; "a" → 1,000 bytes on row 5, "b" → nothing, "q" → exit.
ECHO = textwrap.dedent(
    """
    import os, sys, termios, tty
    tty.setraw(0)
    os.write(1, b"\\x1b[2J\\x1b[Hready")
    while True:
        ch = os.read(0, 1)
        if ch == b"a":
            os.write(1, b"\\x1b[5;1H" + b"x" * 994)
        elif ch == b"q":
            break
    """
)


def _start(**kw: object) -> PtyProgram:
    prog = PtyProgram([sys.executable, "-c", ECHO], size=(80, 24), **kw)  # type: ignore[arg-type]
    assert prog.wait_for("ready", 20), prog.text()
    prog.wait_quiet(0.1, 5)
    return prog


def test_counts_the_bytes_written_and_emulates_the_screen() -> None:
    prog = _start()
    try:
        answer = prog.press("a", watch=(4, 5))
        assert answer.nbytes == 1000  # 6 bytes of cursor move + 994: exactly what was written
        assert answer.first is not None and answer.settled is not None
        assert answer.first <= answer.settled
        assert answer.changed is not None and answer.changed <= answer.settled
        assert prog.text().splitlines()[4] == "x" * 80
        silent = prog.press("b", quiet=0.05)
        assert (silent.nbytes, silent.first, silent.changed) == (0, None, None)
    finally:
        prog.close(quit_keys=("q",))
    assert prog.proc.returncode == 0


def test_unchanged_rows_are_not_reported_as_changed() -> None:
    prog = _start()
    try:
        prog.press("a")
        again = prog.press("a", watch=(4, 5))  # the same text again: bytes, but no change
        assert again.nbytes == 1000 and again.changed is None
    finally:
        prog.close(quit_keys=("q",))


def test_a_throttled_link_takes_the_time_the_bytes_need() -> None:
    rate = 20_000.0  # bytes a second: 5 answers of 1,000 bytes need 250 ms on the link
    prog = _start(rate=rate)
    try:
        start = prog.total
        t0 = time.perf_counter()
        for _ in range(5):
            prog.write(key_bytes("a"))
        while prog.total - start < 5000 and time.perf_counter() - t0 < 10:
            time.sleep(0.002)
        elapsed = time.perf_counter() - t0  # when the terminal really had all of it
    finally:
        prog.close(quit_keys=("q",))
    assert 5000 / rate * 0.9 <= elapsed < 5


def test_key_names_are_what_a_terminal_sends() -> None:
    assert key_bytes("down") == b"\x1b[B"
    assert key_bytes("pagedown") == b"\x1b[6~"
    assert key_bytes("li") == b"li"
