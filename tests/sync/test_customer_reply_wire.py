"""A customer's reply ends the waiting, end to end over the Zendesk wire fake on loopback
(issue 13, policy item 4): the cache shows the ticket open without its ``+`` label at once,
the label's removal reaches Zendesk exactly once (Zendesk reopens by itself: no status
request), and every request fits the vendor's description. Also with two real processes
(``oncall-tui sync --once``) pulling the same reply into one SQLite file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.cli.backends import SyncSetup
from oncall_tui.cli.sync import run_sync_once
from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpState
from oncall_tui.domain.tickets import Status
from oncall_tui.settings.config import BackendConfig, Config
from oncall_tui.settings.paths import Paths
from oncall_tui.settings.secrets import Credential, MemorySecretStore, Secret
from oncall_tui.store import open_store
from tests.conftest import FROZEN_NOW
from tests.fakes import remote_ticket
from tests.sync.spec_check import problems_in_log

TAG = "waiting_more_info_please"  # "+more info please" as a Zendesk tag


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_NOW)


@pytest.fixture
def zendesk(clock: FrozenClock) -> Iterator[tuple[ZendeskFake, str]]:
    fake = ZendeskFake(
        tickets=[
            remote_ticket(
                1,
                remote_id="201",
                status=Status.PENDING,
                labels=("bug", "+more info please"),
                customer_remote_id=None,
            )
        ],
        clock=clock,
        export_lag=0,
        export_rate_per_minute=None,
    )
    url, stop = serve_on_loopback(fake)
    yield fake, url
    stop()


def paths(tmp_path: Path) -> Paths:
    return Paths(config=tmp_path / "config.toml", db=tmp_path / "db.sqlite", data_dir=tmp_path)


def tag_writes(fake: ZendeskFake) -> list[Any]:
    return [e for e in fake.log if e.method == "PUT" and "tags" in str(e.body)]


def status_writes(fake: ZendeskFake) -> list[Any]:
    return [e for e in fake.log if e.method == "PUT" and '"status"' in str(e.body)]


def test_the_reply_reopens_in_the_cache_and_the_label_removal_goes_once(
    tmp_path: Path, clock: FrozenClock, zendesk: tuple[ZendeskFake, str]
) -> None:
    fake, url = zendesk
    config = Config(backends={"zendesk": BackendConfig("zendesk", url)})
    secrets = MemorySecretStore({"zendesk": Credential("oauth", Secret(DEFAULT_TOKEN))})
    out, err = io.StringIO(), io.StringIO()
    assert run_sync_once(SyncSetup(config, paths(tmp_path), secrets, clock, out, err)) == 0, (
        err.getvalue()
    )
    store = open_store(paths(tmp_path).db, clock=clock)
    try:
        ticket = store.tickets.find_ticket("helpdesk", "201")
        assert ticket is not None and ticket.status is Status.PENDING  # first sight: as is
        assert store.outbox.ops(tuple(OpState)) == []
    finally:
        store.close()

    clock.advance(600)
    fake.requester_reply(201, "Here are the logs you asked for.")
    assert fake.tickets[201]["status"] == "open" and TAG in fake.tickets[201]["tags"]
    for _ in range(3):  # pull (queue), push, and a pass that finds nothing more to do
        clock.advance(60)
        out = io.StringIO()
        assert run_sync_once(SyncSetup(config, paths(tmp_path), secrets, clock, out, err)) == 0
    assert TAG not in fake.tickets[201]["tags"] and "bug" in fake.tickets[201]["tags"]
    assert fake.tickets[201]["status"] == "open"
    assert len(tag_writes(fake)) == 1 and status_writes(fake) == []
    assert problems_in_log("zendesk", fake.log) == []
    store = open_store(paths(tmp_path).db, clock=clock)
    try:
        ticket = store.tickets.find_ticket("helpdesk", "201")
        assert ticket is not None and ticket.status is Status.OPEN
        assert ticket.labels == ("bug",) and not ticket.is_paused
        ops = store.outbox.ops(tuple(OpState))
        assert [(op.kind.value, op.state.value) for op in ops] == [("remove_labels", "done")]
    finally:
        store.close()


def sync_cli(tmp_path: Path, url: str, now: str) -> subprocess.Popen[str]:
    """The real entry point, ``python -m oncall_tui sync --once``, token from the
    environment (no keyring), isolated dirs."""
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / "config"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "ONCALL_TUI_ZENDESK_TOKEN": DEFAULT_TOKEN,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oncall_tui",
            "--config",
            str(tmp_path / "config.toml"),
            "--db",
            str(tmp_path / "db.sqlite"),
            "--now",
            now,
            "sync",
            "--once",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def run_together(tmp_path: Path, url: str, now: str) -> None:
    procs = [sync_cli(tmp_path, url, now) for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out + err


@pytest.mark.slow
def test_two_processes_pull_the_same_reply_and_queue_its_change_once(
    tmp_path: Path, clock: FrozenClock, zendesk: tuple[ZendeskFake, str]
) -> None:
    fake, url = zendesk
    (tmp_path / "config.toml").write_text(f'[backends.zendesk]\nurl = "{url}"\n')
    run_together(tmp_path, url, (clock() + __import__("datetime").timedelta(minutes=1)).isoformat())
    clock.advance(600)
    fake.requester_reply(201, "Here are the logs you asked for.")
    for minutes in (12, 13):  # both pull the reply; then both push what is queued
        stamp = (FROZEN_NOW + __import__("datetime").timedelta(minutes=minutes)).isoformat()
        run_together(tmp_path, url, stamp)
    assert TAG not in fake.tickets[201]["tags"]
    assert len(tag_writes(fake)) == 1 and status_writes(fake) == []
    assert problems_in_log("zendesk", fake.log) == []
    store = open_store(tmp_path / "db.sqlite", clock=clock)
    try:
        rows = store.db.execute(
            "SELECT kind, state, idempotency_key FROM outbox ORDER BY id"
        ).fetchall()
        assert [(k, s) for k, s, _ in rows] == [("remove_labels", "done")], rows
        assert rows[0][2].startswith("auto:customer-reply:helpdesk:201:")
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()
