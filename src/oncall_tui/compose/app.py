"""Build the app once: config, store, secrets, clock, the demo and the sync engine's factory.

``open_app_context`` is what the command line calls to open the app (and the commands that
need the same context); the UI receives the :class:`AppContext` it returns and never builds
any of it. This is the one place that knows every part: it sits above the UI and the demo
(it checks the config's keys against the UI's bindings and seeds the demo), below the CLI.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.clock import Clock, FrozenClock, SystemClock
from oncall_tui.settings.config import BackendConfig, Config, ConfigError, load_config
from oncall_tui.settings.paths import Paths, resolve_paths

if TYPE_CHECKING:
    from oncall_tui.ui.context import AppContext

DEMO_META_KEY = "demo_seed"
DEMO_NOW_KEY = "demo_seeded_at"
#: Seconds between sync passes in the demo (each pass lets the fakes make up some activity).
DEMO_SYNC_INTERVAL = 5.0
#: The demo's fake GitHub (``demo.live.GITHUB_URL``; not imported here: it pulls in httpx).
DEMO_GITHUB_URL = "https://api.github.example"


class UsageError(Exception):
    """A bad argument value found after parsing."""


def clock_of(args: argparse.Namespace) -> Clock:
    return FrozenClock(args.now) if args.now else SystemClock()


def load_app_config(paths: Paths, *, keys: bool = False) -> Config:
    """The config (a file named with --config or ONCALL_TUI_CONFIG must exist); with ``keys``,
    its ``[keys]`` checked against the app's bindings and its theme against Textual's themes
    too (that imports the UI)."""
    config = load_config(paths.config, required=paths.config_given)
    if keys and config.keys:
        from dataclasses import replace

        from oncall_tui.ui.keymap import KeymapError, check_keymap

        try:
            config = replace(config, keys=check_keymap(config.keys))
        except KeymapError as exc:
            raise ConfigError(f"{paths.config}: {exc}") from None
    if keys and config.theme is not None:
        from oncall_tui.ui.themes import ThemeError, check_theme

        try:
            check_theme(config.theme)
        except ThemeError as exc:
            raise ConfigError(f"{paths.config}: {exc}") from None
    return config


def _demo_notice(args: argparse.Namespace) -> str | None:
    """What --demo leaves aside, said once (the demo has its own settings and data)."""
    import os

    from oncall_tui.settings.paths import CONFIG_ENV

    given = args.config or os.environ.get(CONFIG_ENV)
    if not given:
        return None
    source = "--config" if args.config else CONFIG_ENV
    return f"--demo ignores the config {given} ({source}): the demo runs on its own settings"


def _demo_db(args: argparse.Namespace) -> Path:
    if args.db:
        return Path(args.db).expanduser()
    folder = Path(tempfile.mkdtemp(prefix="oncall-tui-demo-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder / "demo.db"


def _keep_holidays(state_dir: Path | None) -> None:
    """Read the public holidays through a file in the state folder: not the library's ~0.25 s
    import at every start (settings/holiday_cache.py)."""
    if state_dir is None:
        return
    from oncall_tui.domain.calendars import read_holidays_through
    from oncall_tui.settings.holiday_cache import HolidayFileCache

    read_holidays_through(HolidayFileCache(state_dir))


def open_app_context(args: argparse.Namespace) -> AppContext:
    """Build the AppContext for running the app (user's files, or the demo)."""
    from oncall_tui.settings.secrets import (
        EnvFirstSecretStore,
        KeyringSecretStore,
        MemorySecretStore,
    )
    from oncall_tui.store import open_store
    from oncall_tui.ui.context import AppContext

    clock = clock_of(args)
    if args.demo:
        from oncall_tui.demo.seed import (
            DEMO_HELP_CHANNEL,
            DEMO_REPO,
            DEMO_USER,
            DemoData,
            make_demo_data,
            seed_store,
        )

        notice = _demo_notice(args)
        if notice:
            print(f"oncall-tui: note: {notice}", file=sys.stderr)
        db_path = _demo_db(args)
        existed = db_path.exists() and db_path.stat().st_size > 0
        # The demo's tracker is the fake GitHub's repository: bug reports, outages and
        # codename labels are filed there (without it the form said no tracker was configured
        # and the filing failed for want of a repository).
        tracker = BackendConfig(name="github", url=DEMO_GITHUB_URL, repos=(DEMO_REPO,))
        from oncall_tui.domain.escalation_settings import EscalationSettings

        config = Config(
            user=DEMO_USER,
            sync_interval=DEMO_SYNC_INTERVAL,
            backends={"github": tracker},
            escalation=EscalationSettings(help_channel_id=DEMO_HELP_CHANNEL),
        )
        store = open_store(db_path, sla=config.sla, clock=clock)
        if existed and store.tickets.meta(DEMO_META_KEY) is None:
            store.close()
            raise UsageError(
                f"{db_path} is not a demo database; --demo will not write demo data into it"
            )
        seeded_at = store.tickets.meta(DEMO_NOW_KEY)
        data: DemoData | None = None
        if store.tickets.meta(DEMO_META_KEY) is None:
            now = clock()
            data = make_demo_data(now, seed=args.seed, history=True)
            seed_store(store, data)
            store.tickets.set_meta(DEMO_META_KEY, str(args.seed))
            store.tickets.set_meta(DEMO_NOW_KEY, now.isoformat())
        # Reopened: the fakes serve what the database holds (read when the engine starts), so
        # what the last session filed and sent is still there. A demo database from before the
        # live demo (no seeding time kept) has no fakes to talk to.
        reopened = data is None and seeded_at is not None
        from oncall_tui.settings.paths import user_state_dir

        paths = Paths(
            config=Path("/dev/null"),
            db=db_path,
            data_dir=db_path.parent,
            state_dir=user_state_dir(),
        )
        _keep_holidays(paths.state_dir)

        def demo_engine(app: Any) -> Any:
            from oncall_tui.demo.live import build_demo_backends, demo_data_from_store
            from oncall_tui.sync.engine import SyncEngine

            writer = open_store(db_path, sla=config.sla, clock=clock, migrate=False)
            records = demo_data_from_store(writer) if reopened else data
            assert records is not None
            demo = build_demo_backends(records, clock, reopened=reopened)
            return SyncEngine(writer, demo.backends, clock, between_passes=demo.add_activity)

        return AppContext(
            config=config,
            paths=paths,
            secrets=MemorySecretStore(),
            store=store,
            clock=clock,
            demo=True,
            engine_factory=demo_engine if data is not None or reopened else None,
            notices=(notice,) if notice else (),
        )
    paths = resolve_paths(args.config, args.db)
    _keep_holidays(paths.state_dir)  # (the config's holiday country is checked through it)
    config = load_app_config(paths, keys=True)
    store = open_store(paths.db, sla=config.sla, clock=clock)
    secrets = EnvFirstSecretStore(KeyringSecretStore())
    engine_factory = None
    if config.team is not None:  # team mode: the relay's stream, pushes with our own tokens
        from oncall_tui.compose.team import team_engine_factory

        engine_factory = team_engine_factory(config, paths, secrets, clock)
    elif config.backends:

        def engine_factory(app: Any) -> Any:
            from oncall_tui.domain.errors import ConfigValueError
            from oncall_tui.sync.engine import SyncEngine
            from oncall_tui.sync.factory import build_backends

            try:
                built = build_backends(config, secrets, clock)
            except ConfigValueError as exc:  # adapter options: load_config does not read them
                app.notify(f"{paths.config}: {exc}", title="Sync", severity="error", markup=False)
                return None
            except Exception as exc:  # noqa: BLE001 - anything else a backend's config trips
                from oncall_tui.settings.secrets import redact_text

                detail = redact_text(" ".join(f"{type(exc).__name__}: {exc}".split()))[:300]
                app.notify(
                    f"{paths.config}: cannot set up the backends ({detail}); working locally",
                    title="Sync",
                    severity="error",
                    markup=False,
                )
                return None
            for problem in built.problems:
                app.notify(problem, title="Sync", severity="warning", markup=False)
            if not built.backends:
                return None
            writer = open_store(paths.db, sla=config.sla, clock=clock, migrate=False)
            return SyncEngine(writer, built.backends, clock)

    return AppContext(
        config=config,
        paths=paths,
        secrets=secrets,
        store=store,
        clock=clock,
        engine_factory=engine_factory,
    )
