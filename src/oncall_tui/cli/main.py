"""Command line: parse arguments and dispatch: open the app (built by
:func:`oncall_tui.compose.open_app_context`) or run a subcommand.

Every failure a user can cause (bad flags, bad config, a database we must not touch) ends in
one clear line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, NoReturn, TextIO

from oncall_tui import __version__
from oncall_tui.compose import UsageError, clock_of, load_app_config, open_app_context
from oncall_tui.settings.config import ConfigError
from oncall_tui.settings.paths import PathError, resolve_paths

EXIT_USAGE = 2
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
    # argparse hands the extra ``declare`` to the action class; typeshed's overloads know only
    # the stock keywords.
    parser.add_subparsers(  # type: ignore[call-overload]
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
        self._declared = _DeclaredOnUse(lambda: declare(self))
        self._name_parser_map = self.choices = self._declared

    def _get_subactions(self) -> list[argparse.Action]:
        self._declared._ready()
        return super()._get_subactions()


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
    config = load_app_config(paths)

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
    config = load_app_config(paths)
    clock = clock_of(args)
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
    from oncall_tui.cli.backends import SyncSetup
    from oncall_tui.cli.sync import load_config_or_error, run_auth, run_doctor, run_sync_once
    from oncall_tui.settings.secrets import EnvFirstSecretStore, KeyringSecretStore

    paths = resolve_paths(args.config, args.db)
    clock = clock_of(args)
    secrets = EnvFirstSecretStore(KeyringSecretStore())
    if args.command == "doctor":
        config, problem = load_config_or_error(
            paths, check=lambda: load_app_config(paths, keys=True)
        )
        return run_doctor(problem, config, paths, secrets, sys.stdout)
    config = load_app_config(paths, keys=True)  # the same config the app would refuse
    if args.command == "auth":
        return run_auth(args, config, secrets, clock, sys.stdout, sys.stderr)
    setup = SyncSetup(config, paths, secrets, clock, sys.stdout, sys.stderr)
    if args.command == "relay":
        from oncall_tui.cli.team import run_relay

        db_given = bool(args.db or os.environ.get("ONCALL_TUI_DB"))
        return run_relay(args, setup, db_given)
    if config.team is not None and not getattr(args, "loop", False):
        from oncall_tui.cli.team import run_team_sync_once

        return run_team_sync_once(setup)
    if getattr(args, "loop", False):
        from oncall_tui.cli.sync import run_sync_loop

        return run_sync_loop(setup)
    return run_sync_once(setup)


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
    if args.command is not None:  # the app resumes the collector after loading (startup.py)
        from oncall_tui.startup import resume_collector

        resume_collector()
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

            return run_demo_serve(args, sys.stdout, clock_of(args))
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
