"""`oncall-tui sync --once`, `oncall-tui auth ...` and `oncall-tui doctor`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable
from typing import Any, TextIO

from oncall_tui.cli.backends import SyncSetup
from oncall_tui.domain.clock import Clock
from oncall_tui.settings.config import BACKEND_NAMES, Config, ConfigError, load_config
from oncall_tui.settings.paths import Paths
from oncall_tui.settings.secrets import (
    ENV_VARS,
    Credential,
    EnvFirstSecretStore,
    Secret,
    SecretStore,
    SecretStoreUnavailable,
)

GITHUB_OAUTH_DEFAULT = "https://github.com"


def add_sync_subparsers(sub: Any) -> None:
    """Register `sync`, `auth` and `doctor`."""
    sync = sub.add_parser(
        "sync", help="pull and push once (for scripts) or in a loop (a headless second process)"
    )
    how = sync.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--once",
        action="store_true",
        help="one pull and push, then exit (non-zero on failure)",
    )
    how.add_argument(
        "--loop",
        action="store_true",
        help="pull and push every sync_interval seconds until stopped (ctrl+c or SIGTERM); "
        "a failing pass is reported and retried with backoff",
    )
    auth = sub.add_parser("auth", help="sign in to the backends (tokens go to the keyring)")
    verbs = auth.add_subparsers(dest="auth_command", metavar="ACTION", required=True)
    login = verbs.add_parser("login", help="sign in: zendesk (OAuth + PKCE), github (device flow)")
    login.add_argument("backend", choices=("zendesk", "github"))
    login.add_argument(
        "--no-browser",
        action="store_true",
        help="only print the address to open (a machine without a browser)",
    )
    login.add_argument(
        "--token",
        action="store_true",
        help="paste a token instead (GitHub personal access token, or a legacy "
        "Zendesk API token as email/token:TOKEN)",
    )
    setter = verbs.add_parser("set", help="store a token you paste (asked without echo)")
    setter.add_argument("backend", choices=(*BACKEND_NAMES, "nats"))
    verbs.add_parser("status", help="what is set and when it expires (never the secret)")
    logout = verbs.add_parser("logout", help="remove a backend's credential from the keyring")
    logout.add_argument("backend", choices=BACKEND_NAMES)
    sub.add_parser("doctor", help="check config, keyring, backends and tokens")


def _read_secret(prompt: str, stdin: TextIO) -> str:
    if stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    return stdin.readline().strip()


def run_auth(
    args: argparse.Namespace,
    config: Config,
    secrets: SecretStore,
    clock: Clock,
    out: TextIO,
    err: TextIO,
    stdin: TextIO = sys.stdin,
    transport: Any = None,
    sleep: Any = asyncio.sleep,
) -> int:
    """Run an `auth` action; returns the exit status."""
    from oncall_tui.sync.auth import AuthError, expires_text, github_device_login, zendesk_login

    action = args.auth_command
    try:
        if action == "status":
            env = secrets.from_env if isinstance(secrets, EnvFirstSecretStore) else None
            for name in BACKEND_NAMES:
                configured = "configured" if name in config.backends else "not configured"
                from_env = env(name) if env else None
                if from_env is not None:
                    print(f"{name}: token from {ENV_VARS[name]} ({configured})", file=out)
                    continue
                credential = secrets.get(name)
                if credential is None:
                    print(f"{name}: not set ({configured})", file=out)
                else:
                    who = f" as {credential.login}" if credential.login else ""
                    print(
                        f"{name}: {credential.kind}{who}, {expires_text(credential, clock())} "
                        f"({configured})",
                        file=out,
                    )
            return 0
        if action == "logout":
            secrets.delete(args.backend)
            print(f"{args.backend}: signed out (credential removed from the keyring)", file=out)
            if isinstance(secrets, EnvFirstSecretStore) and secrets.from_env(args.backend):
                print(f"note: {ENV_VARS[args.backend]} is still set in the environment", file=out)
            return 0
        if action == "set" or (action == "login" and args.token):
            hint = {
                "zendesk": "Zendesk API token as email/token:TOKEN (works until 2027-04-30)",
                "github": "GitHub personal access token",
                "slack": "Slack token of your team's app (xoxb-… or xoxp-…)",
                "nats": "team NATS password (with [team] user), token or nkey seed",
            }[args.backend]
            value = _read_secret(f"{hint}: ", stdin)
            if not value:
                print("oncall-tui: error: no token given; nothing stored", file=err)
                return 2
            secrets.set(args.backend, Credential("token", Secret(value)))
            print(f"{args.backend}: token stored in the keyring", file=out)
            return 0
        spec = config.backends.get(args.backend)
        if spec is None:
            print(
                f"oncall-tui: error: [backends.{args.backend}] is not in the config; add it "
                "first (see the README)",
                file=err,
            )
            return 2
        if not spec.client_id:
            print(
                f"oncall-tui: error: backends.{args.backend}.client_id is needed for OAuth "
                f"sign-in (or use `oncall-tui auth login {args.backend} --token`)",
                file=err,
            )
            return 2

        def say(text: str) -> None:
            print(text, file=out, flush=True)

        if args.backend == "zendesk":
            import webbrowser

            opener = (lambda url: None) if args.no_browser else webbrowser.open
            credential = asyncio.run(
                zendesk_login(
                    spec.oauth_url or spec.url,
                    spec.client_id,
                    secrets,
                    clock,
                    open_browser=opener,
                    say=say,
                    transport=transport,
                )
            )
        else:
            credential = asyncio.run(
                github_device_login(
                    spec.oauth_url or GITHUB_OAUTH_DEFAULT,
                    spec.client_id,
                    secrets,
                    clock,
                    say=say,
                    transport=transport,
                    sleep=sleep,
                )
            )
        print(f"{args.backend}: signed in; {expires_text(credential, clock())}", file=out)
        return 0
    except AuthError as exc:
        print(f"oncall-tui: error: {args.backend}: {exc}", file=err)
        return 1
    except SecretStoreUnavailable as exc:
        print(f"oncall-tui: error: {exc}", file=err)
        return 1


def run_sync_once(setup: SyncSetup) -> int:
    """One pull and push with progress; non-zero and a summary on failure."""
    from rich.console import Console

    from oncall_tui.store import open_store
    from oncall_tui.sync.engine import SyncEngine

    built = setup.backends()
    if not built.backends:
        return setup.nothing_to_sync(built)
    store = open_store(setup.paths.db, sla=setup.config.sla, clock=setup.clock)
    console = Console(file=setup.err, stderr=True)

    async def go() -> Any:
        try:
            with console.status("syncing…") as status:
                engine = SyncEngine(
                    store, built.backends, setup.clock, progress=lambda text: status.update(text)
                )
                return await engine.run_once()
        finally:
            await built.aclose()

    try:
        report = asyncio.run(go())
    finally:
        store.close()
    print(report.summary(), file=setup.out)
    counts = report.outcomes
    failed = any(o.error or o.failed for o in counts.values()) or bool(built.problems)
    return 1 if failed else 0


def run_sync_loop(setup: SyncSetup, passes: int | None = None) -> int:
    """Sync passes until stopped (SIGINT or SIGTERM: exit 0): one line per pass that did
    something or failed. A failing pass, whatever the error, is reported and the loop goes
    on, waiting longer after each failure in a row (up to five minutes)."""
    import signal
    import time

    from oncall_tui.store import open_store
    from oncall_tui.sync.engine import SyncEngine, describe_error

    if setup.config.team is not None:
        print(
            "oncall-tui: error: sync --loop does not run in team mode yet; use the app or "
            "sync --once",
            file=setup.err,
        )
        return 2
    built = setup.backends()
    if not built.backends:
        return setup.nothing_to_sync(built)
    interval = setup.config.sync_interval or 60.0
    store = open_store(setup.paths.db, sla=setup.config.sla, clock=setup.clock)
    stop = asyncio.Event()

    async def go() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        engine = SyncEngine(store, built.backends, setup.clock)
        failures = done = 0
        try:
            while not stop.is_set() and (passes is None or done < passes):
                try:
                    report = await engine.run_once()
                    ok, more = report.ok, report.more
                    busy = report.changed_ids or any(
                        o.pushed or o.failed for o in report.outcomes.values()
                    )
                    text = report.summary()
                except Exception as exc:  # noqa: BLE001 - the loop never dies
                    text = f"sync: error: {describe_error(exc)}"
                    ok, more, busy = False, False, True
                done += 1
                failures = 0 if ok else failures + 1
                if busy or not ok:
                    stamp = time.strftime("%H:%M:%S")
                    for line in text.splitlines():
                        print(f"{stamp} {line}", file=setup.out, flush=True)
                if more and ok:
                    continue
                wait = interval if failures <= 1 else min(300.0, interval * 2.0 ** min(failures, 9))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=max(interval, wait))
        finally:
            await built.aclose()

    try:
        asyncio.run(go())
    finally:
        store.close()
    return 0


def run_doctor(
    config_error: str | None,
    config: Config,
    paths: Paths,
    secrets: SecretStore,
    out: TextIO,
    transports: Any = None,
) -> int:
    """One line per check (PASS, FAIL, or NOTE for what is only worth knowing); exit 1 if any
    check failed. A local-only setup passes; so do tokens from the environment without a
    keyring."""
    from oncall_tui.settings.secrets import redact_text
    from oncall_tui.store.checks import inspect_database
    from oncall_tui.sync.base import Limits
    from oncall_tui.sync.doctor import probe
    from oncall_tui.sync.factory import auth_for, sign_in_hint
    from oncall_tui.sync.http import build_client

    failures = 0

    def line(ok: bool | None, what: str, detail: str) -> None:
        nonlocal failures
        failures += 1 if ok is False else 0
        label = "NOTE" if ok is None else "PASS" if ok else "FAIL"
        print(f"{label}  {what}: {detail}", file=out)

    if config_error:
        line(False, "config", config_error)
    elif paths.config.exists():
        line(True, "config", f"{paths.config} is valid")
    else:
        line(True, "config", f"no file at {paths.config}; using defaults")
    ok, detail = inspect_database(paths.db)
    line(ok, "database", detail)
    if ok and paths.db.is_file():
        from oncall_tui.store.checks import check_integrity

        damage = check_integrity(paths.db)  # the app does this once a day, in the background
        line(damage is None, "integrity", "every page read: sound" if damage is None else damage)
    env = secrets.from_env if isinstance(secrets, EnvFirstSecretStore) else None
    from_env = [name for name in config.backends if env is not None and env(name) is not None]
    keyring_ok, keyring_detail = _keyring_state()
    if config_error:
        line(None, "backends", "not checked: fix the config first")
        return 1
    if not config.backends:
        line(None, "keyring", f"not needed: no backend is configured ({keyring_detail})")
        line(True, "backends", "none configured: oncall-tui works as a local-only tool")
    elif len(from_env) == len(config.backends):
        tokens = ", ".join(ENV_VARS[name] for name in from_env)
        line(None, "keyring", f"not needed: tokens from {tokens}")
    elif keyring_ok:
        line(True, "keyring", keyring_detail)
    else:
        line(
            None,
            "keyring",
            f"{keyring_detail}; tokens can come from "
            + ", ".join(ENV_VARS[name] for name in config.backends),
        )

    async def probes() -> None:
        for name, spec in config.backends.items():
            try:
                credential = secrets.get(name)
            except SecretStoreUnavailable:
                credential = None
            if credential is None:
                hint = (
                    f"set {ENV_VARS[name]} (this machine has no keyring)"
                    if not keyring_ok
                    else sign_in_hint(name)
                )
                line(False, name, f"not signed in; {hint}")
                continue
            token, scheme = auth_for(name, credential)
            transport = transports(name) if transports else None
            try:
                limits = Limits.from_table(spec.limits, f"backends.{name}.limits")
                async with build_client(
                    spec.url, token, scheme, transport=transport, timeout=10, limits=limits
                ) as client:
                    ok, message = await probe(name, spec, client)
            except Exception as exc:  # noqa: BLE001 - one backend's trouble is one line
                ok, message = False, redact_text(f"{type(exc).__name__}: {exc}")[:200]
            source = f" (token from {ENV_VARS[name]})" if name in from_env else ""
            line(ok, name, message + source)

    asyncio.run(probes())
    return 1 if failures else 0


def _keyring_state() -> tuple[bool, str]:
    """(usable, one line): the keyring backend this machine has, if any."""
    try:
        import keyring
        from keyring.backends import fail

        ring = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken keyring install must not stop doctor
        return False, f"the keyring cannot be loaded ({type(exc).__name__})"
    if isinstance(ring, fail.Keyring):
        return False, "no keyring on this machine"
    return True, type(ring).__name__


def load_config_or_error(
    paths: Paths, check: Callable[[], Config] | None = None
) -> tuple[Config, str | None]:
    """The config, or the defaults and the error text (doctor reports instead of stopping).

    ``check`` loads it with every check the app makes (keys against the bindings); by default
    the file is only parsed.
    """
    try:
        if check is not None:
            return check(), None
        return load_config(paths.config, required=paths.config_given), None
    except ConfigError as exc:
        return Config(), str(exc)
