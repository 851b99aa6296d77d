"""Command line: parse arguments, build an AppContext, run the app or a subcommand.

Every failure a user can cause (bad flags, bad config, a database we must not touch) ends in
one clear line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from oncall_tui import __version__
from oncall_tui.domain.clock import Clock, FrozenClock, SystemClock
from oncall_tui.settings.config import BackendConfig, Config, ConfigError, load_config
from oncall_tui.settings.paths import PathError, Paths, resolve_paths

EXIT_USAGE = 2
DEMO_META_KEY = "demo_seed"
DEMO_NOW_KEY = "demo_seeded_at"
#: Seconds between sync passes in the demo (each pass lets the fakes make up some activity).
DEMO_SYNC_INTERVAL = 5.0
#: The demo's fake GitHub (``demo.live.GITHUB_URL``; not imported here: it pulls in httpx).
DEMO_GITHUB_URL = "https://api.github.example"


class UsageError(Exception):
    """A bad argument value found after parsing."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with errors as one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _seed(value: str) -> int:
    try:
        seed = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if seed < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {seed}")
    return seed


def _instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO-8601 instant, got {value!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"the instant {value!r} needs a UTC offset or Z")
    return moment


def build_parser() -> ArgumentParser:
    """The full command-line parser."""
    parser = ArgumentParser(
        prog="oncall-tui",
        description="A keyboard-driven terminal app for on-call customer-support engineers.",
        epilog="Run without a command to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"oncall-tui {__version__}")
    add_global_options(parser)
    parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        parser_class=ArgumentParser,
        action=_Subcommands,
        declare=_declare_subcommands,
    )
    return parser


def add_global_options(parser: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    """``--demo``, ``--seed``, ``--db``, ``--config`` (and the hidden ``--now``) on ``parser``.

    The top-level parser has them with their defaults; every subcommand's parser has them too,
    with no default (an option given after the command overrides the one before, an option not
    given there leaves the top level's value), so ``oncall-tui sync --once --db X`` works as
    ``oncall-tui --db X sync --once`` does. A subcommand with an option of the same name (its
    own ``--now``) keeps its own.
    """

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    taken = set(parser._option_string_actions)
    group = parser if defaults else parser.add_argument_group("global options")
    if "--demo" not in taken:
        group.add_argument(
            "--demo",
            action="store_true",
            default=default(False),
            help="open an embedded demo (no config, no network)",
        )
    if "--seed" not in taken:
        group.add_argument(
            "--seed", type=_seed, default=default(1), metavar="N", help="demo data seed (default 1)"
        )
    if "--db" not in taken:
        group.add_argument(
            "--db", metavar="PATH", default=default(None), help="database file (env ONCALL_TUI_DB)"
        )
    if "--config" not in taken:
        group.add_argument(
            "--config",
            metavar="PATH",
            default=default(None),
            help="config file (env ONCALL_TUI_CONFIG)",
        )
    if "--now" not in taken:  # frozen clock: tests
        group.add_argument("--now", type=_instant, default=default(None), help=argparse.SUPPRESS)


#: ``--help`` examples of the commands that do not bring their own (by command path).
EXAMPLES = {
    "sync": ("oncall-tui sync --once", "oncall-tui sync --loop --db ~/oncall.db"),
    "auth login": ("oncall-tui auth login zendesk", "oncall-tui auth login github --no-browser"),
    "auth set": ("oncall-tui auth set slack",),
    "auth status": ("oncall-tui auth status",),
    "auth logout": ("oncall-tui auth logout github",),
    "doctor": ("oncall-tui doctor", "oncall-tui doctor --config ~/team.toml"),
    "relay": ("oncall-tui relay --config /etc/oncall-tui/relay.toml", "oncall-tui relay --once"),
    "demo serve": ("oncall-tui demo serve --port 8720",),
    "sla due": (
        "oncall-tui sla due --opened 2026-11-27T16:30:00Z --plan premium --priority P1",
        "oncall-tui sla due --opened 2026-11-27T16:30:00Z --business-hours 4",
    ),
    "sla between": ("oncall-tui sla between 2026-11-27T09:00:00Z 2026-11-30T17:00:00Z",),
    "sla calendar": ("oncall-tui sla calendar --year 2027",),
    "sla explain": (
        "oncall-tui sla explain zendesk:41165",
        "oncall-tui sla explain --ticket history.json --now 2026-11-30T12:00:00Z",
    ),
    "handoff": ("oncall-tui handoff", "oncall-tui handoff --since 7d --format json | jq .sla"),
}


def _with_examples(parser: argparse.ArgumentParser) -> None:
    lines = EXAMPLES.get(parser.prog.removeprefix("oncall-tui ").strip())
    if lines and not parser.epilog:
        parser.epilog = "examples:\n" + "\n".join(f"  {line}" for line in lines)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter


def _with_global_options(sub: Any) -> None:
    """Every parser under ``sub`` (subcommands and theirs) accepts the global options (and
    shows examples in its ``--help``)."""
    for parser in dict.values(sub.choices):
        add_global_options(parser, defaults=False)
        _with_examples(parser)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _with_global_options(action)


def _declare_subcommands(sub: Any) -> None:
    from oncall_tui.cli.completion import add_completion_subparser
    from oncall_tui.cli.handoff import add_handoff_subparser
    from oncall_tui.cli.sla import add_sla_subparser
    from oncall_tui.cli.sync import add_sync_subparsers
    from oncall_tui.cli.team import add_team_subparsers
    from oncall_tui.cli.tickets import add_ticket_subparsers

    add_sla_subparser(sub)
    add_sync_subparsers(sub)
    add_team_subparsers(sub)
    add_ticket_subparsers(sub)
    add_handoff_subparser(sub)
    add_completion_subparser(sub)
    _with_global_options(sub)  # last: after every command is declared


class _DeclaredOnUse(dict[str, Any]):
    """The subcommand parsers by name: declared the first time anyone looks at them."""

    def __init__(self, declare: Callable[[], None]) -> None:
        super().__init__()
        self._declare: Callable[[], None] | None = declare

    def _ready(self) -> None:
        declare, self._declare = self._declare, None
        if declare is not None:
            declare()

    def __contains__(self, key: object) -> bool:
        self._ready()
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        self._ready()
        return super().__getitem__(key)

    def __iter__(self) -> Iterator[str]:
        self._ready()
        return super().__iter__()

    def __len__(self) -> int:
        self._ready()
        return super().__len__()

    def keys(self) -> Any:
        self._ready()
        return super().keys()

    def items(self) -> Any:
        self._ready()
        return super().items()

    def values(self) -> Any:
        self._ready()
        return super().values()

    def get(self, key: str, default: Any = None) -> Any:
        self._ready()
        return super().get(key, default)


class _Subcommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """``COMMAND``: its subparsers are declared only when a command is given (or help shown).

    Opening the app parses the top-level options only, so the dozen subcommand parsers
    (~2 ms of a cold start) are not built; a command name, a wrong one, or ``--help`` builds
    them all first, and argparse then behaves exactly as if they had been there from the start.
    """

    def __init__(self, *args: Any, declare: Callable[[Any], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._name_parser_map = self.choices = _DeclaredOnUse(lambda: declare(self))

    def _get_subactions(self) -> list[argparse.Action]:
        self._name_parser_map._ready()  # type: ignore[attr-defined]
        return super()._get_subactions()  # type: ignore[no-any-return]


def _clock(args: argparse.Namespace) -> Clock:
    return FrozenClock(args.now) if args.now else SystemClock()


def _load_config(paths: Paths, *, keys: bool = False) -> Config:
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


def open_app_context(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Build the AppContext for running the app (user's files, or the demo)."""
    from oncall_tui.compose.context import AppContext
    from oncall_tui.settings.secrets import (
        EnvFirstSecretStore,
        KeyringSecretStore,
        MemorySecretStore,
    )
    from oncall_tui.store import open_store

    clock = _clock(args)
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
        from oncall_tui.domain.escalation import EscalationSettings

        config = Config(
            user=DEMO_USER,
            sync_interval=DEMO_SYNC_INTERVAL,
            backends={"github": tracker},
            escalation=EscalationSettings(help_channel_id=DEMO_HELP_CHANNEL),
        )
        store = open_store(db_path, sla=config.sla, clock=clock)
        if existed and store.meta(DEMO_META_KEY) is None:
            store.close()
            raise UsageError(
                f"{db_path} is not a demo database; --demo will not write demo data into it"
            )
        seeded_at = store.meta(DEMO_NOW_KEY)
        data: DemoData | None = None
        if store.meta(DEMO_META_KEY) is None:
            now = clock()
            data = make_demo_data(now, seed=args.seed, history=True)
            seed_store(store, data)
            store.set_meta(DEMO_META_KEY, str(args.seed))
            store.set_meta(DEMO_NOW_KEY, now.isoformat())
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
    config = _load_config(paths, keys=True)
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


def run_app(args: argparse.Namespace) -> int:
    """Open the full-screen app."""
    ctx = open_app_context(args)
    from oncall_tui.ui.app import OncallApp

    app = OncallApp(ctx)
    try:
        app.run()
    finally:
        ctx.store.close()
    if app.database_error:
        print(f"oncall-tui: error: {app.database_error}", file=sys.stderr)
        return 1
    return app.return_code or 0  # Textual sets 1 after a crash it has reported


def _run_sla(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from oncall_tui.cli.sla import run_sla

    paths = resolve_paths(args.config, args.db)
    config = _load_config(paths)

    def open_cache() -> Any:
        from oncall_tui.store import open_store

        if not paths.db.exists():
            from oncall_tui.cli.sla import BadValue

            raise BadValue(f"REF: no cached database at {paths.db} (run oncall-tui first)")
        return open_store(paths.db, sla=config.sla)

    return run_sla(args, config.sla, out, err, open_cache)


def _run_handoff(args: argparse.Namespace) -> int:
    from oncall_tui.cli.handoff import run_handoff
    from oncall_tui.store import open_store

    paths = resolve_paths(args.config, args.db)
    config = _load_config(paths)
    clock = _clock(args)
    store = open_store(paths.db, sla=config.sla, clock=clock)
    try:
        return run_handoff(
            args,
            store,
            config.sla,
            clock(),
            sys.stdout,
            sys.stderr,
            threshold=config.handoff.breach_threshold,
            next_shift_hours=config.handoff.next_shift_hours,
        )
    finally:
        store.close()


def _run_backend_command(args: argparse.Namespace) -> int:
    from oncall_tui.cli.sync import load_config_or_error, run_auth, run_doctor, run_sync_once
    from oncall_tui.settings.secrets import EnvFirstSecretStore, KeyringSecretStore

    paths = resolve_paths(args.config, args.db)
    clock = _clock(args)
    secrets = EnvFirstSecretStore(KeyringSecretStore())
    if args.command == "doctor":
        config, problem = load_config_or_error(paths, check=lambda: _load_config(paths, keys=True))
        return run_doctor(problem, config, paths, secrets, sys.stdout)
    config = _load_config(paths, keys=True)  # the same config the app would refuse
    if args.command == "auth":
        return run_auth(args, config, secrets, clock, sys.stdout, sys.stderr)
    if args.command == "relay":
        from oncall_tui.cli.team import run_relay

        db_given = bool(args.db or os.environ.get("ONCALL_TUI_DB"))
        return run_relay(args, config, paths, secrets, clock, sys.stdout, sys.stderr, db_given)
    if config.team is not None and not getattr(args, "loop", False):
        from oncall_tui.cli.team import run_team_sync_once

        return run_team_sync_once(config, paths, secrets, clock, sys.stdout, sys.stderr)
    if getattr(args, "loop", False):
        from oncall_tui.cli.sync import run_sync_loop

        return run_sync_loop(config, paths, secrets, clock, sys.stdout, sys.stderr)
    return run_sync_once(config, paths, secrets, clock, sys.stdout, sys.stderr)


def _redacted_excepthook(kind: Any, value: Any, tb: Any) -> None:
    import traceback

    from oncall_tui.settings.secrets import redact_text

    sys.stderr.write(redact_text("".join(traceback.format_exception(kind, value, tb))))


def _redacted_thread_excepthook(hook_args: Any) -> None:
    if hook_args.exc_type is SystemExit:
        return
    _redacted_excepthook(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback)


def install_redacted_tracebacks() -> None:
    """Every traceback this process prints goes through the secrets redactor (tokens from the
    keyring or the environment never reach the terminal, a log or a bug report)."""
    import threading

    sys.excepthook = _redacted_excepthook
    threading.excepthook = _redacted_thread_excepthook


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oncall-tui`` console script."""
    install_redacted_tracebacks()
    parser = build_parser()
    if argv is None:  # the shell asking for completions (`oncall-tui completion bash`)
        from oncall_tui.cli.completion import complete_if_asked

        complete_if_asked(parser)
    args = parser.parse_args(argv)
    from oncall_tui.store import StoreError

    try:
        if args.command == "sla":
            return _run_sla(args, sys.stdout, sys.stderr)
        if args.command == "handoff":
            return _run_handoff(args)
        if args.command in ("sync", "auth", "doctor", "relay"):
            return _run_backend_command(args)
        from oncall_tui.cli.tickets import COMMANDS as TICKET_COMMANDS

        if args.command in TICKET_COMMANDS:
            from oncall_tui.cli.tickets import run_ticket_command

            return run_ticket_command(args)
        if args.command == "completion":
            from oncall_tui.cli.completion import run_completion

            return run_completion(args, sys.stdout)
        if args.command == "demo":
            from oncall_tui.cli.team import run_demo_serve

            return run_demo_serve(args, sys.stdout, _clock(args))
        return run_app(args)
    except (ConfigError, UsageError, PathError) as exc:
        print(f"oncall-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"oncall-tui: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: report it, without any secret
        from oncall_tui.settings.secrets import redact_text

        _redacted_excepthook(type(exc), exc, exc.__traceback__)
        detail = redact_text(" ".join(str(exc).split()))[:200]
        print(
            f"oncall-tui: error: unexpected {type(exc).__name__}: {detail} (a bug; the report "
            "above holds no secrets)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
