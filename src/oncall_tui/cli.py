"""Command line: parse arguments, build an AppContext, run the app or a subcommand.

Every failure a user can cause (bad flags, bad config, a database we must not touch) ends in
one clear line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NoReturn, TextIO

from oncall_tui import __version__
from oncall_tui.clock import Clock, FrozenClock, SystemClock
from oncall_tui.config import Config, ConfigError, load_config
from oncall_tui.paths import Paths, resolve_paths

EXIT_USAGE = 2
DEMO_META_KEY = "demo_seed"


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
    parser.add_argument(
        "--demo", action="store_true", help="open an embedded demo (no config, no network)"
    )
    parser.add_argument(
        "--seed", type=_seed, default=1, metavar="N", help="demo data seed (default 1)"
    )
    parser.add_argument("--db", metavar="PATH", help="database file (env ONCALL_TUI_DB)")
    parser.add_argument("--config", metavar="PATH", help="config file (env ONCALL_TUI_CONFIG)")
    parser.add_argument("--now", type=_instant, help=argparse.SUPPRESS)  # frozen clock: tests
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    from oncall_tui.sla_cli import add_sla_subparser

    add_sla_subparser(sub)
    return parser


def _clock(args: argparse.Namespace) -> Clock:
    return FrozenClock(args.now) if args.now else SystemClock()


def _load_config(paths: Paths) -> Config:
    return load_config(paths.config)


def _demo_db(args: argparse.Namespace) -> Path:
    if args.db:
        return Path(args.db).expanduser()
    folder = Path(tempfile.mkdtemp(prefix="oncall-tui-demo-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder / "demo.db"


def open_app_context(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Build the AppContext for running the app (user's files, or the demo)."""
    from oncall_tui.context import AppContext
    from oncall_tui.secrets import EnvFirstSecretStore, KeyringSecretStore, MemorySecretStore
    from oncall_tui.store import open_store

    clock = _clock(args)
    if args.demo:
        from oncall_tui.demo.seed import DEMO_USER, make_demo_data, seed_store

        db_path = _demo_db(args)
        existed = db_path.exists() and db_path.stat().st_size > 0
        config = Config(user=DEMO_USER, sync_interval=None)
        store = open_store(db_path, sla=config.sla, clock=clock)
        if existed and store.meta(DEMO_META_KEY) is None:
            store.close()
            raise UsageError(
                f"{db_path} is not a demo database; --demo will not write demo data into it"
            )
        if not existed or store.meta(DEMO_META_KEY) is None:
            seed_store(store, make_demo_data(clock(), seed=args.seed))
            store.set_meta(DEMO_META_KEY, str(args.seed))
        paths = Paths(config=Path("/dev/null"), db=db_path, data_dir=db_path.parent)
        return AppContext(
            config=config,
            paths=paths,
            secrets=MemorySecretStore(),
            store=store,
            clock=clock,
            demo=True,
        )
    paths = resolve_paths(args.config, args.db)
    config = _load_config(paths)
    store = open_store(paths.db, sla=config.sla, clock=clock)
    secrets = EnvFirstSecretStore(KeyringSecretStore())
    return AppContext(config=config, paths=paths, secrets=secrets, store=store, clock=clock)


def run_app(args: argparse.Namespace) -> int:
    """Open the full-screen app."""
    ctx = open_app_context(args)
    from oncall_tui.ui.app import OncallApp

    try:
        OncallApp(ctx).run()
    finally:
        ctx.store.close()
    return 0


def _run_sla(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from oncall_tui.sla_cli import run_sla

    paths = resolve_paths(args.config, args.db)
    config = _load_config(paths)
    return run_sla(args, config.sla, out, err)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oncall-tui`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from oncall_tui.store import StoreError

    try:
        if args.command == "sla":
            return _run_sla(args, sys.stdout, sys.stderr)
        return run_app(args)
    except (ConfigError, UsageError) as exc:
        print(f"oncall-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"oncall-tui: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
