"""Opening the database: file checks, pragmas, migrations, and the :class:`Store` facade.

``open_store`` refuses, before writing a single byte, a file that is not an SQLite database,
one that is truncated, and one written by a newer oncall-tui; each with a message that says
what to do next. The file is never "repaired" or overwritten.

Opening an up-to-date database and reading it does not import sqlite-utils (~30 ms, a fifth
of a cold start): :class:`Database` answers reads on the bare connection and hands everything
else to a sqlite-utils ``Database`` on the same connection, created at the first write (or
migration, or any other sqlite-utils method).
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from oncall_tui.clock import Clock, SystemClock
from oncall_tui.domain.sla import SlaSettings

if TYPE_CHECKING:
    from oncall_tui.store.store import Store

#: ``PRAGMA user_version`` of an up-to-date database: the number of migrations in
#: ``migrations.py``. Written out here so that opening an up-to-date database does not import
#: the migrations (they import sqlite-utils). Add one when adding a migration: ``open_store``
#: raises whenever it migrates while the two disagree (every fresh database migrates, so the
#: tests notice at once), and tests/store/test_db.py checks it too.
SCHEMA_VERSION = 6

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


def iso(value: datetime | None) -> str | None:
    """A timezone-aware datetime as UTC ISO-8601 text with a trailing Z (sortable)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; attach a time zone")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str | None) -> datetime | None:
    """Inverse of :func:`iso`."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def dumps(value: Any) -> str:
    """Compact JSON for TEXT columns."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _check_file(path: Path) -> None:
    """Refuse files that are not ours to open, without writing to them."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return  # an empty file is a new database (e.g. created by us with mode 0600)
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the database: {exc.strerror}") from None
    advice = (
        "The file was left untouched. Move it aside (or pass --db with another path) and "
        "oncall-tui will create a fresh database and sync again."
    )
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

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._full: Any = None

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
        """Close the connection."""
        self.conn.close()

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
        from oncall_tui.paths import ensure_private_dir

        ensure_private_dir(path.parent)
        # Create the file ourselves so it is private (0600) from its first byte; SQLite gives
        # its -wal and -shm files the same mode.
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    return conn


def open_store(
    path: str | Path,
    *,
    sla: SlaSettings | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
) -> Store:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date.

    Args:
        path: database file, or ``":memory:"``.
        sla: SLA settings used to compute due instants when tickets change.
        clock: where "now" comes from for local edits.
        migrate: apply pending migrations (the sync engine's second connection skips it).

    Raises:
        StoreError: the file is not a database, is truncated or corrupt, or is newer.
    """
    path = Path(path)
    memory = str(path) == ":memory:"
    if not memory:
        _check_file(path)
    try:
        conn = _connect(path)
        db = Database(conn)
        db.execute("PRAGMA recursive_triggers = on")  # as sqlite-utils' Database sets it
        user_version = db.execute("PRAGMA user_version").fetchone()[0]
        if user_version > SCHEMA_VERSION:
            conn.close()
            raise NewerSchemaError(
                f"{path}: this database was written by a newer oncall-tui (schema "
                f"{user_version}; this version knows up to {SCHEMA_VERSION}). Upgrade "
                "oncall-tui, or move the file aside to start a fresh cache; it was left "
                "untouched."
            )
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not memory:
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # durable at each WAL checkpoint; safe in WAL
        db.execute("PRAGMA foreign_keys = ON")
        if migrate and user_version < SCHEMA_VERSION:
            _migrate(db)
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(
            f"{path}: the database cannot be read ({exc}). The file was left untouched. Move "
            "it aside (or pass --db with another path) and oncall-tui will create a fresh "
            "database and sync again."
        ) from None
    from oncall_tui.store.store import Store

    return Store(db, sla=sla or SlaSettings.default(), clock=clock or SystemClock(), path=path)


def _migrate(db: Database) -> None:
    """Apply the pending migrations (this imports them, and sqlite-utils)."""
    import_sqlite_utils()
    from oncall_tui.store import migrations as schema

    if schema.SCHEMA_VERSION != SCHEMA_VERSION:
        raise RuntimeError(
            f"oncall_tui/store/db.py says SCHEMA_VERSION = {SCHEMA_VERSION} but "
            f"migrations.py holds {schema.SCHEMA_VERSION} migrations: update db.py"
        )
    with db.atomic():
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    schema.migrations.apply(db.full)  # sqlite-utils' own Database, as migrations expect
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


DAMAGE_ADVICE = (
    "The file was left untouched. Move it aside (or pass --db with another path) and "
    "oncall-tui will create a fresh database and sync again."
)


def check_integrity(path: str | Path) -> str | None:
    """Look at every page once, read-only: None if sound, else a one-line description.

    Damage past the first pages only shows when a query happens to read it, so the app runs
    this in the background after its first paint (about 0.15 s for 100k tickets, warm cache)
    rather than on the start-up path.
    """
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        found = [str(row[0]) for row in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return None if found == ["ok"] else " ".join(" ".join(found).split())[:200]


def damage_message(path: str | Path, detail: str) -> str:
    """What to tell the user about a damaged database (one line)."""
    return f"{path}: the database is damaged ({detail}). {DAMAGE_ADVICE}"
