"""A program in a real pseudo-terminal, read by a VT emulator: what a person's terminal receives.

:class:`PtyProgram` spawns a command with its stdin/stdout/stderr on the slave side of a pty of a
fixed size, and a reader thread drains the master side as the terminal would: every chunk is
timestamped, counted and fed to a `pyte` screen, so the measures are the bytes the app writes and
when the last of them arrived, and the screen text can be checked (the key really did what it
should).

``rate`` (bytes per second) turns the reader into a throttled link: it reads at most one
10 ms slice of the link at a time and waits until the link would have carried it before reading
again. The app's writes then block on a full pty buffer exactly as they would behind a slow SSH
connection (1 Mbit/s = 125,000 bytes/s), so frame pacing and coalescing are the app's own.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pyte

#: The bytes a terminal sends for each key we press.
KEY_BYTES = {
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "pagedown": b"\x1b[6~",
    "pageup": b"\x1b[5~",
    "home": b"\x1b[H",
    "ctrl+home": b"\x1b[1;5H",
    "escape": b"\x1b",
    "slash": b"/",
    "enter": b"\r",
    "backspace": b"\x7f",
    "ctrl+q": b"\x11",
    "ctrl+c": b"\x03",
}


def key_bytes(key: str) -> bytes:
    """The terminal's bytes for ``key`` (a name above, or literal characters)."""
    return KEY_BYTES.get(key, key.encode())


@dataclass
class Response:
    """What came back after one key: bytes, and when (seconds after the key was written)."""

    nbytes: int
    first: float | None
    """The first byte's arrival, None when nothing came back."""
    settled: float | None
    """The last byte's arrival before the output went quiet, None when nothing came back."""
    changed: float | None = None
    """When the watched rows first changed on screen, None when they did not."""


class PtyProgram:
    """``argv`` running in a ``cols``×``rows`` pty, its output emulated by pyte."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        size: tuple[int, int] = (120, 40),
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        rate: float | None = None,
    ) -> None:
        self.cols, self.rows = size
        self.rate = rate
        self.screen = pyte.Screen(self.cols, self.rows)
        self.stream = pyte.ByteStream(self.screen)
        self._lock = threading.Lock()
        self._chunks: list[tuple[float, int]] = []
        self.total = 0
        self._watch: tuple[int, int, str] | None = None
        self._changed_at: float | None = None
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        full_env = dict(env if env is not None else os.environ)
        full_env.update(TERM="xterm-256color", COLORTERM="truecolor", COLUMNS="", LINES="")
        full_env.pop("COLUMNS")
        full_env.pop("LINES")
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self._stop = False
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    # -- the terminal side

    def _read(self) -> None:
        slice_bytes = int(self.rate * 0.01) if self.rate else 65536
        link_free = time.perf_counter()
        while not self._stop:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.05)
            except (OSError, ValueError):
                return
            if not ready:
                continue
            try:
                data = os.read(self.master, max(1, slice_bytes))
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            now = time.perf_counter()
            if self.rate:
                # The link carries this chunk after what it is still carrying.
                link_free = max(link_free, now) + len(data) / self.rate
                delay = link_free - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                now = link_free
            with self._lock:
                self._chunks.append((now, len(data)))
                self.total += len(data)
                self.stream.feed(data)
                if self._watch is not None:
                    top, bottom, before = self._watch
                    if "\n".join(self.screen.display[top:bottom]) != before:
                        self._changed_at = now
                        self._watch = None

    def text(self) -> str:
        """The screen as text, one line per row."""
        with self._lock:
            return "\n".join(self.screen.display)

    def write(self, data: bytes) -> float:
        """Write what a keypress sends; returns when (perf_counter)."""
        t0 = time.perf_counter()
        os.write(self.master, data)
        return t0

    # -- waiting

    def wait_quiet(self, quiet: float, timeout: float, since: float | None = None) -> bool:
        """Wait until nothing arrived for ``quiet`` seconds (and, with ``since``, until at
        least one chunk arrived after it); False on timeout."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self._lock:
                last = self._chunks[-1][0] if self._chunks else None
            now = time.perf_counter()
            if last is not None and (since is None or last >= since) and now - last >= quiet:
                return True
            if since is not None and (last is None or last < since) and now - since >= quiet * 4:
                return True  # nothing came back at all
            time.sleep(min(0.005, quiet / 4))
        return False

    def wait_for(self, needle: str, timeout: float) -> bool:
        """Wait until ``needle`` is on the screen."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if needle in self.text():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.02)
        return False

    def press(
        self,
        key: str,
        *,
        quiet: float = 0.12,
        timeout: float = 5.0,
        watch: tuple[int, int] | None = None,
    ) -> Response:
        """Send ``key`` and wait for the output to settle; bytes and times that followed.

        ``watch`` (first row, row after the last): also note when the text of those screen rows
        first changed (``Response.changed``), e.g. the table's rows after a filter keystroke.
        """
        with self._lock:
            mark = len(self._chunks)
            self._changed_at = None
            self._watch = None
            if watch is not None:
                top, bottom = watch
                self._watch = (top, bottom, "\n".join(self.screen.display[top:bottom]))
        t0 = self.write(key_bytes(key))
        self.wait_quiet(quiet, timeout, since=t0)
        with self._lock:
            after = self._chunks[mark:]
            changed = self._changed_at
            self._watch = None
        if not after:
            return Response(0, None, None, None)
        return Response(
            sum(n for _t, n in after),
            after[0][0] - t0,
            after[-1][0] - t0,
            None if changed is None else changed - t0,
        )

    # -- the end

    def close(self, quit_keys: Sequence[str] = ("ctrl+q",)) -> None:
        """Ask the program to quit (its quit key), then terminate it if it did not."""
        for key in quit_keys:
            if self.proc.poll() is not None:
                break
            try:
                os.write(self.master, key_bytes(key))
            except OSError:
                break
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._stop = True
        self._reader.join(timeout=2)
        os.close(self.master)

    def __enter__(self) -> PtyProgram:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
