"""The background integrity check reads every page (~4 s of CPU at a million tickets): it runs
after the first paint once a day per database, not at every start, table by table and paced
(store/integrity.py), going on where a round cut short stopped; ``doctor`` runs it on demand
and names damage."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import oncall_tui.store.integrity as integrity
from oncall_tui.demo.seed import make_demo_data, seed_store
from oncall_tui.store import open_store
from oncall_tui.store.integrity import PROGRESS_KEY, check_paced
from oncall_tui.ui.app import INTEGRITY_KEY

pytestmark = pytest.mark.anyio
SIZE = (100, 30)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    """The app's checks (path, resumed after which table), run unpaced and without the
    delay after the start."""
    monkeypatch.setattr(integrity, "START_DELAY", timedelta(0))
    calls: list[tuple[str, str | None]] = []
    real = integrity.check_paced

    def counted(path: Any, *, after: str | None, **kwargs: Any) -> str | None:
        calls.append((str(path), after))
        return real(path, after=after, **{**kwargs, "duty": 1.0})

    monkeypatch.setattr(integrity, "check_paced", counted)
    return calls


async def start_and_settle(app: Any) -> None:
    """Run the app until its due check ended (in its child process: a few hundred ms)."""
    async with app.run_test(size=SIZE) as pilot:
        await pilot.app.workers.wait_for_complete()
        for _ in range(200):
            await pilot.pause()
            running = [w for w in app.workers if w.group == "integrity" and not w.is_finished]
            if app._integrity_at is None and not running:
                break
            await asyncio.sleep(0.05)
        await pilot.pause()


async def test_checked_on_first_start_then_once_a_day(
    make_app: Any, clock: Any, checks: list[tuple[str, str | None]], tmp_path: Path
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
    make_app: Any, clock: Any, checks: list[tuple[str, str | None]]
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


# -- the paced check -------------------------------------------------------------------------


class RecordedPauses(threading.Event):
    """A stop event whose waits are recorded instead of slept."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.pauses: list[float] = []
        self.stop_after = stop_after

    def wait(self, timeout: float | None = None) -> bool:
        self.pauses.append(float(timeout or 0.0))
        if self.stop_after is not None and len(self.pauses) >= self.stop_after:
            self.set()
        return self.is_set()


def seeded_db(path: Path, clock: Any) -> Path:
    store = open_store(path, clock=clock)
    seed_store(store, make_demo_data(clock(), seed=1))
    store.close()
    return path


def zero_root_page(path: Path, table: str) -> None:
    conn = sqlite3.connect(path)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * size : root * size] = bytes(size)
    path.write_bytes(bytes(data))


def test_paced_check_covers_every_table_and_sleeps_its_share(
    tmp_path: Path, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = seeded_db(tmp_path / "x.db", clock)
    cpu = iter(i * 0.01 for i in range(1_000_000))  # each look at the clock: 10 ms more CPU
    monkeypatch.setattr(integrity.time, "thread_time", lambda: next(cpu))
    stop = RecordedPauses()
    sound: list[str] = []
    assert (
        check_paced(db, after=None, stop=stop, sound=sound.append, duty=0.01, in_child=False)
        is None
    )
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE rootpage > 0")}
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    assert set(sound) == tables - indexes and sound == sorted(sound)
    used = next(cpu) - 0.01  # the CPU the check was told it used
    assert stop.pauses and all(p >= 99 * 0.02 - 1e-9 for p in stop.pauses)  # a slice or more
    paid = sum(stop.pauses) / 99  # 1 % of a core: 99 s asleep per second of CPU
    assert used - 0.05 <= paid <= used + 1e-9  # all of it paid back but the last slice


@pytest.mark.parametrize("in_child", [True, False], ids=["child", "in-process"])
def test_paced_check_names_damage_in_a_table(tmp_path: Path, clock: Any, in_child: bool) -> None:
    db = seeded_db(tmp_path / "x.db", clock)
    zero_root_page(db, "tickets")
    sound: list[str] = []
    stop = threading.Event()
    problem = check_paced(
        db, after=None, stop=stop, sound=sound.append, duty=1.0, in_child=in_child
    )
    assert problem is not None and problem != "ok"
    assert "tickets" not in sound and "comments" in sound  # name order: comments before


def test_paced_check_goes_on_after_a_table_and_stops_when_told(tmp_path: Path, clock: Any) -> None:
    db = seeded_db(tmp_path / "x.db", clock)
    sound: list[str] = []
    stop = threading.Event()
    for in_child in (True, False):
        sound.clear()
        assert (
            check_paced(db, after="team_outgoing", stop=stop, sound=sound.append, in_child=in_child)
            is None
        )
        assert sound and all(name > "team_outgoing" for name in sound)
        assert sound == sorted(sound)

    stop = RecordedPauses(stop_after=1)
    sound.clear()
    assert (
        check_paced(db, after=None, stop=stop, sound=sound.append, slice_s=0.0, in_child=False)
        is None
    )
    assert len(stop.pauses) == 1 and len(sound) <= 1  # nothing checked after the stop


async def test_the_app_resumes_a_round_and_starts_the_next_from_the_top(
    make_app: Any, clock: Any, checks: list[tuple[str, str | None]]
) -> None:
    app = make_app()
    store = app.ctx.store
    store.tickets.set_meta(PROGRESS_KEY, "team_outgoing")  # a round cut short by quitting
    await start_and_settle(app)
    assert [after for _path, after in checks] == ["team_outgoing"]
    assert store.tickets.meta(INTEGRITY_KEY) == clock().isoformat()
    assert store.tickets.meta(PROGRESS_KEY) == ""


async def test_the_app_reports_damage_the_paced_check_finds(
    make_app: Any, clock: Any, checks: list[tuple[str, str | None]], tmp_path: Path
) -> None:
    db = seeded_db(tmp_path / "damaged.db", clock)
    zero_root_page(db, "watches")  # a table the first frame does not read
    store = open_store(db, clock=clock)
    app = make_app(store=store, seed=None)
    await start_and_settle(app)
    assert checks and app.database_error is not None
    assert "damaged" in app.database_error and str(db) in app.database_error
    assert store.tickets.meta(INTEGRITY_KEY) is None


async def test_quitting_ends_a_check_in_its_pause_at_once(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = integrity.check_paced
    started = threading.Event()
    ended: list[float] = []

    def long_pauses(path: Any, **kwargs: Any) -> str | None:
        started.set()
        try:  # every table followed by a pause of hours
            return real(path, **{**kwargs, "duty": 1e-6, "slice_s": 0.0})
        finally:
            ended.append(time.monotonic())

    monkeypatch.setattr(integrity, "check_paced", long_pauses)
    monkeypatch.setattr(integrity, "START_DELAY", timedelta(0))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert await asyncio.to_thread(started.wait, 5)
    closed = time.monotonic()
    for _ in range(100):
        if ended:
            break
        await asyncio.sleep(0.05)
    assert ended and ended[0] - closed < 5


# -- the delayed start and the bound per window ------------------------------------------------


async def test_a_due_check_starts_only_minutes_after_the_start(
    make_app: Any, clock: Any, checks: list[tuple[str, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not with the first paint's own work: START_DELAY later by the app's clock."""
    monkeypatch.setattr(integrity, "START_DELAY", timedelta(minutes=6))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.app.workers.wait_for_complete()  # (nothing waits in a worker meanwhile)
        await pilot.pause()
        assert checks == []
        clock.advance(timedelta(minutes=5))
        app.start_integrity_when_due()  # as the timer would, early by the clock
        await pilot.pause()
        assert checks == []
        assert app._integrity_timer is not None
        assert app._integrity_timer._interval == pytest.approx(60)  # looks again when due
        clock.advance(timedelta(minutes=1))
        app.start_integrity_when_due()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert len(checks) == 1
        assert app.ctx.store.tickets.meta(INTEGRITY_KEY) == clock().isoformat()
        app.start_integrity_when_due()  # a second call (a timer late) starts nothing more
        await pilot.app.workers.wait_for_complete()
        assert len(checks) == 1


async def test_quitting_before_the_delay_never_starts_the_check(
    make_app: Any, clock: Any, checks: list[tuple[str, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "START_DELAY", timedelta(minutes=6))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    clock.advance(timedelta(minutes=10))
    app.start_integrity_when_due()  # a timer that fires as the app is gone
    assert checks == []


def test_paced_check_cpu_in_any_window_is_bounded(
    tmp_path: Path, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In any 300 s: the largest step that cannot be paused, DUTY of the window, a slice."""
    db = seeded_db(tmp_path / "x.db", clock)
    wall = [0.0]
    spent: list[tuple[float, float]] = []  # (wall time, CPU used at it)
    looks = [0]
    cpu = [0.0]

    def thread_time() -> float:
        looks[0] += 1
        step = 1.0 if looks[0] == 100 else 0.004  # one walk of a second among small steps
        cpu[0] += step
        wall[0] += step
        spent.append((wall[0], step))
        return cpu[0]

    class Pauses(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            wall[0] += float(timeout or 0.0)
            return False

    monkeypatch.setattr(integrity.time, "thread_time", thread_time)
    monkeypatch.setattr(integrity, "STEPS", 20)  # many small steps: ~10 s of CPU in all
    duty, window = 0.001, 300.0
    found = check_paced(
        db, after=None, stop=Pauses(), sound=lambda _: None, duty=duty, in_child=False
    )
    assert found is None
    assert sum(c for _t, c in spent) > 3.0  # far more than one window may hold
    worst = max(sum(c for t, c in spent if start <= t < start + window) for start, _ in spent)
    assert 1.0 < worst <= 1.0 + duty * window + integrity.SLICE + 0.004
