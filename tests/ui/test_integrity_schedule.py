"""The background integrity check reads every page (~3 s of CPU at a million tickets): it runs
after the first paint once a day per database, not at every start, and ``doctor`` runs it on
demand and names damage."""

from __future__ import annotations

import io
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import oncall_tui.store.db as db_module
from oncall_tui.demo.seed import make_demo_data, seed_store
from oncall_tui.store import open_store
from oncall_tui.ui.app import INTEGRITY_KEY

pytestmark = pytest.mark.anyio
SIZE = (100, 30)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = db_module.check_integrity

    def counted(path: Any) -> str | None:
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(db_module, "check_integrity", counted)
    return calls


async def start_and_settle(app: Any) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_checked_on_first_start_then_once_a_day(
    make_app: Any, clock: Any, checks: list[str], tmp_path: Path
) -> None:
    app = make_app()
    store = app.ctx.store
    await start_and_settle(app)
    assert len(checks) == 1
    assert store.tickets.meta(INTEGRITY_KEY) == clock().isoformat()  # found sound, and when

    clock.advance(timedelta(hours=23))
    await start_and_settle(make_app(store=store, seed=None))
    assert len(checks) == 1  # checked less than a day ago

    clock.advance(timedelta(hours=2))
    await start_and_settle(make_app(store=store, seed=None))
    assert len(checks) == 2  # a day later: checked again
    assert store.tickets.meta(INTEGRITY_KEY) == clock().isoformat()


async def test_a_mark_from_the_future_or_garbage_does_not_skip_the_check(
    make_app: Any, clock: Any, checks: list[str]
) -> None:
    app = make_app()
    store = app.ctx.store
    store.tickets.set_meta(
        INTEGRITY_KEY, (clock() + timedelta(days=30)).isoformat()
    )  # a clock reset
    await start_and_settle(app)
    assert len(checks) == 1
    store.tickets.set_meta(INTEGRITY_KEY, "not a date")
    await start_and_settle(make_app(store=store, seed=None))
    assert len(checks) == 2


def test_doctor_checks_every_page_and_names_damage(tmp_path: Path, clock: Any) -> None:
    from oncall_tui.cli.sync import run_doctor
    from oncall_tui.settings.config import Config
    from oncall_tui.settings.paths import Paths
    from oncall_tui.settings.secrets import MemorySecretStore

    sound = tmp_path / "sound.db"
    open_store(sound, clock=clock).close()
    out = io.StringIO()
    paths = Paths(tmp_path / "c.toml", sound, tmp_path)
    run_doctor(None, Config(), paths, MemorySecretStore(), out)
    assert any("integrity" in line and "sound" in line for line in out.getvalue().splitlines())

    damaged = tmp_path / "damaged.db"
    store = open_store(damaged, clock=clock)
    seed_store(store, make_demo_data(clock(), seed=1))
    store.close()
    conn = sqlite3.connect(damaged)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'tickets'").fetchone()[0]
    conn.close()
    data = bytearray(damaged.read_bytes())
    data[(root - 1) * size : root * size] = bytes(size)  # past the first pages: open succeeds
    damaged.write_bytes(bytes(data))
    out = io.StringIO()
    code = run_doctor(
        None, Config(), Paths(tmp_path / "c.toml", damaged, tmp_path), MemorySecretStore(), out
    )
    lines = [line for line in out.getvalue().splitlines() if "integrity" in line]
    assert code != 0 and lines and "sound" not in lines[0], out.getvalue()
