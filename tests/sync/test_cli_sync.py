"""`sync --once`, `auth` and `doctor` end to end against the wire fakes (loopback sockets)."""

from __future__ import annotations

import argparse
import asyncio
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from oncall_tui.cli.backends import SyncSetup
from oncall_tui.cli.sync import run_auth, run_doctor, run_sync_once
from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.github import GitHubFake
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.settings.config import BackendConfig, Config
from oncall_tui.settings.paths import Paths
from oncall_tui.settings.secrets import Credential, MemorySecretStore, Secret
from oncall_tui.store import open_store
from oncall_tui.sync.auth import refresh_if_needed, zendesk_login
from tests.conftest import FROZEN_NOW
from tests.fakes import remote_ticket


@pytest.fixture
def clock() -> FrozenClock:
    """The suite's frozen Monday (tests/sync/conftest.py has an older clock of its own)."""
    return FrozenClock(FROZEN_NOW)


@pytest.fixture
def zendesk(clock: Any) -> Iterator[tuple[ZendeskFake, str]]:
    fake = ZendeskFake(
        tickets=[remote_ticket(i, remote_id=str(100 + i)) for i in range(1, 4)],
        clock=clock,
        export_lag=0,
        export_rate_per_minute=None,
    )
    url, stop = serve_on_loopback(fake)
    yield fake, url
    stop()


def paths(tmp_path: Path) -> Paths:
    return Paths(config=tmp_path / "config.toml", db=tmp_path / "db.sqlite", data_dir=tmp_path)


def test_sync_once_over_loopback_pulls_and_pushes(
    tmp_path: Path, clock: Any, zendesk: tuple[ZendeskFake, str]
) -> None:
    fake, url = zendesk
    config = Config(backends={"zendesk": BackendConfig("zendesk", url)})
    secrets = MemorySecretStore({"zendesk": Credential("oauth", Secret(DEFAULT_TOKEN))})
    out, err = io.StringIO(), io.StringIO()
    assert run_sync_once(SyncSetup(config, paths(tmp_path), secrets, clock, out, err)) == 0, (
        err.getvalue()
    )
    assert "zendesk: ok; pulled 3" in out.getvalue()
    store = open_store(paths(tmp_path).db, clock=clock)
    try:
        tid = store.tickets.find_ticket("helpdesk", "101").id
        store.tickets.add_comment(tid, "Looking into it", public=True, author="agent@example.com")
    finally:
        store.close()
    out = io.StringIO()
    assert run_sync_once(SyncSetup(config, paths(tmp_path), secrets, clock, out, err)) == 0
    assert "pushed 1" in out.getvalue()
    assert any(c["body"] == "Looking into it" for c in fake.comments[101])


def test_sync_once_with_an_agents_token_fills_the_queue_and_sends(
    tmp_path: Path, clock: Any, zendesk: tuple[ZendeskFake, str]
) -> None:
    """Issue 16 end to end: the engine over loopback, an agent's token, no admin endpoint."""
    fake, url = zendesk
    fake.roles[DEFAULT_TOKEN] = "agent"
    config = Config(backends={"zendesk": BackendConfig("zendesk", url)})
    secrets = MemorySecretStore({"zendesk": Credential("oauth", Secret(DEFAULT_TOKEN))})
    out, err = io.StringIO(), io.StringIO()
    assert run_sync_once(SyncSetup(config, paths(tmp_path), secrets, clock, out, err)) == 0, (
        err.getvalue()
    )
    assert "zendesk: ok; pulled 3" in out.getvalue()
    assert not any("incremental" in e.path for e in fake.log)
    store = open_store(paths(tmp_path).db, clock=clock)
    try:
        log = [message for _, _, _, message in store.sync_state.log_entries()]
        assert any("search export (agent token" in m for m in log)
        tid = store.tickets.find_ticket("helpdesk", "101").id
        store.tickets.add_comment(tid, "On it", public=True, author="agent@example.com")
    finally:
        store.close()
    clock.advance(120)
    out = io.StringIO()
    assert run_sync_once(SyncSetup(config, paths(tmp_path), secrets, clock, out, err)) == 0
    assert "pushed 1" in out.getvalue()
    assert [c["body"] for c in fake.comments[101]].count("On it") == 1


def test_sync_once_fails_with_summary_when_the_backend_is_down(tmp_path: Path, clock: Any) -> None:
    config = Config(backends={"zendesk": BackendConfig("zendesk", "http://127.0.0.1:9")})
    secrets = MemorySecretStore({"zendesk": Credential("token", Secret("x"))})
    out, err = io.StringIO(), io.StringIO()
    assert run_sync_once(SyncSetup(config, paths(tmp_path), secrets, clock, out, err)) == 1
    assert "zendesk: error" in out.getvalue()


def test_sync_once_without_credentials_says_how_to_sign_in(tmp_path: Path, clock: Any) -> None:
    config = Config(backends={"zendesk": BackendConfig("zendesk", "https://acme.zendesk.com")})
    out, err = io.StringIO(), io.StringIO()
    assert (
        run_sync_once(SyncSetup(config, paths(tmp_path), MemorySecretStore(), clock, out, err)) == 1
    )
    assert "oncall-tui auth login zendesk" in err.getvalue()


def test_zendesk_pkce_login_through_the_loopback_redirect(
    clock: Any, zendesk: tuple[ZendeskFake, str]
) -> None:
    fake, url = zendesk
    secrets = MemorySecretStore()
    said: list[str] = []

    def browser(address: str) -> None:
        # the user's browser: the fake authorizes and redirects to our loopback listener
        httpx.get(address, follow_redirects=True, timeout=10)

    credential = asyncio.run(
        zendesk_login(
            url, "oncall-tui", secrets, clock, open_browser=browser, say=said.append, timeout=10
        )
    )
    assert said and "/oauth/authorizations/new?" in said[0] and "code_challenge=" in said[0]
    stored = secrets.get("zendesk")
    assert stored is not None and stored == credential and stored.refresh is not None
    assert stored.access.reveal() in fake.tokens
    assert "zd-" not in repr(stored) and "zd-" not in str(said)


def test_refresh_rotates_and_stores_before_use(
    clock: Any, zendesk: tuple[ZendeskFake, str]
) -> None:
    fake, url = zendesk
    secrets = MemorySecretStore()
    asyncio.run(
        zendesk_login(
            url,
            "oncall-tui",
            secrets,
            clock,
            open_browser=lambda a: httpx.get(a, follow_redirects=True),
            say=lambda s: None,
            timeout=10,
        )
    )
    first = secrets.get("zendesk")
    assert first is not None
    assert (
        asyncio.run(refresh_if_needed("zendesk", url, "oncall-tui", first, secrets, clock)) is first
    )  # not due yet
    clock.advance(timedelta(minutes=58))
    fresh = asyncio.run(refresh_if_needed("zendesk", url, "oncall-tui", first, secrets, clock))
    assert fresh.refresh != first.refresh and secrets.get("zendesk") == fresh
    with pytest.raises(Exception, match="refresh token"):  # the old one is void now
        asyncio.run(refresh_if_needed("zendesk", url, "oncall-tui", first, secrets, clock))


def test_github_device_flow_login(tmp_path: Path, clock: Any) -> None:
    fake = GitHubFake(clock=clock, device_auto_approve_after=1)
    url, stop = serve_on_loopback(fake)
    try:
        config = Config(
            backends={
                "github": BackendConfig(
                    "github", url, repos=("acme/product",), client_id="Iv1.demo", oauth_url=url
                )
            }
        )
        secrets = MemorySecretStore()
        args = argparse.Namespace(
            auth_command="login", backend="github", token=False, no_browser=True
        )
        out, err = io.StringIO(), io.StringIO()

        async def no_wait(seconds: float) -> None:
            clock.advance(seconds)

        code = run_auth(args, config, secrets, clock, out, err, sleep=no_wait)
        assert code == 0, err.getvalue()
        assert "enter the code" in out.getvalue()
        credential = secrets.get("github")
        assert credential is not None and credential.access.reveal().startswith("gho_")
        assert credential.access.reveal() not in out.getvalue()
    finally:
        stop()


def test_auth_set_status_logout_never_show_the_secret(clock: Any) -> None:
    from oncall_tui.settings.secrets import EnvFirstSecretStore

    secrets = EnvFirstSecretStore(MemorySecretStore(), environ={})
    out, err = io.StringIO(), io.StringIO()
    token = "xoxb-1234567890-very-secret"
    args = argparse.Namespace(auth_command="set", backend="slack", token=False)
    assert run_auth(args, Config(), secrets, clock, out, err, stdin=io.StringIO(token)) == 0
    out = io.StringIO()
    assert (
        run_auth(argparse.Namespace(auth_command="status"), Config(), secrets, clock, out, err) == 0
    )
    assert "slack: token" in out.getvalue() and token not in out.getvalue()
    assert "zendesk: not set" in out.getvalue()
    run_auth(
        argparse.Namespace(auth_command="logout", backend="slack"),
        Config(),
        secrets,
        clock,
        out,
        err,
    )
    assert secrets.get("slack") is None


def test_env_token_takes_precedence(clock: Any) -> None:
    from oncall_tui.settings.secrets import EnvFirstSecretStore

    inner = MemorySecretStore({"github": Credential("token", Secret("from-keyring"))})
    secrets = EnvFirstSecretStore(inner, environ={"ONCALL_TUI_GITHUB_TOKEN": "from-env"})
    assert secrets.get("github").access.reveal() == "from-env"  # type: ignore[union-attr]
    out = io.StringIO()
    run_auth(
        argparse.Namespace(auth_command="status"), Config(), secrets, clock, out, io.StringIO()
    )
    assert "github: token from ONCALL_TUI_GITHUB_TOKEN" in out.getvalue()


def test_doctor_lines(tmp_path: Path, clock: Any, zendesk: tuple[ZendeskFake, str]) -> None:
    fake, url = zendesk
    config = Config(
        backends={
            "zendesk": BackendConfig("zendesk", url),
            "github": BackendConfig("github", "https://api.github.com", repos=("a/b",)),
        }
    )
    secrets = MemorySecretStore({"zendesk": Credential("token", Secret(DEFAULT_TOKEN))})
    out = io.StringIO()
    assert run_doctor(None, config, paths(tmp_path), secrets, out) == 1
    text = out.getvalue()
    assert "PASS  config" in text
    assert "PASS  zendesk: reachable, token accepted" in text
    assert "admin token: incremental export" in text  # the fake's tokens are admins
    assert "FAIL  github: not signed in" in text
    secrets.set("zendesk", Credential("token", Secret("wrong")))
    out = io.StringIO()
    run_doctor(
        None,
        Config(backends={"zendesk": BackendConfig("zendesk", url)}),
        paths(tmp_path),
        secrets,
        out,
    )
    assert "FAIL  zendesk:" in out.getvalue() and "refused the token" in out.getvalue()
    assert "wrong" not in out.getvalue()


def test_doctor_names_the_agent_path_and_the_budget(tmp_path: Path, clock: Any) -> None:
    fake = ZendeskFake(clock=clock, roles={DEFAULT_TOKEN: "agent"}, account_rate_per_minute=400)
    url, stop = serve_on_loopback(fake)
    try:
        config = Config(backends={"zendesk": BackendConfig("zendesk", url)})
        secrets = MemorySecretStore({"zendesk": Credential("token", Secret(DEFAULT_TOKEN))})
        out = io.StringIO()
        run_doctor(None, config, paths(tmp_path), secrets, out)
    finally:
        stop()
    assert (
        "PASS  zendesk: reachable, token accepted; agent token: search export; an admin's "
        "token would allow the incremental export; oncall-tui uses 80 requests a minute "
        "(20% of the account's 400)"
    ) in out.getvalue()


# -- doctor on the setups people really have (issue 20 item 7) -----------------------------------


def doctor_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """The real entry point: ``python -m oncall_tui ... doctor`` (no keyring, isolated dirs)."""
    import os
    import subprocess
    import sys

    full = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / "config"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", *args, "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=full,
    )


@pytest.mark.slow
def test_doctor_passes_a_local_only_setup_without_a_keyring(tmp_path: Path) -> None:
    out = doctor_cli(tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("PASS  config: no file at")
    assert lines[1].startswith("PASS  database:") and "will be created" in lines[1]
    assert "FAIL" not in out.stdout and "no keyring backend" not in out.stdout
    assert "NOTE  keyring: not needed" in out.stdout
    assert "PASS  backends: none configured" in out.stdout
    assert not (tmp_path / "home" / "data" / "oncall-tui" / "oncall-tui.db").exists()


def test_doctor_accepts_environment_tokens_and_says_not_signed_in(
    tmp_path: Path, clock: Any, zendesk: tuple[ZendeskFake, str]
) -> None:
    """No keyring on the machine: the env token is used and passes; the backend without one
    is "not signed in" with the variable to set (it said "no keyring backend")."""
    from oncall_tui.settings.secrets import EnvFirstSecretStore, KeyringSecretStore

    fake, url = zendesk
    config = Config(
        backends={
            "zendesk": BackendConfig("zendesk", url),
            "slack": BackendConfig("slack", "http://127.0.0.1:9", channels=("C1",)),
        }
    )
    secrets = EnvFirstSecretStore(KeyringSecretStore(), {"ONCALL_TUI_ZENDESK_TOKEN": DEFAULT_TOKEN})
    out = io.StringIO()
    assert run_doctor(None, config, paths(tmp_path), secrets, out) == 1
    text = out.getvalue()
    assert "PASS  zendesk: reachable, token accepted" in text
    assert "admin token: incremental export" in text  # the fake's tokens are admins
    assert "(token from ONCALL_TUI_ZENDESK_TOKEN)" in text
    assert "FAIL  slack: not signed in; set ONCALL_TUI_SLACK_TOKEN" in text
    assert "no keyring backend" not in text and "FAIL  keyring" not in text
    secrets = EnvFirstSecretStore(KeyringSecretStore(), {"ONCALL_TUI_ZENDESK_TOKEN": DEFAULT_TOKEN})
    out = io.StringIO()
    only_zendesk = Config(backends={"zendesk": BackendConfig("zendesk", url)})
    assert run_doctor(None, only_zendesk, paths(tmp_path), secrets, out) == 0, out.getvalue()
    assert "NOTE  keyring: not needed: tokens from ONCALL_TUI_ZENDESK_TOKEN" in out.getvalue()


def test_doctor_checks_the_database_path(tmp_path: Path, clock: Any) -> None:
    import sqlite3

    db = tmp_path / "db.sqlite"
    store = open_store(db, clock=clock)
    store.tickets.add_comment(_local_ticket(store), "not sent yet", public=False, author="alex")
    store.close()
    out = io.StringIO()
    assert run_doctor(None, Config(), paths(tmp_path), MemorySecretStore(), out) == 0
    assert "PASS  database:" in out.getvalue() and "1 change not yet sent" in out.getvalue()
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE moz_places (x)")
    conn.commit()
    conn.close()
    for bad, fragment in [
        (other, "not an oncall-tui database"),
        (tmp_path, "is a folder"),
        (Path("/proc/x.db"), "cannot be created"),
        (tmp_path / "db.sqlite" / "under.db", "is not a folder"),
    ]:
        out = io.StringIO()
        where = Paths(config=tmp_path / "c.toml", db=bad, data_dir=tmp_path)
        assert run_doctor(None, Config(), where, MemorySecretStore(), out) == 1, bad
        assert "FAIL  database:" in out.getvalue() and fragment in out.getvalue(), out.getvalue()


def _local_ticket(store: Any) -> int:
    from oncall_tui.domain.tickets import Source, Ticket

    now = FROZEN_NOW
    [tid] = store.tickets.insert_tickets(
        [Ticket(id=0, source=Source.HELPDESK, subject="x", opened_at=now, updated_at=now)]
    )
    return int(tid)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ('[keys]\nasign-me = "A"\n', "keys.asign-me: no binding has this id"),
        ('[keys]\nassign-me = "q"\n', "q is already 'Quit'"),
        ('[[views]]\nname = "x"\nquery = "priorty:P0"\n', "did you mean priority?"),
        (None, "no such config file"),
    ],
)
def test_doctor_and_the_app_stop_on_the_same_config_mistakes(
    tmp_path: Path, config: str | None, fragment: str
) -> None:
    import subprocess
    import sys

    (tmp_path / "home").mkdir()
    path = tmp_path / "config.toml"
    if config is not None:
        path.write_text(config)
    out = doctor_cli(tmp_path, "--config", str(path))
    assert out.returncode == 1 and f"FAIL  config: {path}:" in out.stdout, out.stdout
    assert fragment in out.stdout
    app = subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--config", str(path), "--db", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert app.returncode == 2 and fragment in app.stderr
    assert len(app.stderr.strip().splitlines()) == 1 and "Traceback" not in app.stderr
