"""``bench idle`` makes the app's integrity check due before each run, from where it is told."""

from __future__ import annotations

from pathlib import Path

from bench.idle import integrity_due

from oncall_tui.store import open_store
from oncall_tui.store.integrity import PROGRESS_KEY, table_names
from oncall_tui.ui.app import INTEGRITY_KEY


def test_marks_cleared_or_set_to_start_at_a_table(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = open_store(db)
    store.tickets.set_meta(INTEGRITY_KEY, "2026-12-02T10:00:00+00:00")
    store.tickets.set_meta(PROGRESS_KEY, "comments")
    store.close()

    integrity_due(db)
    store = open_store(db)
    assert store.tickets.meta(INTEGRITY_KEY) is None and store.tickets.meta(PROGRESS_KEY) is None
    store.close()

    integrity_due(db, from_table="tickets")
    store = open_store(db)
    after = store.tickets.meta(PROGRESS_KEY)
    names = table_names(store.db.conn)
    store.close()
    assert after is not None and names[names.index(after) + 1] == "tickets"
