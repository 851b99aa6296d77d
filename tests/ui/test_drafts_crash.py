"""A real process in a real pseudo-terminal, killed with SIGKILL while a bug report is typed.

What was typed more than a second before the kill must be in the database: the form saves
at most ``AUTOSAVE_SECONDS`` after a change, each save one committed statement (WAL).
No network: the demo runs on its seeded local database.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from oncall_tui.store import open_store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

TYPED = "zq-crash-proof-4711"
START_TIMEOUT = 30.0


class Terminal:
    """The app under a pty of 120x40, its output drained by a thread (so it never blocks)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.master = master
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.output += chunk

    def seen(self) -> bytes:
        with self._lock:
            return bytes(self.output)

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        start = len(self.seen())
        while time.monotonic() < deadline:
            if text.encode() in self.seen()[start:]:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.seen()[-2000:].decode(errors="replace")
        raise AssertionError(f"{text!r} never appeared (exit {self.proc.poll()}): …{tail}")

    def type(self, text: str, delay: float = 0.03) -> None:
        for char in text:
            os.write(self.master, char.encode())
            time.sleep(delay)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        os.close(self.master)
        self._reader.join(timeout=5)


def test_sigkill_keeps_what_was_typed(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    env.pop("TEXTUAL", None)  # no devtools, no driver overrides
    argv = [sys.executable, "-m", "oncall_tui", "--demo", "--db", str(db)]
    argv += ["--now", "2026-11-23T18:30:00Z"]
    term = Terminal(argv, env)
    try:
        term.wait_for("My queue")
        time.sleep(0.5)  # the queue has the focus
        term.type("b")
        term.wait_for("Bug report")
        time.sleep(0.5)
        term.type(f" {TYPED}")  # appended to the pre-filled title
        time.sleep(1.5)  # more than the autosave delay, less than a person's pause
    finally:
        term.kill()
    assert term.proc.returncode == -signal.SIGKILL

    store = open_store(db)
    try:
        drafts = store.drafts.all("bug_report")
        assert len(drafts) == 1, drafts
        assert drafts[0].fields["title"].endswith(f" {TYPED}")
        assert drafts[0].ticket_id is not None and drafts[0].state == "draft"
    finally:
        store.close()


REPLY_TYPED = "zq-reply-survives-0815"


def test_sigkill_mid_reply_keeps_the_reply_draft(tmp_path: Path) -> None:
    """A reply being typed when the process is killed is a draft on the same ticket; the
    next `r` on it resumes it (checked in tests/ui/test_reply_drafts.py)."""
    db = tmp_path / "demo.db"
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    env.pop("TEXTUAL", None)
    argv = [sys.executable, "-m", "oncall_tui", "--demo", "--db", str(db)]
    argv += ["--now", "2026-11-23T18:30:00Z"]
    term = Terminal(argv, env)
    try:
        term.wait_for("My queue")
        time.sleep(0.5)
        term.type("r")
        term.wait_for("Blank reply")
        time.sleep(0.3)
        term.type("\r")  # "Blank reply"
        term.wait_for("Leave (draft kept)")
        time.sleep(0.5)
        term.type(f"Hello, {REPLY_TYPED}")
        time.sleep(1.5)  # more than the autosave delay, less than a person's pause
    finally:
        term.kill()
    assert term.proc.returncode == -signal.SIGKILL

    store = open_store(db)
    try:
        (draft,) = store.drafts.all("reply")
        assert draft.fields["body"] == f"Hello, {REPLY_TYPED}"
        assert draft.ticket_id is not None and draft.state == "draft"
        comments = store.tickets.comments(draft.ticket_id)
        assert all(REPLY_TYPED not in c.body for c in comments)  # a draft, not a reply
    finally:
        store.close()
