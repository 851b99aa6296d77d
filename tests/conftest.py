"""Shared fixtures: isolated user dirs, a frozen clock, stores, and an app factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.settings.config import Config
from oncall_tui.settings.paths import Paths
from oncall_tui.settings.secrets import MemorySecretStore
from oncall_tui.store import Store, open_store
from oncall_tui.ui.context import AppContext

#: Monday 2026-11-23 10:30 in Los Angeles: inside business hours.
FROZEN_NOW = datetime.fromisoformat("2026-11-23T18:30:00+00:00")


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's dirs, the real keyring or the network configuration."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in (
        "ONCALL_TUI_CONFIG",
        "ONCALL_TUI_DB",
        "ONCALL_TUI_ZENDESK_TOKEN",
        "ONCALL_TUI_GITHUB_TOKEN",
        "ONCALL_TUI_SLACK_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_NOW)


@pytest.fixture
def store(tmp_path: Path, clock: FrozenClock) -> Iterator[Store]:
    s = open_store(tmp_path / "test.db", clock=clock)
    yield s
    s.close()


@pytest.fixture
def demo_store(tmp_path: Path, clock: FrozenClock) -> Iterator[Store]:
    from oncall_tui.demo.seed import make_demo_data, seed_store

    s = open_store(tmp_path / "demo.db", clock=clock)
    seed_store(s, make_demo_data(clock(), seed=1))
    yield s
    s.close()


@pytest.fixture
def make_app(tmp_path: Path, clock: FrozenClock) -> Iterator[Callable[..., Any]]:
    """Build an OncallApp on a seeded demo store with a frozen clock and no sync loop."""
    from oncall_tui.demo.seed import DEMO_USER, make_demo_data, seed_store
    from oncall_tui.ui.app import OncallApp

    stores: list[Store] = []

    def factory(
        *,
        config: Config | None = None,
        seed: int | None = 1,
        store: Store | None = None,
        backend: Any = None,
    ) -> OncallApp:
        cfg = config or Config(user=DEMO_USER, sync_interval=None)
        if store is None:
            store = open_store(tmp_path / f"app{len(stores)}.db", sla=cfg.sla, clock=clock)
            if seed is not None:
                seed_store(store, make_demo_data(clock(), seed=seed))
        stores.append(store)
        engine_factory = None
        if backend is not None:
            from oncall_tui.sync.engine import SyncEngine

            def engine_factory(app: Any) -> SyncEngine:
                writer = open_store(store.path, sla=cfg.sla, clock=clock, migrate=False)
                stores.append(writer)
                return SyncEngine(writer, [backend], clock)

        ctx = AppContext(
            config=cfg,
            paths=Paths(config=tmp_path / "config.toml", db=store.path, data_dir=tmp_path),
            secrets=MemorySecretStore(),
            store=store,
            clock=clock,
            demo=True,
            engine_factory=engine_factory,
        )
        return OncallApp(ctx)

    yield factory
    for s in stores:
        s.close()


def settle_factory() -> Callable[[Any], Any]:
    """A run_before for snapshots: wait for workers, stop the cursor blink."""

    async def settle(pilot: Any) -> None:
        await pilot.pause()  # the sync engine starts after the first frame
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.3)  # the side detail follows the cursor after a short rest

    return settle
