"""The app's daily background integrity check, paced so that it stays in the idle budget.

``PRAGMA quick_check`` over the whole file is one SQLite call: at a million tickets (2.4 GB)
it costs ~4-7 s of CPU at once (cold pages cost most), more than the app may spend idling in
five minutes (1 % of a core is 3 s). So the app checks one table at a time (``PRAGMA
quick_check(<table>)`` checks the table and all its indexes, SQLite >= 3.33), in name order,
on its own read-only connection, and keeps its CPU share while checking at :data:`DUTY`:
after every :data:`SLICE` of the checking thread's CPU time it sleeps ``SLICE / DUTY``. The
pause happens in SQLite's progress handler.

Where the round runs: in a child process (:mod:`~oncall_tui.store.integrity_child`) on
apsw's SQLite, which calls the progress handler during a table's b-tree walk too, so the
largest step between two pauses is ~30 ms even for the tickets table at a million tickets
(6.8 s of CPU cold, in ~300 slices). The SQLite Python links here (3.40) walks a table's
b-trees in one step the progress handler never sees; without apsw (or if the child cannot
run) the round goes on in this process, and that walk is paid back afterwards (the pause
after it is as much longer): ~1-7 s at once for the tickets table, more than a window's
budget.

The read transaction lasts one table at a time, so a checkpoint can reset the WAL between
tables (not during one: paced, the tickets table takes ~2 h at a million tickets, and the
WAL grows meanwhile by what the app writes). What is done survives a restart
(:data:`PROGRESS_KEY`, the last table found sound): an app that never runs for the hours a
million tickets take still gets through the file over a few starts. The app starts a due
round :data:`START_DELAY` after it started (app.py), so the check never shares a
five-minute window with the start-up's own work after the first paint. In any window of
``W`` seconds the check uses at most its largest step, plus ``DUTY * W``, plus a slice.
``oncall-tui doctor`` runs the whole-file check at once (:func:`checks.check_integrity`),
which also accounts for the free pages; this one does not (free pages hold no data).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from oncall_tui.store.db import BUSY_TIMEOUT_MS, HELD, connect_read_only

#: Meta key: the last table (in name order) the current round found sound.
PROGRESS_KEY = "integrity_progress"
#: CPU share of one core the check uses while it runs (0.1 %: ~1 h at a million tickets).
DUTY = 0.001
#: CPU seconds of checking between pauses.
SLICE = 0.02
#: SQLite VM steps between looks at the clock (the progress handler's period).
STEPS = 2000
#: How long after the app started a due round begins: past the five minutes the start-up's
#: work after the first paint (counts, warm-ups) falls in, with a margin.
START_DELAY = timedelta(minutes=6)


class _Pacer:
    """Sleeps the checking thread so that its CPU time stays ``duty`` of the wall time.

    The CPU a statement spends before SQLite first calls the progress handler (the b-tree
    walk) is paid back after the statement, outside its read transaction; the rest (the row
    scan) in slices inside it.
    """

    def __init__(self, stop: threading.Event, duty: float, slice_s: float) -> None:
        self.stop = stop
        self.duty = duty
        self.slice = slice_s
        self.mark = time.thread_time()
        self.walked = 0.0
        self.first = True

    def _sleep_for(self, used: float) -> None:
        self.stop.wait(used / self.duty - used)

    def statement(self) -> None:
        """A statement starts: what it uses up to the first progress call is its walk."""
        self.first = True

    def progress(self) -> int:
        """SQLite's progress handler: pauses once a slice is used; non-zero interrupts."""
        now = time.thread_time()
        used = now - self.mark
        if self.first:
            self.first = False
            self.walked += used
            self.mark = now
        elif used >= self.slice:
            self._sleep_for(used)
            self.mark = now  # what the pause itself costs counts towards the next slice
        return 1 if self.stop.is_set() else 0

    def settle(self) -> bool:
        """After a statement: pay back its walk and what is left; True if told to stop."""
        now = time.thread_time()
        used = self.walked + now - self.mark
        self.mark = now
        if used >= self.slice:
            self._sleep_for(used)
            self.walked = 0.0
        else:  # too little to pause for: carried on to the next table (a small file's
            self.walked = used  # whole check stays under one slice and never sleeps)
        return self.stop.is_set()


def table_names(conn: Any) -> list[str]:
    """Every b-tree table of the schema (virtual tables have none: their shadow tables are
    checked as tables), the schema table itself first."""
    rows = conn.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND rootpage > 0 ORDER BY name"
    )
    return ["sqlite_schema", *(str(r[0]) for r in rows)]


def check_paced(
    path: str | Path,
    *,
    after: str | None,
    stop: threading.Event,
    sound: Callable[[str], None],
    duty: float = DUTY,
    slice_s: float = SLICE,
    in_child: bool | None = None,
) -> str | None:
    """Check every table whose name sorts after ``after`` (all if None), paced.

    Calls ``sound(name)`` for each table found sound. Returns None when every table is sound
    (or ``stop`` was set: the caller tells them apart), else a one-line description of the
    damage, as :func:`checks.check_integrity` does.

    ``in_child`` (default: when apsw is installed) runs the check in a child process whose
    SQLite pauses inside a table's walk too (:mod:`~oncall_tui.store.integrity_child`); a
    child that cannot run leaves the rest of the round to this process.
    """
    if in_child is None:
        in_child = child_available()
    if in_child:
        done: list[str] = []

        def noted(name: str) -> None:
            done.append(name)
            sound(name)

        ended, problem = _check_in_child(path, after, stop, noted, duty, slice_s)
        if ended or stop.is_set():
            return problem
        after = max([after or "", *done]) or None  # the child failed: go on from its last
    return _check_in_process(path, after, stop, sound, duty, slice_s)


def child_available() -> bool:
    """Whether apsw (a binding with its own, newer SQLite) is installed for the child."""
    import importlib.util

    return importlib.util.find_spec("apsw") is not None


def _check_in_child(
    path: str | Path,
    after: str | None,
    stop: threading.Event,
    sound: Callable[[str], None],
    duty: float,
    slice_s: float,
) -> tuple[bool, str | None]:
    """Run the round in ``python -m oncall_tui.store.integrity_child``: (whether the child
    ended its round, the damage it found). The child reads its stdin until EOF, so closing
    it (or this process dying, even by SIGKILL) ends the child at its next pause."""
    import json
    import subprocess
    import sys

    command = [
        sys.executable,
        "-m",
        "oncall_tui.store.integrity_child",
        str(Path(path).absolute()),
        after or "",
        repr(duty),
        repr(slice_s),
    ]
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            encoding="utf-8",
            errors="replace",
        )
    except OSError:
        return False, None
    assert child.stdin is not None and child.stdout is not None

    def watch() -> None:
        while child.poll() is None:
            if stop.wait(1.0):
                _end(child)
                return

    threading.Thread(target=watch, name="integrity child", daemon=True).start()
    ended, problem = False, None
    try:
        for line in child.stdout:
            try:
                kind, value = json.loads(line)
            except (ValueError, TypeError):
                continue
            if kind == "sound" and isinstance(value, str):
                sound(value)
            elif kind == "end":
                ended, problem = True, value if isinstance(value, str) else None
    finally:
        _end(child)
    return ended, problem


def _end(child: Any) -> None:
    """Close the child's stdin (it stops at its next pause), then make sure it is gone."""
    import contextlib
    import subprocess

    with contextlib.suppress(OSError, ValueError):
        child.stdin.close()
    try:
        child.wait(timeout=3)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _check_in_process(
    path: str | Path,
    after: str | None,
    stop: threading.Event,
    sound: Callable[[str], None],
    duty: float,
    slice_s: float,
) -> str | None:
    """The round on this process's SQLite (3.40 walks a table's b-trees in one step)."""
    try:
        conn, held = connect_read_only(path, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        return str(exc)
    pacer = _Pacer(stop, duty, slice_s)
    try:
        conn.set_progress_handler(pacer.progress, STEPS)
        return check_tables(conn, after, pacer, sound)
    except sqlite3.OperationalError as exc:
        if stop.is_set():  # interrupted by the progress handler: the app is closing
            return None
        return str(exc)
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
        HELD.release(held)


def check_tables(
    conn: Any, after: str | None, pacer: _Pacer, sound: Callable[[str], None]
) -> str | None:
    """The round's loop, for a connection of either SQLite binding (``sqlite3``, or apsw in
    :mod:`~oncall_tui.store.integrity_child`): the damage found, or None."""
    for name in table_names(conn):
        if after is not None and name <= after and name != "sqlite_schema":
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        pacer.statement()
        found = [str(row[0]) for row in conn.execute(f"PRAGMA quick_check({quoted})")]
        if found != ["ok"]:
            return " ".join(" ".join(found).split())[:200]
        if name != "sqlite_schema":  # checked at every start of a round's part
            sound(name)
        if pacer.settle():
            return None
    return None
