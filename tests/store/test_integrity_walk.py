"""The background check's paced walk (store/integrity.py): a large table is read page by page
through ``dbstat`` (so the check can pause between pages) instead of SQLite's one-step
``quick_check``, and still names damage; writes by another connection between two walks are
not damage."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import oncall_tui.store.integrity as integrity
from oncall_tui.demo.seed import make_demo_data, seed_store
from oncall_tui.store import open_store
from oncall_tui.store.integrity import check_paced

BODY = "x" * 3000  # about a page a row: writes move whole pages between b-trees


@pytest.fixture
def db(tmp_path: Path, clock: Any) -> Path:
    path = tmp_path / "x.db"
    store = open_store(path, clock=clock)
    seed_store(store, make_demo_data(clock(), seed=1))
    store.close()
    conn = sqlite3.connect(path)
    with conn:
        tid = conn.execute("SELECT min(id) FROM tickets").fetchone()[0]
        conn.executemany(
            "INSERT INTO comments (ticket_id, remote_id, author, body, public, created_at, "
            "author_role) VALUES (?, ?, 'a', ?, 1, '2026-01-01T00:00:00+00:00', 'agent')",
            [(tid, f"bulk-{i}", BODY) for i in range(200)],
        )
    conn.close()
    return path


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table counts as large: none is handed to ``quick_check``."""
    monkeypatch.setattr(integrity, "QUICK_CHECK_PAGES", -1)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL the check's connection runs."""
    seen: list[str] = []
    real = integrity.connect_read_only

    def traced(path: Any, **kwargs: Any) -> tuple[sqlite3.Connection, Any]:
        conn, held = real(path, **kwargs)
        conn.set_trace_callback(seen.append)
        return conn, held

    monkeypatch.setattr(integrity, "connect_read_only", traced)
    yield seen


def run(db: Path) -> tuple[str | None, list[str]]:
    sound: list[str] = []
    problem = check_paced(db, after=None, stop=threading.Event(), sound=sound.append, duty=1.0)
    return problem, sound


def tables(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND rootpage > 0"
            )
        }
    finally:
        conn.close()


def test_a_large_table_is_walked_page_by_page_not_quick_checked(
    db: Path, large: None, statements: list[str]
) -> None:
    problem, sound = run(db)
    assert problem is None and set(sound) == tables(db)
    quick = [s for s in statements if "quick_check" in s]
    assert quick == ['PRAGMA quick_check("sqlite_schema")']  # the schema is small, always
    walked = [s for s in statements if s.startswith("SELECT pageno")]
    conn = sqlite3.connect(db)
    trees = conn.execute("SELECT count(*) FROM sqlite_schema WHERE rootpage > 0").fetchone()[0]
    conn.close()
    assert len(walked) == trees  # every b-tree the schema lists (itself: quick_check)
    scans = [s for s in statements if "NOT INDEXED" in s]
    assert any('FROM "tickets" NOT INDEXED' in s and 'typeof("subject")' in s for s in scans)


def test_a_small_table_also_gets_sqlites_own_check(db: Path, statements: list[str]) -> None:
    problem, _sound = run(db)
    assert problem is None
    assert any(s == 'PRAGMA quick_check("tickets")' for s in statements)
    assert any("FROM dbstat" in s for s in statements)


def page_of(db: Path, table: str, which: str) -> int:
    conn = sqlite3.connect(db)
    try:
        rows = [
            r[0]
            for r in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno",
                [table, which],
            )
        ]
        return int(rows[len(rows) // 2])
    finally:
        conn.close()


def overwrite_page(db: Path, pageno: int, data: bytes) -> None:
    conn = sqlite3.connect(db)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    raw = bytearray(db.read_bytes())
    raw[(pageno - 1) * size : pageno * size] = data.ljust(size, b"\0")[:size]
    db.write_bytes(bytes(raw))


def test_a_zeroed_leaf_page_of_a_large_table_is_named(db: Path, large: None) -> None:
    overwrite_page(db, page_of(db, "comments", "leaf"), b"")
    problem, sound = run(db)
    assert problem is not None and "comments: page" in problem, problem
    assert "not a b-tree page" in problem
    assert "comments" not in sound and "assignments" in sound  # name order: before it


def test_a_page_reached_twice_is_named(db: Path, large: None) -> None:
    """The comments table's root (an inner page: 200 rows of a page each) made to point at
    one child twice: a lost subtree, and a page two parents claim."""
    conn = sqlite3.connect(db)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'comments'").fetchone()[0]
    conn.close()
    raw = bytearray(db.read_bytes())
    page = raw[(root - 1) * size : root * size]
    assert page[0] == 0x05 and int.from_bytes(page[3:5], "big") >= 2  # table, inner, 2+ cells
    first, second = (int.from_bytes(page[12 + 2 * i : 14 + 2 * i], "big") for i in (0, 1))
    page[first : first + 4] = page[second : second + 4]  # cell 0's child := cell 1's
    raw[(root - 1) * size : root * size] = page
    db.write_bytes(bytes(raw))
    problem, _sound = run(db)
    assert problem is not None and "comments" in problem and "used twice" in problem, problem


def test_an_index_missing_entries_is_named(db: Path, large: None) -> None:
    """An index b-tree that holds fewer entries than its table has rows (a lost subtree)."""
    conn = sqlite3.connect(db)
    with conn:  # a copy of comments with fewer rows and the same index
        conn.execute("CREATE TABLE spare AS SELECT * FROM comments WHERE id % 2 = 0")
        conn.execute("CREATE INDEX spare_ticket ON spare (ticket_id, created_at)")
    mine, theirs = (
        conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", [n]).fetchone()[0]
        for n in ("comments_ticket", "spare_ticket")
    )
    conn.execute("PRAGMA writable_schema = ON")
    with conn:  # swap the two indexes' b-trees: each is still reached once
        conn.execute(
            "UPDATE sqlite_schema SET rootpage = ? WHERE name = 'comments_ticket'", [theirs]
        )
        conn.execute("UPDATE sqlite_schema SET rootpage = ? WHERE name = 'spare_ticket'", [mine])
    conn.close()
    problem, _sound = run(db)
    assert problem is not None and "comments_ticket" in problem and "entries for" in problem


def test_a_null_in_a_not_null_column_is_named(db: Path, large: None) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA writable_schema = ON")
    with conn:  # the column's rows hold NULLs the schema now says cannot be there
        sql = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'tickets'").fetchone()[0]
        assert "assignee TEXT," in sql
        conn.execute(
            "UPDATE sqlite_schema SET sql = ? WHERE name = 'tickets'",
            [sql.replace("assignee TEXT,", "assignee TEXT NOT NULL,")],
        )
    conn.close()
    assert (
        sqlite3.connect(db)
        .execute("SELECT count(*) FROM tickets WHERE typeof(assignee) = 'null'")
        .fetchone()[0]
    )
    problem, _sound = run(db)
    assert problem is not None and "tickets" in problem and "NULL" in problem, problem


@pytest.mark.parametrize("when", ["between walks", "as a walk starts"])
def test_writes_by_another_connection_are_not_damage(
    db: Path, large: None, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """Another connection frees pages of one b-tree and reuses them in another, and changes
    a table's rows, between two walks (or right after the check looked at ``data_version``
    for a walk it then starts): no page is "used twice", no index "misses entries"."""
    writer = sqlite3.connect(db, isolation_level=None)
    real_tree, real_version = integrity._Walk.tree, integrity._Walk.version
    writes = [0]
    starting = [False]

    def write() -> None:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "DELETE FROM comments WHERE id IN (SELECT id FROM comments WHERE remote_id LIKE "
            "'bulk-%' ORDER BY id LIMIT 8)"
        )
        writer.executemany(
            "INSERT INTO pending_comments (source, ticket_remote_id, remote_id, author, "
            "author_handle, body, public, created_at, author_role) VALUES "
            "('helpdesk', ?, ?, 'a', NULL, ?, 1, '2026-01-01T00:00:00+00:00', 'customer')",
            [(f"t{writes[0]}", f"p{writes[0]}-{i}", BODY) for i in range(8)],
        )
        writer.execute("COMMIT")
        writes[0] += 1

    def tree(self: Any, name: str) -> Any:
        # As a walk starts: the one that reuses the pages the write frees from the comments
        # b-tree, walked just before with no write in between.
        starting[0] = name == "pending_comments"
        found = real_tree(self, name)
        if when == "between walks":
            write()
        return found

    def version(self: Any) -> int:
        seen = real_version(self)
        if when == "as a walk starts" and starting[0]:
            write()  # the walk's snapshot is newer than the version it read
        starting[0] = False
        return seen

    monkeypatch.setattr(integrity._Walk, "tree", tree)
    monkeypatch.setattr(integrity._Walk, "version", version)
    try:
        problem, sound = run(db)
    finally:
        writer.close()
    assert problem is None and set(sound) == tables(db)
    assert writes[0] > 10 if when == "between walks" else writes[0] == 1
