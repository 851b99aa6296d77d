"""Private files: the database, its -wal/-shm and the folders we create are the user's only.

``tests/store/test_db.py`` covers a fresh file and folder; here the side files after real
writes (and a second connection), under a permissive umask, in the default data dir, for the
demo's temporary folder, and the config dir (the app reads it but must not create it loosely).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.tickets import Source, Ticket
from oncall_tui.settings.paths import resolve_paths, user_config_dir, user_data_dir
from oncall_tui.store import open_store

NOW = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_some(path: Path) -> None:
    clock = FrozenClock(NOW)
    store = open_store(path, clock=clock)
    writer = open_store(path, clock=clock, migrate=False)  # the sync engine's connection
    try:
        [tid] = store.tickets.insert_tickets(
            [Ticket(id=0, source=Source.HELPDESK, subject="x", opened_at=NOW, updated_at=NOW)]
        )
        store.tickets.add_comment(tid, "note", public=False, author="me")
        writer.tickets.set_meta("k", "v")
        sides = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
        assert all(p.exists() for p in sides), "WAL mode should have made -wal and -shm"
        for p in [path, *sides]:
            assert mode(p) & 0o077 == 0, f"{p.name} is {oct(mode(p))}"
    finally:
        writer.close()
        store.close()


def test_database_and_side_files_stay_private(tmp_path: Path, umask: int) -> None:
    write_some(tmp_path / "new" / "cache.db")
    assert mode(tmp_path / "new") == 0o700


def test_default_data_dir_is_private(umask: int) -> None:
    paths = resolve_paths()
    xdg_data = user_data_dir().parent  # $XDG_DATA_HOME: missing too, so ours to create
    assert not xdg_data.exists()
    write_some(paths.db)
    assert paths.db.parent == user_data_dir()
    assert mode(user_data_dir()) == 0o700
    assert mode(xdg_data) == 0o700


def test_opening_the_app_does_not_create_a_loose_config_dir(tmp_path: Path, umask: int) -> None:
    from oncall_tui.cli.main import build_parser
    from oncall_tui.compose import open_app_context

    ctx = open_app_context(build_parser().parse_args([]))
    try:
        assert ctx.paths.db == user_data_dir() / "oncall-tui.db"
        assert mode(ctx.paths.db) == 0o600
        config_dir = user_config_dir()
        if config_dir.exists():
            assert mode(config_dir) & 0o077 == 0
    finally:
        ctx.store.close()


def test_demo_folder_is_private(umask: int) -> None:
    from oncall_tui.cli.main import build_parser
    from oncall_tui.compose import open_app_context

    ctx = open_app_context(build_parser().parse_args(["--demo"]))
    try:
        assert mode(ctx.paths.db) & 0o077 == 0
        assert mode(ctx.paths.db.parent) & 0o077 == 0
    finally:
        ctx.store.close()
