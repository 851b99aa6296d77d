"""Team mode on the command line: ``oncall-tui relay``, ``oncall-tui demo serve``, and a
member's ``sync --once`` reading the team's stream (the member's backends and the app's
engine factory are built in :mod:`oncall_tui.compose.team`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from oncall_tui.cli.backends import SyncSetup
from oncall_tui.compose.team import build_member_backends, close_member
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.errors import ConfigValueError

RELAY_DB = "relay.db"


def add_team_subparsers(sub: Any) -> None:
    """Register ``relay`` and ``demo``."""
    relay = sub.add_parser(
        "relay", help="the team relay: pull the backends, publish to the team's NATS stream"
    )
    relay.add_argument(
        "--once", action="store_true", help="one pass, then exit (non-zero on failure)"
    )
    demo = sub.add_parser("demo", help="the demo's fake backends, for trying team mode")
    verbs = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    serve = verbs.add_parser(
        "serve", help="serve fake Zendesk, GitHub and Slack on 127.0.0.1 (ports N, N+1, N+2)"
    )
    serve.add_argument("--port", type=_port, default=8720, metavar="N", help="default 8720")
    serve.add_argument(
        "--seed", type=int, default=1, metavar="N", help="demo data seed (default 1)"
    )
    serve.add_argument(
        "--quiet-activity",
        action="store_true",
        help="no made-up customer activity (the data stays as seeded)",
    )


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 1 <= port <= 65533:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65533, got {port}")
    return port


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# Members


def run_team_sync_once(setup: SyncSetup) -> int:
    """A member's ``sync --once``: send the outbox with the member's own tokens, read what
    the stream holds (every pass until caught up), exit."""
    from oncall_tui.store import open_store
    from oncall_tui.sync.engine import SyncEngine

    try:
        backends, handle, notes = build_member_backends(
            setup.config, setup.secrets, setup.clock, transports=setup.transports
        )
    except ConfigValueError as exc:
        raise setup.config_error(exc) from None
    for note in notes:
        print(f"note: {note}", file=setup.err)
    store = open_store(setup.paths.db, sla=setup.config.sla, clock=setup.clock)

    async def go() -> Any:
        try:
            engine = SyncEngine(store, backends, setup.clock)
            report = await engine.run_once()
            pulled = {name: o.pulled for name, o in report.outcomes.items()}
            while report.more:
                report = await engine.run_once()
                for name, o in report.outcomes.items():
                    pulled[name] = pulled.get(name, 0) + o.pulled
            for name, o in report.outcomes.items():
                o.pulled = pulled.get(name, 0)
            return report
        finally:
            await close_member(handle)

    try:
        report = asyncio.run(go())
    finally:
        store.close()
    print(report.summary().replace(": ok;", ": ok (team stream);"), file=setup.out)
    failed = any(o.error or o.failed for o in report.outcomes.values())
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------
# The relay


def run_relay(args: argparse.Namespace, setup: SyncSetup, db_given: bool) -> int:
    """``oncall-tui relay [--once]``: runs until stopped (SIGTERM/SIGINT end it cleanly)."""
    from oncall_tui.store import open_store
    from oncall_tui.team.connect import Connection, team_secret
    from oncall_tui.team.relay import Relay

    if setup.config.team is None:
        print(
            f'oncall-tui: error: {setup.paths.config}: the relay needs [team] url = "nats://…"',
            file=setup.err,
        )
        return 2
    built = setup.backends()
    if not built.backends:
        print("oncall-tui: error: the relay has no signed-in backend to pull", file=setup.err)
        return 1
    db = setup.paths.db if db_given else setup.paths.data_dir / RELAY_DB
    store = open_store(db, sla=setup.config.sla, clock=setup.clock)

    def log(line: str) -> None:
        print(f"{_stamp()} {line}", file=setup.out, flush=True)

    connection = Connection(setup.config.team, team_secret(setup.secrets), name="oncall-tui relay")
    relay = Relay(setup.config, store, built.backends, setup.clock, connection, log=log)
    where = ", ".join(setup.config.team.urls)
    log(f"relay {relay.relay_id} starting: {where}, stream {setup.config.team.stream}")

    async def go() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            return await relay.run(once=args.once, stop=stop)
        finally:
            await built.aclose()

    from oncall_tui.sync.base import SyncError

    try:
        return asyncio.run(go())
    except SyncError as exc:
        print(f"oncall-tui: error: {exc}", file=setup.err)
        return 1
    finally:
        store.close()


# --------------------------------------------------------------------------------------------
# demo serve


def run_demo_serve(args: argparse.Namespace, out: TextIO, clock: Clock) -> int:
    """Serve the three fakes on loopback until interrupted; an access line per request."""
    from oncall_tui.demo.fakes.loopback import serve_on_loopback
    from oncall_tui.demo.live import build_demo_backends
    from oncall_tui.demo.seed import DEMO_REPO, make_demo_data

    data = make_demo_data(clock(), seed=args.seed)
    demo = build_demo_backends(data, clock)
    lock = threading.Lock()

    def access(name: str) -> Callable[[str, str, int], None]:
        def line(method: str, path: str, status: int) -> None:
            with lock:
                print(f"{_stamp()} {name} {method} {path} {status or '-'}", file=out, flush=True)

        return line

    stops = []
    urls = []
    try:
        for offset, fake in enumerate(demo.fakes):
            fake.any_token = True
            url, stop = serve_on_loopback(fake, args.port + offset, access(fake.name))
            stops.append(stop)
            urls.append(url)
    except OSError as exc:
        for stop in stops:
            stop()
        print(f"oncall-tui: error: cannot listen on 127.0.0.1:{args.port}+: {exc}", file=sys.stderr)
        return 1
    slack = demo.fakes[2]
    channels = ", ".join(f'"{c}"' for c in slack.channels)
    with lock:
        print(
            "# fake backends on loopback; any token works (e.g. ONCALL_TUI_ZENDESK_TOKEN=demo)\n"
            f'[backends.zendesk]\nurl = "{urls[0]}"\n'
            f'[backends.github]\nurl = "{urls[1]}"\nrepos = ["{DEMO_REPO}"]\n'
            f'[backends.slack]\nurl = "{urls[2]}/api"\nchannels = [{channels}]\n',
            file=out,
            flush=True,
        )
    try:
        while True:
            time.sleep(1.0)
            if not args.quiet_activity:
                for fake in demo.fakes:
                    with fake.lock:
                        fake.tick()
    except KeyboardInterrupt:
        return 0
    finally:
        for stop in stops:
            stop()
