"""Building relays and members over the loopback fakes and a real NATS server."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from oncall_tui.demo.fakes.github import GitHubFake
from oncall_tui.demo.fakes.slack import SlackFake
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.demo.live import build_demo_backends
from oncall_tui.demo.seed import DEMO_REPO, make_demo_data
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.tickets import Source
from oncall_tui.settings.config import BackendConfig, Config
from oncall_tui.settings.secrets import Credential, MemorySecretStore, Secret
from oncall_tui.settings.team import AfterHoursConfig, RelayConfig, TeamConfig
from oncall_tui.store import Store, open_store
from oncall_tui.sync.engine import SyncEngine, SyncReport
from oncall_tui.team.connect import Connection, team_secret
from oncall_tui.team.relay import Relay

GROUPS = ("100", "200")


def demo_fakes(clock: Clock, count: int = 200) -> dict[str, Any]:
    """The demo's three fakes; help-desk tickets alternate between groups 100 and 200."""
    demo = build_demo_backends(make_demo_data(clock(), seed=1, count=count), clock)
    zendesk, github, slack = demo.fakes
    for tid, ticket in zendesk.tickets.items():
        ticket["group_id"] = int(GROUPS[tid % 2])
    return {"zendesk": zendesk, "github": github, "slack": slack}


def secrets_for(token: str, nats_secret: str | None = None) -> MemorySecretStore:
    items = {name: Credential("token", Secret(token)) for name in ("zendesk", "github", "slack")}
    if nats_secret is not None:
        items["nats"] = Credential("token", Secret(nats_secret))
    return MemorySecretStore(items)


def team_config(
    urls: dict[str, str],
    nats_urls: Sequence[str],
    *,
    user: str = "relay",
    nats_user: str | None = None,
    groups: dict[Source, tuple[str, ...]] | None = None,
    channels: Sequence[str] = (),
    slack_channels: Sequence[str] | None = None,
    relay: RelayConfig | None = None,
    after_hours: AfterHoursConfig | None = None,
) -> Config:
    slack: SlackFake = urls["slack_fake"]  # type: ignore[assignment]
    backends = {
        "zendesk": BackendConfig("zendesk", urls["zendesk"]),
        "github": BackendConfig("github", urls["github"], repos=(DEMO_REPO,)),
        "slack": BackendConfig(
            "slack",
            urls["slack"] + "/api",
            channels=tuple(slack_channels or sorted(slack.channels)),
            employees=tuple(channels),
        ),
    }
    settings = relay or RelayConfig()
    if after_hours is not None:
        settings = replace(settings, after_hours=after_hours)
    return Config(
        user=user,
        backends=backends,
        team=TeamConfig(urls=tuple(nats_urls), user=nats_user, groups=groups),
        relay=settings,
    )


def urls_of(served: Any) -> dict[str, Any]:
    return {**served.urls, "slack_fake": served.fakes["slack"]}


async def start_relay(
    config: Config, db: Path, clock: Clock, secrets: MemorySecretStore, lines: list[str]
) -> tuple[Relay, Any]:
    from oncall_tui.sync.factory import build_backends

    built = build_backends(config, secrets, clock)
    assert not built.problems, built.problems
    store = open_store(db, sla=config.sla, clock=clock)
    assert config.team is not None
    connection = Connection(config.team, team_secret(secrets), name="test relay")
    relay = Relay(config, store, built.backends, clock, connection, log=lines.append)
    await relay.setup()
    return relay, built


async def stop_relay(relay: Relay, built: Any) -> None:
    await relay.close()
    await built.aclose()
    relay.store.close()


async def relay_pass(relay: Relay, lines: list[str]) -> Any:
    report = await relay.run_pass()
    lines.append(report.line())
    assert report.ok, report.line()
    while report.more:
        report = await relay.run_pass()
        lines.append(report.line())
        assert report.ok, report.line()
    return report


async def member_sync(
    config: Config, db: Path, clock: Clock, secrets: MemorySecretStore
) -> tuple[SyncReport, int]:
    """A member's sync until caught up; returns the last report and the records read."""
    from oncall_tui.compose.team import build_member_backends, close_member

    backends, handle, _notes = build_member_backends(config, secrets, clock)
    store = open_store(db, sla=config.sla, clock=clock)
    engine = SyncEngine(store, backends, clock)
    read = 0
    try:
        report = await engine.run_once()
        read += sum(o.pulled for o in report.outcomes.values())
        while report.more:
            report = await engine.run_once()
            read += sum(o.pulled for o in report.outcomes.values())
    finally:
        await close_member(handle)
        store.close()
    return report, read


def cache(db: Path, clock: Clock) -> dict[str, Any]:
    """What a cache holds, comparable between caches (local ids left out)."""
    store = open_store(db, clock=clock)
    try:
        return dump(store)
    finally:
        store.close()


def dump(store: Store) -> dict[str, Any]:
    tickets = set(
        store.db.execute(
            "SELECT t.source, t.remote_id, t.subject, t.body, t.status, t.priority, t.labels, "
            "t.assignee, t.requester, t.first_response_at, t.sla_due, c.name, c.plan "
            "FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id"
        ).fetchall()
    )
    comments = set(
        store.db.execute(
            "SELECT t.source, t.remote_id, c.remote_id, c.author, c.body, c.public, c.created_at "
            "FROM comments c JOIN tickets t ON t.id = c.ticket_id"
        ).fetchall()
    )
    return {"tickets": tickets, "comments": comments}


__all__ = [
    "GitHubFake",
    "SlackFake",
    "ZendeskFake",
]


# -- the CLI as processes ----------------------------------------------------------------------


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "oncall_tui", *args]


def env(tmp_path: Path) -> dict[str, str]:
    """A child's environment: its own home and config folders, no keyring, the demo
    backends' tokens (a member drops them: it reads the stream)."""
    environ = dict(os.environ)
    environ.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "home" / "config"),
        XDG_DATA_HOME=str(tmp_path / "home" / "data"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        ONCALL_TUI_ZENDESK_TOKEN="service",
        ONCALL_TUI_GITHUB_TOKEN="service",
        ONCALL_TUI_SLACK_TOKEN="service",
        PYTHONUNBUFFERED="1",
    )
    return environ
