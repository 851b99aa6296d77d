"""Opening the database: creation, permissions, migrations, refusal of bad files."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from oncall_tui.store import CorruptDatabaseError, NewerSchemaError, open_store
from oncall_tui.store.db import APPLICATION_ID
from oncall_tui.store.migrations import SCHEMA_VERSION


def test_new_database_is_private_wal_and_migrated(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "nested" / "cache.db"
    store = open_store(path)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        tables = set(store.db.table_names())
        assert {
            "customers",
            "tickets",
            "comments",
            "drafts",
            "outbox",
            "sync_state",
            "ticket_fts",
        } <= tables
    finally:
        store.close()


def test_existing_folder_permissions_are_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    open_store(tmp_path / "x.db").close()
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_reopen_keeps_data_and_does_not_migrate_twice(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    s = open_store(path)
    s.tickets.set_meta("k", "v")
    s.close()
    s = open_store(path)
    try:
        assert s.tickets.meta("k") == "v"
        applied = s.db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        assert applied == SCHEMA_VERSION
    finally:
        s.close()


def test_older_database_upgrades_in_place(tmp_path: Path) -> None:
    """An oncall-tui database at schema 0 (its application id set, nothing applied yet: the
    first migration was interrupted) gets every migration on open."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("CREATE TABLE unrelated_leftover (x)")
    conn.commit()
    conn.close()
    s = open_store(path)
    try:
        assert s.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert "tickets" in s.db.table_names()
        assert "unrelated_leftover" in s.db.table_names()
    finally:
        s.close()


def test_newer_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("CREATE TABLE t (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NewerSchemaError, match="newer oncall-tui"):
        open_store(path)
    assert path.read_bytes() == before
    assert not Path(str(path) + "-wal").exists()


@pytest.mark.parametrize(
    "content",
    [b"this is a text file, not a database\n" * 10, b"SQLite format 3\x00" + b"\xff" * 84],
)
def test_garbage_file_is_refused_and_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(content)
    with pytest.raises(CorruptDatabaseError, match="left untouched"):
        open_store(path)
    assert path.read_bytes() == content


def test_truncated_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    s = open_store(path)
    s.db.execute("CREATE TABLE filler (x)")
    with s.db.atomic():
        s.db.conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,) for _ in range(2000)])
    s.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")  # fold the WAL into the main file
    conn.close()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    truncated = path.read_bytes()
    with pytest.raises(CorruptDatabaseError, match="truncated"):
        open_store(path)
    assert path.read_bytes() == truncated


def test_wal_and_shm_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    s = open_store(path)
    s.tickets.set_meta("x", "y")
    try:
        for suffix in ("-wal", "-shm"):
            side = Path(str(path) + suffix)
            if side.exists():
                assert stat.S_IMODE(os.stat(side).st_mode) & 0o077 == 0
    finally:
        s.close()


def test_schema_1_database_gains_label_history_on_open(tmp_path: Path) -> None:
    """A database written by the first release (schema 1) is upgraded in place."""
    from sqlite_utils import Database

    from oncall_tui.store.migrations import migrations

    path = tmp_path / "v1.db"
    db = Database(path)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # as every release has set it
    migrations.apply(db, stop_before="0002_label_since")
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO tickets (source, remote_id, subject, status, priority, labels, opened_at, "
        "updated_at) VALUES ('tracker', 'a/b#1', 'Old bug', 'open', 'P2', "
        "'[\"bug\",\"~investigate\"]', '2026-11-20T18:00:00Z', '2026-11-20T19:00:00Z')"
    )
    db.close()
    store = open_store(path)
    try:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
        ticket = store.tickets.find_ticket("tracker", "a/b#1")
        assert ticket is not None
        assert {k: v.isoformat() for k, v in ticket.label_since.items()} == {
            "bug": "2026-11-20T19:00:00+00:00",
            "~investigate": "2026-11-20T19:00:00+00:00",
        }
    finally:
        store.close()


def test_schema_version_is_the_number_of_migrations() -> None:
    """db.py spells the schema version out (to open a database without importing the
    migrations and sqlite-utils); it must follow migrations.py."""
    from oncall_tui.store import db, migrations

    assert db.SCHEMA_VERSION == migrations.SCHEMA_VERSION == len(migrations.migrations._migrations)


def test_reading_an_up_to_date_database_does_not_import_sqlite_utils(tmp_path: Path) -> None:
    """Start-up speed: sqlite-utils (and numpy, which it pulls in) load at the first write."""
    import subprocess
    import sys

    path = tmp_path / "cache.db"
    open_store(path).close()
    code = (
        "import sys\n"
        "from oncall_tui.store import open_store\n"
        f"store = open_store({str(path)!r})\n"
        "assert store.tickets.meta('x') is None and store.outbox.outbox_counts() == {}\n"
        "assert 'sqlite_utils' not in sys.modules, 'read path imported sqlite-utils'\n"
        "store.tickets.set_meta('x', 'y')\n"
        "assert store.tickets.meta('x') == 'y' and 'sqlite_utils' in sys.modules\n"
        "assert 'numpy' not in sys.modules\n"
        "store.close()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_sqlite_utils_without_numpy_leaves_numpy_importable(tmp_path: Path) -> None:
    """Runs with or without numpy installed: a stand-in numpy and pandas come first on the
    path, so sqlite-utils would import them if they were not blocked."""
    import os
    import subprocess
    import sys

    for name in ("numpy", "pandas"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("STAND_IN = True\n")
    code = (
        "import sys\n"
        "from oncall_tui.store.db import import_sqlite_utils\n"
        "import_sqlite_utils()\n"
        "assert 'numpy' not in sys.modules and 'pandas' not in sys.modules\n"
        "import numpy, pandas\n"
        "assert numpy.STAND_IN and pandas.STAND_IN\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


OPEN_AT_ONCE = """
import sys, time
from oncall_tui.store import open_store
from oncall_tui.store.db import import_sqlite_utils
import_sqlite_utils()  # imported before the start: the race is in the opening, not the imports
path, start = sys.argv[1], float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
store = open_store(path)
store.tickets.set_meta("opened-by", str(sys.argv[3]))
store.close()
"""


def test_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    """The app and ``sync --once`` started together on a new file (or after an upgrade): the
    first migrates, the others wait for it and find the schema current. Before, each
    migration ran in a deferred transaction of its own and a second process failed with
    "database is locked" (or re-ran a migration the first had applied)."""
    import subprocess
    import sys
    import time

    for round_ in range(4):
        path = tmp_path / f"cache-{round_}.db"
        start = time.time() + 1.5
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AT_ONCE, str(path), str(start), str(n)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(4)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
        store = open_store(path)
        try:
            assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            names = [r[0] for r in store.db.execute("SELECT name FROM _sqlite_migrations")]
            assert len(names) == len(set(names)) == SCHEMA_VERSION
        finally:
            store.close()


def test_bulk_writes_in_several_statements_touch_exactly_the_rows_named(tmp_path: Path) -> None:
    """``insert_rows`` and ``update_rows`` split their rows into multi-row statements as the
    variable limit allows: every row is written once, in order, and no other row is touched;
    ``or_ignore`` leaves out a row a uniqueness constraint refuses, as ``INSERT OR IGNORE``."""
    store = open_store(tmp_path / "oncall.db")
    db = store.db
    db.conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, a TEXT, b INTEGER)")
    db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 9)  # 3 rows of 3, or of 2 + id
    db.insert_rows("t", ("k", "a", "b"), [(f"k{n}", f"a{n}", n) for n in range(1, 12)])
    assert db.execute("SELECT id, k, b FROM t ORDER BY id").fetchall() == [
        (n, f"k{n}", n) for n in range(1, 12)
    ]
    db.insert_rows("t", ("k", "a", "b"), [("k3", "again", 0), ("k12", "a12", 12)], or_ignore=True)
    assert db.execute("SELECT a FROM t WHERE k = 'k3'").fetchone() == ("a3",)
    assert db.execute("SELECT count(*) FROM t").fetchone() == (12,)
    with pytest.raises(sqlite3.IntegrityError):
        db.insert_rows("t", ("k", "a", "b"), [("k1", "dup", 0)])
    db.update_rows("t", ("a", "b"), [(f"new{n}", None, n) for n in (2, 3, 5, 7, 11)])
    rows = dict(db.execute("SELECT id, a || '/' || coalesce(b, 'null') FROM t").fetchall())
    for n in range(1, 13):
        expected = f"new{n}/null" if n in (2, 3, 5, 7, 11) else f"a{n}/{n}"
        assert rows[n] == expected, n
    store.close()
