"""Opening the database: file checks, pragmas, migrations (the :class:`Store` over it is
built by :func:`oncall_tui.store.open.open_store`).

``open_store`` refuses, before writing a single byte, a file that is not an SQLite database,
one that is truncated, another application's database, one whose tables or columns are gone,
and one written by a newer oncall-tui; each with a message that says what to do next. The file
is never "repaired" or overwritten. A file it cannot write (a read-only file system, a folder
without write permission) is reported as such: it may hold changes not yet sent, so the advice
is never to throw it away.

Nothing in this process opens a database file outside SQLite while SQLite holds it: on POSIX,
closing *any* descriptor of a file drops every lock the process holds on it, so a second
process would believe it is the last connection and delete the live WAL (SQLite's "How To
Corrupt An SQLite Database File", section 2.2). The raw header check runs only while no
connection of this process is open on the file (:data:`HELD` counts them).

Opening an up-to-date database and reading it does not import sqlite-utils (~30 ms, a fifth
of a cold start): :class:`Database` answers reads on the bare connection and hands everything
else to a sqlite-utils ``Database`` on the same connection, created at the first write (or
migration, or any other sqlite-utils method).

It runs past 500 lines because the opening path is one piece: each refusal above is checked
next to the message it gives. ``doctor``'s read-only look at a file, the whole-file integrity
check and the damage message are in :mod:`oncall_tui.store.checks`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

#: ``PRAGMA user_version`` of an up-to-date database: the number of migrations in
#: ``migrations.py``. Written out here so that opening an up-to-date database does not import
#: the migrations (they import sqlite-utils). Add one when adding a migration: ``open_store``
#: raises whenever it migrates while the two disagree (every fresh database migrates, so the
#: tests notice at once), and tests/store/test_db.py checks it too.
SCHEMA_VERSION = 16

SQLITE_MAGIC = b"SQLite format 3\x00"
#: Written to the header's application_id so our files are recognisable ("ONCL").
APPLICATION_ID = 0x4F4E434C
BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """The database cannot be used; the message is ready to show to the user."""


class NewerSchemaError(StoreError):
    """The database was written by a newer version of oncall-tui."""


class CorruptDatabaseError(StoreError):
    """The file is not a usable SQLite database."""


class DamagedRowError(StoreError):
    """One row cannot be read back (bad JSON, date or enum): names the table and the row.

    Lists (the queue, a thread, the drafts) leave such a row out and note it in the sync log;
    asking for that one row raises this.
    """

    def __init__(self, table: str, row_id: object, detail: object) -> None:
        self.table = table
        self.row_id = row_id
        shown = " ".join(str(detail).split())[:160]
        super().__init__(f"{table} row {row_id} is damaged ({shown})")


class ForeignDatabaseError(StoreError):
    """The file is another application's SQLite database."""


class UnwritableDatabaseError(StoreError):
    """The database cannot be opened or written here (permissions, read-only file system...)."""


#: SQLite's primary result codes that :func:`open_store` tells apart.
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED = 3, 5, 6
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 11, 13, 26
#: Tables every oncall-tui database has had since the first release (columns are checked
#: against the list written at the last migration, see :func:`_check_schema`).
CORE_TABLES = (
    "customers",
    "tickets",
    "comments",
    "drafts",
    "outbox",
    "sync_state",
    "sync_log",
    "meta",
    "ticket_fts",
)
#: The meta key holding every table's columns as the migrations left them (JSON).
SCHEMA_COLUMNS_KEY = "schema_columns"


def iso(value: datetime | None) -> str | None:
    """A timezone-aware datetime as UTC ISO-8601 text with a trailing Z (sortable)."""
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("naive datetimes are not stored; attach a time zone")
    if offset:
        value = value.astimezone(UTC)
    # isoformat is twice as fast as strftime, and this runs for every stored instant
    return value.isoformat(timespec="seconds")[:19] + "Z"


def parse_iso(value: str | None) -> datetime | None:
    """Inverse of :func:`iso`."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def dumps(value: Any) -> str:
    """Compact JSON for TEXT columns."""
    return _encode(value)


# json.dumps with options builds an encoder per call; the store writes several per row
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class HeldFiles:
    """The database files this process holds SQLite connections to, by (device, inode).

    :func:`open_store` and :func:`connect_read_only` count a connection in when they open it
    and out when it is closed; the raw header check (Python's ``open``) runs only while the
    count is zero. Every check and every connect happens under one lock, so no thread reads a
    header while another opens a connection to the same file.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._counts: dict[tuple[int, int], int] = {}

    @staticmethod
    def key(path: Path) -> tuple[int, int] | None:
        """(device, inode) of ``path``, or None if there is no such file (stat opens nothing)."""
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        return st.st_dev, st.st_ino

    def held(self, path: Path) -> bool:
        """True while a connection of this process is open on the file at ``path``."""
        key = self.key(path)
        with self.lock:
            return key is not None and self._counts.get(key, 0) > 0

    def hold(self, path: Path) -> tuple[int, int] | None:
        """Count in a connection just opened on ``path``; returns the key to release."""
        key = self.key(path)
        if key is not None:
            with self.lock:
                self._counts[key] = self._counts.get(key, 0) + 1
        return key

    def release(self, key: tuple[int, int] | None) -> None:
        """Count out a connection that was closed."""
        if key is None:
            return
        with self.lock:
            left = self._counts.get(key, 0) - 1
            if left > 0:
                self._counts[key] = left
            else:
                self._counts.pop(key, None)


#: This process's connections, by file.
HELD = HeldFiles()


def connect_read_only(path: str | Path, **kwargs: Any) -> tuple[sqlite3.Connection, Any]:
    """A read-only SQLite connection to ``path``, counted in :data:`HELD`.

    Returns the connection and the key to hand to ``HELD.release`` once it is closed.
    """
    target = Path(path)
    uri = target.absolute().as_uri() + "?mode=ro"  # quoted: '#', '?' or '%' in a name are safe
    with HELD.lock:
        conn = sqlite3.connect(uri, uri=True, **kwargs)
        return conn, HELD.hold(target)


def _check_file(path: Path) -> None:
    """Refuse files that are not ours to open, without writing to them.

    Reads the first 100 bytes with Python's ``open``: the caller makes sure no connection of
    this process is open on the file (see :class:`HeldFiles`).
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot use this path for the database: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{path} is a folder; pass --db with the path of a database file")
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(
            f"{path} is not a regular file (a device, pipe or socket); pass --db with the path "
            "of a database file"
        )
    size = st.st_size
    if size == 0:
        return  # an empty file is a new database (e.g. created by us with mode 0600)
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the database: {exc.strerror}") from None
    advice = DAMAGE_ADVICE
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise CorruptDatabaseError(f"{path}: this is not an SQLite database. {advice}")
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    change_counter, page_count = struct.unpack(">II", header[24:32])
    version_valid_for = struct.unpack(">I", header[92:96])[0]
    if page_count and version_valid_for == change_counter and size < page_count * page_size:
        # The page count in the header is only trusted when it was written by the same
        # change as the header itself (SQLite's own rule).
        wal = path.with_name(path.name + "-wal")
        if not (wal.exists() and wal.stat().st_size > 0):
            raise CorruptDatabaseError(
                f"{path}: the database is truncated ({size} of {page_count * page_size} "
                f"bytes). {advice}"
            )


def import_sqlite_utils() -> ModuleType:
    """Import sqlite-utils without letting it import numpy and pandas.

    ``sqlite_utils.db`` imports numpy and pandas at import time when they are installed, only
    to map their scalar types to column types; we never hand it numpy or pandas values, and
    numpy alone adds ~40 ms. A ``None`` entry in ``sys.modules`` makes an import fail with
    ImportError, which sqlite-utils handles (as when they are not installed); the entries are
    removed straight after, so a later ``import numpy`` anywhere else works as usual. When
    numpy or pandas is already imported it is left alone.
    """
    blocked = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import sqlite_utils
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return sqlite_utils


#: Rows in one statement of :meth:`Database.insert_rows` (fewer if the connection's variable
#: limit asks it).
ROWS_PER_INSERT = 500

#: Leading keywords of statements that can never open a transaction: for these, sqlite-utils'
#: ``execute`` does exactly what the bare connection does (Python's sqlite3 opens a
#: transaction only before INSERT, UPDATE, DELETE and REPLACE).
_READ_KEYWORDS = frozenset({"SELECT", "WITH", "PRAGMA", "EXPLAIN", "VALUES"})


def _first_word(sql: str) -> str:
    head = sql.lstrip()[:8]
    end = 0
    while end < len(head) and head[end].isalpha():
        end += 1
    return head[:end].upper()


@contextmanager
def _immediate_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """The outermost transaction, taking the write lock at BEGIN.

    A deferred ``BEGIN`` that reads before it writes cannot wait for another connection's
    write: SQLite answers ``SQLITE_BUSY`` ("database is locked") at once, whatever the busy
    timeout. ``BEGIN IMMEDIATE`` waits (up to the timeout) before the transaction reads.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class Database:
    """The store's connection: sqlite-utils' ``Database``, imported only when needed.

    Reads (and pragmas) go straight to the connection, which is what sqlite-utils' ``execute``
    does for them; writes, nested transactions (savepoints), migrations and every other
    sqlite-utils method go to a sqlite-utils ``Database`` on the same connection, made on
    first use. Outermost transactions are ``BEGIN IMMEDIATE`` (see
    :func:`_immediate_transaction`), for the store's own calls and sqlite-utils' alike.
    """

    def __init__(self, conn: sqlite3.Connection, held: tuple[int, int] | None = None) -> None:
        self.conn = conn
        self._full: Any = None
        self._held = held

    @property
    def full(self) -> Any:
        """The sqlite-utils ``Database`` on this connection (imports sqlite-utils once)."""
        if self._full is None:
            self._full = _sqlite_utils_database(self.conn)
        return self._full

    def execute(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> sqlite3.Cursor:
        """Run one statement (sqlite-utils' ``execute``: a lone write is committed)."""
        if _first_word(sql) in _READ_KEYWORDS:
            if parameters is None:
                return self.conn.execute(sql)
            return self.conn.execute(sql, parameters)
        cursor: sqlite3.Cursor = self.full.execute(sql, parameters)
        return cursor

    def insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        or_ignore: bool = False,
    ) -> None:
        """Insert ``rows`` (values in ``columns``' order) with multi-row ``VALUES``
        statements, up to :data:`ROWS_PER_INSERT` rows each (``or_ignore``: a row that
        breaks a uniqueness constraint is left out, as ``INSERT OR IGNORE`` does).

        Not ``executemany``: each of its rows is a statement of its own, and a statement
        that writes a table with triggers (``tickets``) keeps a statement journal (a copy of
        each page it changes, so that it alone can be undone; past 64 KiB, in a temporary
        file). Row by row, every row copies again the pages it touches, a leaf of each of
        the table's 15 indexes: ~64 MB for a page of 1,000 tickets. Measured on 100,000
        tickets in pages of 1,000: 15 s row by row, 8 s in statements of 500 rows, 7 s with
        no trigger at all. Row by row also hands the GIL back and forth for every row (see
        :meth:`update_rows`).
        """
        verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
        head = f"{verb} INTO {table} ({', '.join(columns)}) VALUES "
        self._in_statements(head, "", len(columns), rows)

    def update_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Set ``columns`` of the rows whose ``id`` is each row's last value (the values
        before it in ``columns``' order), with ``UPDATE … FROM (VALUES …)`` statements of up
        to :data:`ROWS_PER_INSERT` rows each. The ids must differ.

        Not ``executemany``, for the reason :meth:`insert_rows` gives and one more: between
        two rows of an ``executemany`` the calling thread takes the GIL back, and the sync
        engine's store thread shares it with the event loop, which holds it for a while
        when busy (one measurement: 60,000 inserts from a thread, 0.4 s with the main thread
        idle, 59 s with it busy in Python; 1.2 s in statements of 500 rows).
        """
        assert len({row[-1] for row in rows}) == len(rows), "one update per id"
        width = len(columns) + 1
        sets = ", ".join(f"{c} = v.column{i}" for i, c in enumerate(columns, start=1))
        head = f"UPDATE {table} SET {sets} FROM (VALUES "
        tail = f") AS v WHERE {table}.id = v.column{width}"
        self._in_statements(head, tail, width, rows)

    def _in_statements(
        self, head: str, tail: str, width: int, rows: Sequence[Sequence[Any]]
    ) -> None:
        """``head`` + a ``VALUES`` list of up to :data:`ROWS_PER_INSERT` rows of ``width``
        values (fewer if the variable limit asks it) + ``tail``, run until ``rows`` are all
        in."""
        limit = self.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per = max(1, min(ROWS_PER_INSERT, limit // max(1, width)))
        one = "(" + ", ".join("?" * width) + ")"
        for start in range(0, len(rows), per):
            part = rows[start : start + per]
            values = [value for row in part for value in row]
            self.conn.execute(head + ", ".join([one] * len(part)) + tail, values)

    @contextmanager
    def atomic(self) -> Iterator[Database]:
        """One transaction (``BEGIN IMMEDIATE``); nested, a savepoint (sqlite-utils')."""
        if self.conn.in_transaction:
            with self.full.atomic():
                yield self
            return
        with _immediate_transaction(self.conn):
            yield self

    def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close the connection (and count it out of :data:`HELD`)."""
        self.conn.close()
        held, self._held = self._held, None
        HELD.release(held)

    def __getitem__(self, table_name: str) -> Any:
        return self.full[table_name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.full, name)


def _sqlite_utils_database(conn: sqlite3.Connection) -> Any:
    """A sqlite-utils ``Database`` on ``conn`` whose outermost transactions are IMMEDIATE."""
    base = import_sqlite_utils().Database

    class ImmediateDatabase(base):  # type: ignore[misc, valid-type]
        @contextmanager
        def atomic(self) -> Iterator[Any]:
            if self.conn.in_transaction:  # nested: sqlite-utils makes it a savepoint
                with super().atomic():
                    yield self
                return
            with _immediate_transaction(self.conn):
                yield self

    # open_store already set recursive_triggers; plugins are never loaded (as before).
    return ImmediateDatabase(conn, recursive_triggers=False, execute_plugins=False)


def _connect(path: Path) -> sqlite3.Connection:
    if str(path) != ":memory:" and not path.exists():
        from oncall_tui.settings.paths import ensure_private_dir

        ensure_private_dir(path.parent)
        # Create the file ourselves so it is private (0600) from its first byte; SQLite gives
        # its -wal and -shm files the same mode. (No connection can hold a file that did not
        # exist a moment ago, so this descriptor drops nobody's locks.)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    return conn


def _read_only_fs(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _keep_advice(path: Path) -> str:
    """What to do about a database that cannot be written: never "throw it away"."""
    where = "the file system is read-only" if _read_only_fs(path.parent) else None
    why = f" ({where})" if where else ""
    return (
        f"Keep the file{why}: it may hold changes not yet sent. Make {path.parent} writable "
        "and start again, or copy the file to a writable folder and pass --db with the copy."
    )


def _unwritable(path: Path, detail: str) -> UnwritableDatabaseError:
    return UnwritableDatabaseError(
        f"{path}: cannot open the database for writing ({detail}). {_keep_advice(path)}"
    )


def _sqlite_failure(path: Path, exc: sqlite3.Error) -> StoreError:
    """The message for an SQLite error while opening ``path``, by its result code."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    detail = " ".join(str(exc).split())[:200]
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or (
        primary is None and not isinstance(exc, sqlite3.OperationalError)
    ):
        return CorruptDatabaseError(
            f"{path}: the database cannot be read ({detail}). {DAMAGE_ADVICE}"
        )
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return StoreError(
            f"{path}: another program kept the database locked for over "
            f"{BUSY_TIMEOUT_MS // 1000} s ({detail}); close it (a sqlite3 shell, a backup "
            "tool) and start again"
        )
    if primary == _SQLITE_FULL:
        return StoreError(
            f"{path}: the disk is full ({detail}); free some space and start again (the file "
            "may hold changes not yet sent: keep it)"
        )
    return _unwritable(path, detail)


def _ownership(db: Database, path: Path, user_version: int) -> None:
    """Refuse another application's database, reading only (nothing is written before)."""
    app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
    if app_id == APPLICATION_ID:
        return
    tables = [
        str(r[0])
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 6"
        )
    ]
    if app_id == 0 and user_version == 0 and not tables:
        return  # a new, empty database: ours to create
    shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
    what = f"application id {app_id:#x}" if app_id else "no oncall-tui application id"
    holds = f", tables: {shown}" if tables else ""
    raise ForeignDatabaseError(
        f"{path}: this is not an oncall-tui database ({what}{holds}); it was left untouched. "
        "Pass --db with another path (or leave --db out to use oncall-tui's own file)."
    )


def _present_columns(db: Database) -> dict[str, set[str]]:
    present: dict[str, set[str]] = {}
    for table, column in db.execute(
        "SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p "
        "WHERE m.type = 'table'"
    ):
        present.setdefault(str(table), set()).add(str(column))
    return present


def _check_schema(db: Database, path: Path) -> None:
    """Refuse an up-to-date database whose tables or columns are gone, naming the first one.

    The tables every release had are checked by name; the columns against the list the last
    migration wrote to ``meta`` (a database migrated before that list existed is checked by
    table only). A query on a column dropped later is caught by the app (see ``ui/app.py``).
    """
    present = _present_columns(db)
    for table in CORE_TABLES:
        if table not in present:
            raise _damaged_schema(db, path, f"table {table} is missing")
    row = db.execute("SELECT value FROM meta WHERE key = ?", [SCHEMA_COLUMNS_KEY]).fetchone()
    if row is None:
        return
    try:
        expected = json.loads(row[0])
        items = sorted(expected.items()) if isinstance(expected, dict) else []
    except ValueError:
        items = []
    for table, columns in items:
        if table not in present:
            raise _damaged_schema(db, path, f"table {table} is missing")
        for column in columns if isinstance(columns, list) else ():
            if column not in present[table]:
                raise _damaged_schema(db, path, f"column {table}.{column} is missing")


def _damaged_schema(db: Database, path: Path, what: str) -> CorruptDatabaseError:
    try:
        unsent = int(
            db.execute("SELECT count(*) FROM outbox WHERE state NOT IN ('done')").fetchone()[0]
        )
    except sqlite3.Error:
        unsent = 0
    keep = (
        f" It holds {unsent} change{'s' if unsent != 1 else ''} not yet sent (in its outbox "
        "table): keep the moved file."
        if unsent
        else ""
    )
    return CorruptDatabaseError(f"{path}: the database is damaged: {what}. {DAMAGE_ADVICE}{keep}")


def open_database(
    path: Path, *, migrate: Callable[[Database], None] | None = None
) -> tuple[Database, bool]:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date:
    the checks, pragmas and migrations of :func:`oncall_tui.store.open.open_store`.

    Args:
        path: database file, or ``":memory:"``.
        migrate: applies the pending migrations (:func:`oncall_tui.store.open.apply_migrations`,
            passed in so that this module does not import them); None: no migration (the
            sync engine's second connection).

    Returns:
        The connection, and whether it migrated (the stored clocks may ask for a recompute).

    Raises:
        StoreError: as :func:`oncall_tui.store.open.open_store`.
    """
    memory = str(path) == ":memory:"
    try:
        with HELD.lock:
            if not memory and not HELD.held(path):
                _check_file(path)  # raw header read: only while no connection of ours is open
            conn = _connect(path)
            db = Database(conn, None if memory else HELD.hold(path))
    except sqlite3.Error as exc:
        raise _sqlite_failure(path, exc) from None
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot create the database here ({exc.strerror or exc}); pass --db "
            "with a path in a folder you can write to"
        ) from None
    try:
        db.execute("PRAGMA recursive_triggers = on")  # as sqlite-utils' Database sets it
        user_version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if not memory:
            _ownership(db, path, user_version)
        if user_version > SCHEMA_VERSION:
            raise NewerSchemaError(
                f"{path}: this database was written by a newer oncall-tui (schema "
                f"{user_version}; this version knows up to {SCHEMA_VERSION}). Upgrade "
                "oncall-tui, or move the file aside to start a fresh cache; it was left "
                "untouched."
            )
        if user_version == SCHEMA_VERSION and not memory:
            _check_schema(db, path)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not memory:
            _use_wal(db)
        db.execute("PRAGMA synchronous = NORMAL")  # durable at each WAL checkpoint; safe in WAL
        db.execute("PRAGMA foreign_keys = ON")
        if migrate is not None and user_version < SCHEMA_VERSION:
            migrate(db)
    except StoreError:
        db.close()
        raise
    except sqlite3.Error as exc:
        db.close()
        raise _sqlite_failure(path, exc) from None
    return db, migrate is not None and user_version < SCHEMA_VERSION


def _use_wal(db: Database) -> None:
    """``PRAGMA journal_mode = WAL``, the first write to a new file.

    Switching needs the file to itself, and SQLite answers "database is locked" at once, not
    after the busy timeout, when another process is opening the same new file at that moment
    (the app and ``sync --once`` started together). Retried up to the busy timeout; a file
    already in WAL mode (every one after its first open) answers at once.
    """
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            busy = isinstance(code, int) and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


DAMAGE_ADVICE = (
    "The file was left untouched. Move it aside (or pass --db with another path) and "
    "oncall-tui will create a fresh database and sync again."
)
