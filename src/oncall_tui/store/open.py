"""Opening the store: :func:`open_store` opens the database (:mod:`oncall_tui.store.db`),
migrates it (:func:`apply_migrations`, the one place that imports the migrations) and builds
the :class:`~oncall_tui.store.store.Store` over it."""

from __future__ import annotations

from pathlib import Path

from oncall_tui.domain.clock import Clock, SystemClock
from oncall_tui.domain.sla import SlaSettings
from oncall_tui.store.db import (
    APPLICATION_ID,
    SCHEMA_COLUMNS_KEY,
    SCHEMA_VERSION,
    Database,
    _present_columns,
    dumps,
    import_sqlite_utils,
    open_database,
)
from oncall_tui.store.store import Store


def open_store(
    path: str | Path,
    *,
    sla: SlaSettings | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
) -> Store:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date.

    Everything is checked before the first write: a file that is not an SQLite database, a
    truncated one, another application's, one with tables or columns gone, and a newer one
    are refused and left byte for byte as they were.

    Args:
        path: database file, or ``":memory:"``.
        sla: SLA settings used to compute due instants when tickets change.
        clock: where "now" comes from for local edits.
        migrate: apply pending migrations (the sync engine's second connection skips it).

    Raises:
        StoreError: the file is not a database, is truncated, corrupt, foreign or newer, or
            cannot be created or written (each with a message ready to show).
    """
    path = Path(path)
    db, migrated = open_database(path, migrate=apply_migrations if migrate else None)
    store = Store(db, sla=sla or SlaSettings.default(), clock=clock or SystemClock(), path=path)
    if migrated:
        _recompute_after_migration(store)
    return store


def _recompute_after_migration(store: Store) -> None:
    """A migration that changed what the clocks are computed from asks (``meta``) for every
    ticket's stored clock columns to be recomputed with the configured policy."""
    row = store.db.execute("SELECT value FROM meta WHERE key = 'sla_recompute'").fetchone()
    if row is None:
        return
    ids = [int(r[0]) for r in store.db.execute("SELECT id FROM tickets")]
    store.tickets.recompute_sla(ids)
    with store.db.atomic():
        store.db.execute("DELETE FROM meta WHERE key = 'sla_recompute'")


def apply_migrations(db: Database) -> None:
    """Apply the pending migrations (this imports them, and sqlite-utils), all in one
    ``BEGIN IMMEDIATE`` transaction.

    Two processes opening a new or older file at once (the app and ``sync --once``) must not
    both migrate: the second waits for the first's transaction, then finds the schema current
    and applies nothing. (Migration by migration, each in a deferred transaction of its own,
    the second got "database is locked" at once, or re-ran a migration the first had just
    applied.) A crash part-way leaves the file at its earlier version, whole.
    """
    import_sqlite_utils()
    from oncall_tui.store import migrations as schema

    if schema.SCHEMA_VERSION != SCHEMA_VERSION:
        raise RuntimeError(
            f"oncall_tui/store/db.py says SCHEMA_VERSION = {SCHEMA_VERSION} but "
            f"migrations.py holds {schema.SCHEMA_VERSION} migrations: update db.py"
        )
    with db.atomic():  # outermost: BEGIN IMMEDIATE; the migrations' own are savepoints
        if int(db.execute("PRAGMA user_version").fetchone()[0]) >= SCHEMA_VERSION:
            return  # another process migrated while this one waited
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        schema.migrations.apply(db.full)  # sqlite-utils' own Database, as migrations expect
        columns = {table: sorted(cols) for table, cols in sorted(_present_columns(db).items())}
        db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [SCHEMA_COLUMNS_KEY, dumps(columns)],
        )
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
