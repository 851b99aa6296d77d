"""The app's daily background integrity check, paced so that it stays in the idle budget.

``PRAGMA quick_check`` over the whole file is one SQLite call: at a million tickets (2.4 GB)
it costs ~4 s of CPU at once (~9 s where the disk cache keeps little of the file), more than
the app may spend idling in five minutes (1 % of a core is 3 s). ``PRAGMA
quick_check(<table>)`` (the table and its indexes, SQLite ≥ 3.33) is no way out for a large
table: its walk over the b-tree pages is one step that cannot be paused (the tickets table
with its 15 indexes is 1 GB at a million tickets: 1.4 s of CPU warm, 6-9 s cold).

So the app checks one table at a time, in name order, on its own read-only connection, and
reads each b-tree through SQLite's ``dbstat`` table, one page per row (:class:`_Walk`):
SQLite's progress handler runs between pages, and the check keeps its CPU share at
:data:`DUTY`: after every :data:`SLICE` of the checking thread's CPU time it sleeps
``SLICE / DUTY``. The walk finds pages that are not b-tree pages, page numbers past the end
of the file, pages used twice, and indexes whose entries are not as many as the table's rows.
A table of at most :data:`QUICK_CHECK_PAGES` pages with its indexes is then also checked with
``PRAGMA quick_check(<table>)`` (its unpausable walk is small and just read); a larger one
has its NOT NULL columns read row by row instead (what ``quick_check`` reads past its walk),
paced the same way. What a large table's check leaves to ``oncall-tui doctor`` (the whole
file, SQLite's own check, at once): the order of keys, free space inside pages, and pages
that belong to nothing (free pages hold no data). Without ``dbstat`` (a SQLite built
without it) every table gets ``quick_check`` as before.

Each b-tree's walk is one statement and read transaction (a checkpoint can reset the WAL in
between); the longest is the tickets table's own b-tree and its row scan. What is done
survives a restart (:data:`PROGRESS_KEY`, the last table found sound): an app that never
runs for the hour or two a million tickets take still gets through the file over a few
starts. The app starts a due round :data:`START_DELAY` after it started (app.py), so the
check never falls in one five-minute window with the start-up's own work after the first
paint. In any window of ``W`` seconds the check uses at most its largest step that cannot be
paused (a small table's ``quick_check``), plus ``DUTY * W``, plus a slice.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

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


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _has_dbstat(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1 FROM dbstat WHERE name = 'sqlite_schema' LIMIT 0").fetchall()
    except sqlite3.OperationalError:
        return False  # a SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
    return True


class _Tree(NamedTuple):
    problem: str | None
    pages: int
    rows: int
    """A table's rows (its leaf cells; all cells of a table WITHOUT ROWID), an index's entries
    (all its cells: an index keeps keys on its inner pages too)."""


class _Walk:
    """The pages of the b-trees, read one page per row of SQLite's ``dbstat`` table (the
    progress handler, and so the pacing, runs between pages).

    What it finds: a page SQLite cannot read as a b-tree page (``dbstat`` calls it
    ``corrupted``), a child or overflow page number past the end of the file (the read
    fails), a page that two b-trees use or one twice, and an index whose entries are not as
    many as the table's rows (a lost or doubled subtree).

    Each b-tree is one statement (its own read transaction: a checkpoint may reset the WAL in
    between), so another connection may write between two of them and move a page from one
    b-tree to another. ``PRAGMA data_version`` tells: pages are compared across b-trees only
    among those walked with no write in between (an epoch)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.seen = 0
        """The pages walked in this epoch, as bits."""
        self.epoch: int | None = None

    def version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def tree(self, name: str) -> _Tree:
        start = self.version()
        mine = bytearray()
        pages = leaf = cells = 0
        keyed = False
        rows = self.conn.execute(
            "SELECT pageno, pagetype, ncell, payload FROM dbstat WHERE name = ?", [name]
        )
        for pageno, kind, ncell, payload in rows:
            if kind == "corrupted":
                return _Tree(f"{name}: page {pageno} is not a b-tree page", 0, 0)
            byte, bit = divmod(int(pageno), 8)
            if byte >= len(mine):
                mine.extend(bytes(byte - len(mine) + 1))
            if mine[byte] >> bit & 1:
                return _Tree(f"{name}: page {pageno} is used twice", 0, 0)
            mine[byte] |= 1 << bit
            pages += 1
            if kind == "leaf":
                leaf += int(ncell)
            if kind in ("leaf", "internal"):
                cells += int(ncell)
                keyed = keyed or (kind == "internal" and int(payload) > 0)
        end = self.version()
        here = int.from_bytes(mine, "little")
        if start != end:  # written meanwhile: this walk's snapshot is not known
            self.epoch, self.seen = None, 0
        elif start != self.epoch:  # the first walk after a write: a new epoch
            self.epoch, self.seen = start, here
        elif both := self.seen & here:
            pageno = (both & -both).bit_length() - 1
            return _Tree(f"{name}: page {pageno} is used by another b-tree too", 0, 0)
        else:
            self.seen |= here
        return _Tree(None, pages, cells if keyed else leaf)


def _trees(conn: sqlite3.Connection, table: str) -> tuple[list[str], set[str]]:
    """The table's indexes with their own b-tree, and those of them that are partial."""
    names = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? "
            "AND rootpage > 0 ORDER BY name",
            [table],
        )
    ]
    partial = {str(r[1]) for r in conn.execute(f"PRAGMA index_list({_quoted(table)})") if r[4]}
    return names, partial


def _walk_table(walk: _Walk, pacer: _Pacer, table: str) -> tuple[str | None, int]:
    """Walk a table's b-tree and its indexes'. Returns the damage or None, and the pages
    walked. The rows are compared with each index's entries only when no other connection
    wrote from the first walk to the last."""
    indexes, partial = _trees(walk.conn, table)
    before = walk.version()
    pacer.statement()
    found = walk.tree(table)
    if found.problem is not None:
        return found.problem, 0
    pages = found.pages
    counts: dict[str, int] = {}
    for index in indexes:
        pacer.statement()
        entries = walk.tree(index)
        if entries.problem is not None:
            return entries.problem, 0
        pages += entries.pages
        counts[index] = entries.rows
    if walk.version() == before:  # one snapshot: the counts must agree
        for index, entries_n in counts.items():
            if index not in partial and entries_n != found.rows:
                return f"{index}: {entries_n} entries for {found.rows} rows of {table}", 0
    return None, pages


def _scan_rows(conn: sqlite3.Connection, pacer: _Pacer, table: str) -> str | None:
    """Read every row of a table for its NOT NULL columns (what ``quick_check`` reads past
    its walk), in one paced statement."""
    columns = [
        str(r[1])
        for r in conn.execute(f"PRAGMA table_info({_quoted(table)})")
        if r[3] and not r[5]  # NOT NULL, not the rowid alias
    ]
    if not columns:
        return None  # nothing a row could break that the walk did not read
    missing = " OR ".join(f"typeof({_quoted(c)}) = 'null'" for c in columns)
    pacer.statement()
    row = conn.execute(
        f"SELECT count(*) FROM {_quoted(table)} NOT INDEXED WHERE {missing}"
    ).fetchone()
    if row[0]:
        return f"{table}: {row[0]} rows with NULL in a NOT NULL column"
    return None


#: A table whose b-trees (with its indexes') have at most this many pages is also checked
#: with ``PRAGMA quick_check(<table>)``: its one step that cannot be paused is small (16 MB
#: at 4 KiB pages: ~0.1 s read from a cold disk cache). Larger ones get the paced walk and
#: row scan only; ``oncall-tui doctor`` checks the whole file with SQLite's own check.
QUICK_CHECK_PAGES = 4096


def _check_table(
    conn: sqlite3.Connection, walk: _Walk | None, pacer: _Pacer, name: str
) -> str | None:
    quick = walk is None
    if walk is not None and name != "sqlite_schema":
        problem, pages = _walk_table(walk, pacer, name)
        if problem is not None:
            return problem
        quick = pages <= QUICK_CHECK_PAGES
        if not quick:
            return _scan_rows(conn, pacer, name)
    pacer.statement()
    found = [str(row[0]) for row in conn.execute(f"PRAGMA quick_check({_quoted(name)})")]
    if found != ["ok"]:
        return " ".join(" ".join(found).split())[:200]
    return None


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
        walk = _Walk(conn) if _has_dbstat(conn) else None
        for name in table_names(conn):
            if after is not None and name <= after and name != "sqlite_schema":
                continue
            problem = _check_table(conn, walk, pacer, name)
            if problem is not None:
                return problem
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
