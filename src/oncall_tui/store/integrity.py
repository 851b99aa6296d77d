"""The app's daily background integrity check, paced so that it stays in the idle budget.

``PRAGMA quick_check`` over the whole file is one SQLite call: at a million tickets (2.4 GB)
it costs ~4 s of CPU at once, more than the app may spend idling in five minutes (1 % of a
core is 3 s). So the app checks one table at a time (``PRAGMA quick_check(<table>)`` checks
the table and all its indexes, SQLite ≥ 3.33), in name order, on its own read-only
connection, and keeps its CPU share while checking at :data:`DUTY`: after every
:data:`SLICE` of the checking thread's CPU time it sleeps ``SLICE / DUTY``. Inside a table
the pause happens in SQLite's progress handler (between rows of the NOT NULL scan); the walk
over a table's b-tree pages is a single step that cannot be paused, so it is paid back
afterwards (the pause after it is as much longer). The largest such step is the tickets
table with its indexes (~1 s of CPU at a million tickets).

The read transaction lasts one table at a time, so a checkpoint can reset the WAL between
tables. What is done survives a restart (:data:`PROGRESS_KEY`, the last table found sound):
an app that never runs for the ~hour a million tickets take still gets through the file over
a few starts. The app starts a due round :data:`START_DELAY` after it started (app.py), so
the check's largest step never falls in one five-minute window with the start-up's own work
after the first paint. In any window of ``W`` seconds the check uses at most its largest
walk, plus ``DUTY * W``, plus a slice: ~1.4 s + 0.3 s at a million tickets for five minutes.
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


def table_names(conn: sqlite3.Connection) -> list[str]:
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
) -> str | None:
    """Check every table whose name sorts after ``after`` (all if None), paced.

    Calls ``sound(name)`` for each table found sound. Returns None when every table is sound
    (or ``stop`` was set: the caller tells them apart), else a one-line description of the
    damage, as :func:`checks.check_integrity` does.
    """
    try:
        conn, held = connect_read_only(path, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        return str(exc)
    pacer = _Pacer(stop, duty, slice_s)
    try:
        conn.set_progress_handler(pacer.progress, STEPS)
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
    except sqlite3.OperationalError as exc:
        if stop.is_set():  # interrupted by the progress handler: the app is closing
            return None
        return str(exc)
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
        HELD.release(held)
    return None
