"""A real-looking token never leaves the keyring/environment in readable form.

The token (``ghp_`` + 36 characters) comes in through ``ONCALL_TUI_GITHUB_TOKEN`` or a
``MemorySecretStore``, drives real adapters over a ``MockTransport`` that refuses it (401),
and must then be absent from: reprs, adapter exceptions and their messages, the sync report,
``sync_log``/``sync_state``/``outbox``, the database file bytes (``-wal`` and ``-shm`` too),
every file under the (isolated) config and data dirs, captured logging at DEBUG, and what the
app shows or prints when it fails.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import dataclasses
import io
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from rich.traceback import Traceback

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.tickets import Source, Ticket
from oncall_tui.settings.config import load_config
from oncall_tui.settings.paths import resolve_paths, user_config_dir, user_data_dir
from oncall_tui.settings.secrets import Credential, EnvFirstSecretStore, MemorySecretStore, Secret
from oncall_tui.store import open_store
from oncall_tui.sync.base import SyncError
from oncall_tui.sync.engine import SyncEngine
from oncall_tui.sync.factory import build_backends
from oncall_tui.sync.http import build_client, redact
from tests.reliability.conftest import GITHUB_TOKEN as TOKEN

NOW = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)
BASIC = "agent@acme.com/token:" + TOKEN
CONFIG = """
[backends.github]
repos = ["acme/product"]

[backends.zendesk]
url = "https://acme.zendesk.com"
"""


def forms(token: str = TOKEN) -> list[bytes]:
    """The token as it could be written: plain, UTF-16 (SQLite), base64 (Basic auth)."""
    return [
        token.encode(),
        token.encode("utf-16-le"),
        base64.b64encode(token.encode()),
        base64.b64encode(BASIC.encode()),
    ]


def assert_absent(where: str, data: str | bytes) -> None:
    blob = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    for form in forms():
        assert form not in blob, f"the token is in {where}"
    assert TOKEN[4:20].encode() not in blob, f"part of the token is in {where}"


def test_secret_and_credential_never_show_the_token() -> None:
    secret = Secret(TOKEN)
    cred = Credential("oauth", secret, refresh=Secret(TOKEN[::-1]), login="alex")
    shown = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        "%s" % secret,  # noqa: UP031
        format(secret, ""),
        repr(cred),
        str(cred),
        f"{cred}",
        repr([cred]),
        repr({"c": cred}),
        repr((secret,)),
        repr(dataclasses.replace(cred)),
        repr(copy.deepcopy(cred)),
        str(ValueError(cred)),
        str(ValueError(secret)),
        repr(
            EnvFirstSecretStore(MemorySecretStore(), {"ONCALL_TUI_GITHUB_TOKEN": TOKEN}).get(
                "github"
            )
        ),
    ]
    for text in shown:
        assert_absent(f"{text[:40]!r}", text)
    assert secret.reveal() == TOKEN


def test_authorization_headers_are_redacted() -> None:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Proxy-Authorization": TOKEN,
        "X-Api-Key": TOKEN,
        "Cookie": f"s={TOKEN}",
        "Accept": "application/json",
    }
    assert_absent("redact()", json.dumps(redact(headers)))
    assert redact(headers)["Accept"] == "application/json"
    client = build_client("https://api.github.com", TOKEN)
    assert_absent("repr(client.headers)", repr(client.headers))
    asyncio.run(client.aclose())


# -- a whole sync against backends that refuse the token ------------------------------------------


def refusing(echo: bool) -> httpx.MockTransport:
    """401 for everything; ``echo`` makes the body repeat the Authorization header, as some
    proxies and misconfigured gateways do."""

    def handler(request: httpx.Request) -> httpx.Response:
        message = "Bad credentials"
        if echo:
            message += f" for {request.headers.get('authorization')}"
        return httpx.Response(401, json={"message": message, "error": message})

    return httpx.MockTransport(handler)


def sync_with_refused_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, echo: bool
) -> tuple[Any, list[str]]:
    config_file = user_config_dir() / "config.toml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(CONFIG)
    paths = resolve_paths()
    config = load_config(paths.config)
    clock = FrozenClock(NOW)
    secrets = EnvFirstSecretStore(
        MemorySecretStore({"zendesk": Credential("token", Secret(BASIC))}),
        {"ONCALL_TUI_GITHUB_TOKEN": TOKEN},
    )
    caplog.set_level(logging.DEBUG)
    store = open_store(paths.db, sla=config.sla, clock=clock)
    now = clock()
    [tid] = store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.TRACKER,
                remote_id="acme/product#1",
                subject="x",
                opened_at=now,
                updated_at=now,
            )
        ]
    )
    store.tickets.add_comment(tid, "please look", public=True, author="alex")  # an outbox entry
    built = build_backends(config, secrets, clock, transports=lambda name: refusing(echo))
    assert [b.name for b in built.backends] == ["github", "zendesk"]
    errors: list[str] = []

    async def go() -> Any:
        for backend in built.backends:  # the adapters' own exceptions
            try:
                await backend.fetch_changes(None)
            except SyncError as exc:
                errors.extend([str(exc), repr(exc), exc.message, repr(exc.args)])
        report = await SyncEngine(store, built.backends, clock).run_once()
        await built.aclose()
        return report

    report = asyncio.run(go())
    errors.append(report.summary())
    tables = {
        "sync_log": store.db.execute("SELECT * FROM sync_log").fetchall(),
        "sync_state": store.db.execute("SELECT * FROM sync_state").fetchall(),
        "outbox": store.db.execute("SELECT * FROM outbox").fetchall(),
    }
    for name, rows in tables.items():
        errors.append(f"{name}: {rows!r}")
    wal = {p.name: p.read_bytes() for p in paths.db.parent.glob(paths.db.name + "*")}
    assert set(wal) >= {paths.db.name, paths.db.name + "-wal"}
    for name, data in wal.items():
        assert_absent(f"the database file {name} (connection open)", data)
    store.close()
    return report, errors


def scan_dirs(home: Path) -> None:
    for path in home.rglob("*"):
        if path.is_file():
            assert_absent(f"file {path.relative_to(home)}", path.read_bytes())


def test_a_refused_token_leaves_no_trace(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    report, texts = sync_with_refused_token(tmp_path, caplog, echo=False)
    assert "github" in report.outcomes and report.outcomes["github"].error
    assert "401" in report.outcomes["github"].error
    for text in texts:
        assert_absent(f"an error text: {text[:80]!r}", text)
    assert_absent("captured logs", caplog.text)
    assert any(
        "api.github.com" in r.getMessage() or "/repos/" in r.getMessage() for r in caplog.records
    ), "DEBUG logging was not captured"
    scan_dirs(user_data_dir().parents[1])  # HOME: config and data dirs, db, wal, shm
    assert user_config_dir().is_dir() and user_data_dir().is_dir()


@pytest.mark.product_bug("B15: a backend echoing the Authorization header puts the token in errors")
def test_an_echoed_token_is_redacted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _, texts = sync_with_refused_token(tmp_path, caplog, echo=True)
    for text in texts:
        assert_absent(f"an error text: {text[:80]!r}", text)
    scan_dirs(user_data_dir().parents[1])


# -- the app with a config mistake -------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.product_bug("B14: a bad adapter option crashes the app and prints the token")
async def test_bad_adapter_options_neither_crash_nor_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    """``options = {low_water = "x"}`` passes ``load_config`` but raises in the engine
    factory, on mount: Textual's crash report (traceback with locals) prints the token."""
    from oncall_tui.cli.main import build_parser
    from oncall_tui.compose import open_app_context
    from oncall_tui.ui.app import OncallApp

    monkeypatch.setenv("ONCALL_TUI_GITHUB_TOKEN", TOKEN)
    config = tmp_path / "config.toml"
    config.write_text('[backends.github]\nrepos = ["acme/product"]\noptions = {low_water = "x"}\n')
    args = build_parser().parse_args(["--config", str(config), "--db", str(tmp_path / "x.db")])
    ctx = open_app_context(args)
    app = OncallApp(ctx)
    crashed: BaseException | None = None
    try:
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await pilot.pause()
            shown = " ".join(str(n.message) for n in app._notifications)
    except Exception as exc:  # noqa: BLE001 - what a crash looks like from here
        crashed, shown = exc, ""
    finally:
        ctx.store.close()
    if crashed is not None:  # render it the way Textual's crash report does (_fatal_error)
        out = io.StringIO()
        Console(file=out, width=200).print(
            Traceback.from_exception(
                type(crashed),
                crashed,
                crashed.__traceback__,
                show_locals=True,
                locals_max_length=5,
            )
        )
        assert_absent("the crash report (traceback with locals)", out.getvalue())
    assert crashed is None and app.return_code in (None, 0), "the app crashed on a config value"
    assert "low_water" in shown, "the bad option is not reported"


# -- every config typo of issue 15/20, with tokens set: no token in any output ---------------------

SLACK_TOKEN = "xoxb-" + "R3liab1l1ty-5lack-T0ken-9q2w8e7r6t5y"
ZENDESK_TOKEN = "agent@acme.com/token:" + "Zd3skT0kenR3liab1l1ty9q2w8e7r"
BACKENDS = """
[backends.github]
repos = ["acme/product"]
{github}
[backends.zendesk]
url = "https://acme.zendesk.com"
[backends.slack]
channels = ["C0123ABCD"]
"""
TYPOS: dict[str, str | None] = {
    "ipv6 url without ]": BACKENDS.format(github='url = "http://[::1"'),
    "port out of range": BACKENDS.format(github='url = "https://ghe.example.com:99999"'),
    "url with a password": BACKENDS.format(github=f'url = "https://x:{TOKEN}@ghe.example.com"'),
    "critical_minutes = 1e300": "[sla]\ncritical_minutes = 1e300\n" + BACKENDS.format(github=""),
    "target 99999999999h": '[sla.targets.premium]\nP0 = "99999999999h"\n'
    + BACKENDS.format(github=""),
    "sync_interval = 0.000001": "sync_interval = 0.000001\n" + BACKENDS.format(github=""),
    "assign-me = q": '[keys]\nassign-me = "q"\n' + BACKENDS.format(github=""),
    "misspelt binding id": '[keys]\nasign-me = "A"\n' + BACKENDS.format(github=""),
    "bad key name": '[keys]\nassign-me = "ctrl+nope"\n' + BACKENDS.format(github=""),
    "invalid view query": '[[views]]\nname = "P0"\nquery = "priorty:P0"\n'
    + BACKENDS.format(github=""),
    "missing --config file": None,  # the path does not exist
    "--config /dev/zero": "/dev/zero",
    "a FIFO as config": "FIFO",
    "TOML syntax": "sync_interval = [\n" + BACKENDS.format(github=""),
}


def token_forms() -> list[bytes]:
    return [*forms(), *forms(SLACK_TOKEN), *forms(ZENDESK_TOKEN), b"R3liab1l1ty"]


def run_with_tokens(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / "config"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
        "ONCALL_TUI_GITHUB_TOKEN": TOKEN,
        "ONCALL_TUI_SLACK_TOKEN": SLACK_TOKEN,
        "ONCALL_TUI_ZENDESK_TOKEN": ZENDESK_TOKEN,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "TEXTUAL_LOG": str(tmp_path / "home" / "textual.log"),
    }
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=env,
    )


@pytest.mark.slow
@pytest.mark.parametrize("typo", list(TYPOS))
def test_config_typos_stop_in_one_line_without_a_token(tmp_path: Path, typo: str) -> None:
    """Each typo, with all three tokens in the environment, through the real entry point (the
    app, ``doctor`` and ``sync --once``): one line naming the file, exit 2 (doctor: 1), no
    traceback, and no token in stdout, stderr or any file written (config and data dirs, the
    Textual log, the database)."""
    (tmp_path / "home").mkdir()
    text = TYPOS[typo]
    if text is None:
        config = tmp_path / "nope.toml"
    elif text == "/dev/zero":
        config = Path("/dev/zero")
    elif text == "FIFO":
        config = tmp_path / "config.fifo"
        os.mkfifo(config)
    else:
        config = tmp_path / "config.toml"
        config.write_text(text)
    db = tmp_path / "x.db"
    outputs = []
    for args in ([], ["sync", "--once"], ["doctor"]):
        out = run_with_tokens(tmp_path, config, "--db", str(db), *args)
        outputs.append(out)
        for where, text_out in (("stdout", out.stdout), ("stderr", out.stderr)):
            blob = text_out.encode()
            for form in token_forms():
                assert form not in blob, f"{typo}: the token is in {where} of {args}"
        assert "Traceback" not in out.stderr + out.stdout, out.stderr[-800:]
        if args == ["doctor"]:
            assert out.returncode == 1 and "FAIL  config:" in out.stdout, out.stdout
            assert str(config) in out.stdout
        else:
            lines = out.stderr.strip().splitlines()
            assert out.returncode == 2, (args, out.returncode, out.stderr[-500:])
            assert len(lines) == 1 and lines[0].startswith("oncall-tui: error: "), lines
            assert str(config) in lines[0]
    for path in tmp_path.rglob("*"):  # what the runs wrote (the typo's own file aside)
        if path.is_file() and not path.is_fifo() and path != config:
            data = path.read_bytes()
            for form in token_forms():
                assert form not in data, f"{typo}: the token is in {path.relative_to(tmp_path)}"


# -- a crash that does happen: the report goes through the redactor -----------------------------

CRASHING_APP = """
import sys
from pathlib import Path
from oncall_tui.cli.main import install_redacted_tracebacks, build_parser
from oncall_tui.compose import open_app_context
from oncall_tui.settings.secrets import EnvFirstSecretStore, MemorySecretStore
from oncall_tui.ui.screens.queue_screen import QueueScreen
from oncall_tui.ui.app import OncallApp

install_redacted_tracebacks()
token = EnvFirstSecretStore(MemorySecretStore()).get("github").access.reveal()

def crash(self):
    headers = {"Authorization": "Bearer " + token}
    raise RuntimeError(f"boom while sending {headers}")

QueueScreen.on_mount = crash
ctx = open_app_context(build_parser().parse_args(["--db", sys.argv[1]]))
app = OncallApp(ctx)
app.run(headless=True)
ctx.store.close()
sys.exit(app.return_code or 0)
"""


@pytest.mark.slow
def test_the_apps_crash_report_holds_no_token(tmp_path: Path) -> None:
    """A real crash of the real app (an exception with the token in its message and in a
    frame's locals, as when ``url = "http://[::1"`` crashed building a client): Textual's
    report is printed, without locals, through the redactor."""
    (tmp_path / "home").mkdir()
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_APP)
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "ONCALL_TUI_GITHUB_TOKEN": TOKEN,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    assert out.returncode == 1, out.stderr[-800:]
    assert "RuntimeError" in out.stderr and "boom while sending" in out.stderr, out.stderr
    assert "[redacted]" in out.stderr
    for form in forms():
        assert form not in out.stderr.encode(), "the token is in the crash report"
    assert TOKEN[4:20] not in out.stderr


def test_the_cli_reports_an_unexpected_error_without_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import oncall_tui.cli.main as cli

    monkeypatch.setenv("ONCALL_TUI_GITHUB_TOKEN", TOKEN)

    def broken(args: Any) -> int:
        authorization = f"Bearer {TOKEN}"  # a local, as in a request being built
        raise ValueError(f"cannot send with {authorization}")

    monkeypatch.setattr(cli, "run_app", broken)
    assert cli.main(["--db", str(tmp_path / "x.db")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError" in err
    assert err.strip().splitlines()[-1].startswith("oncall-tui: error: unexpected ValueError")
    assert_absent("the CLI's report of an unexpected error", err)


def test_redact_text_takes_out_every_form(monkeypatch: pytest.MonkeyPatch) -> None:
    from oncall_tui.settings.secrets import redact_text

    Secret(BASIC)  # known to the process from now on
    monkeypatch.setenv("ONCALL_TUI_SLACK_TOKEN", SLACK_TOKEN)
    text = " | ".join(
        [
            TOKEN,
            f"Authorization: Bearer {TOKEN}",
            "Basic " + base64.b64encode(BASIC.encode()).decode(),
            BASIC,
            SLACK_TOKEN,
            "ghp_" + "Z" * 36,  # a token this process never saw: redacted by its shape
            "token accepted",  # ordinary words stay
        ]
    )
    redacted = redact_text(text)
    assert_absent("redact_text()", redacted)
    assert SLACK_TOKEN not in redacted and "ghp_ZZZZ" not in redacted
    assert redacted.endswith("token accepted")
