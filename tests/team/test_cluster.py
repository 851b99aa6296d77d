"""A three-node JetStream cluster (stream and bucket with three replicas): a node is killed
while a member replays the stream and the relay publishes; every cache still converges."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.settings.team import RelayConfig
from oncall_tui.store import open_store
from oncall_tui.sync.engine import SyncEngine
from tests.conftest import FROZEN_NOW
from tests.team.conftest import serve
from tests.team.helpers import (
    cache,
    demo_fakes,
    dump,
    member_sync,
    relay_pass,
    secrets_for,
    start_relay,
    stop_relay,
    team_config,
    urls_of,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def sync_until_caught_up(config, db, clock, secrets, kill=None) -> int:  # type: ignore[no-untyped-def]
    """Passes until one ends without error with nothing left; ``kill`` runs after the first
    stored batch. Returns how many passes failed (a lost node, a consumer gone with it)."""
    from oncall_tui.compose.team import build_member_backends, close_member

    backends, handle, _ = build_member_backends(config, secrets, clock)
    for backend in backends:
        backend.feed.batch = 300
    store = open_store(db, clock=clock)
    real = store.remote.apply_page
    stored = {"n": 0}

    def apply(backend: str, page: Any, **kwargs: Any) -> set[int]:
        changed = real(backend, page, **kwargs)
        stored["n"] += 1
        if stored["n"] == 1 and kill is not None:
            kill()
        return changed

    store.remote.apply_page = apply  # type: ignore[method-assign]
    engine = SyncEngine(store, backends, clock)
    failed = 0
    try:
        for _ in range(60):
            report = await engine.run_once()
            if not report.ok:
                failed += 1
                continue
            if not report.more:
                return failed
        raise AssertionError("the member did not catch up")
    finally:
        await close_member(handle)
        store.close()


async def test_a_node_dies_mid_stream_and_every_cache_converges(tmp_path, nats_cluster) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(FROZEN_NOW)
    fakes = demo_fakes(clock, count=600)
    served = serve(fakes)
    lines: list[str] = []
    config = team_config(
        urls_of(served), nats_cluster.urls, relay=RelayConfig(replicas=3, lease_ttl=6)
    )
    relay, built = await start_relay(
        config, tmp_path / "relay.db", clock, secrets_for("demo-token"), lines
    )
    try:
        await relay_pass(relay, lines)
        js = await relay.connection.open()
        info = await js.stream_info("ONCALL")
        assert info.config.num_replicas == 3
        assert info.state.messages > 800

        def kill_first_node() -> None:
            nats_cluster.nodes[0].kill()

        members = [replace(config, user=f"m{i}") for i in range(3)]
        dbs = [tmp_path / f"m{i}.db" for i in range(3)]
        await sync_until_caught_up(
            members[0], dbs[0], clock, secrets_for("m"), kill=kill_first_node
        )
        assert nats_cluster.nodes[0].proc is None

        # The relay goes on with two nodes of three (a quorum) and publishes new activity.
        for _ in range(3):
            clock.advance(60)
            for fake in fakes.values():
                fake.add_activity()
            for _attempt in range(30):  # the stream elects a new leader meanwhile
                report = await relay.run_pass()
                lines.append(report.line())
                if report.ok and report.role == "leader" and not report.queued:
                    break
                await asyncio.sleep(1.0)
            assert report.ok, report.line()
        for member, db in zip(members, dbs, strict=True):
            await sync_until_caught_up(member, db, clock, secrets_for("m"))
        expected = dump(relay.store)
        for db in dbs:
            assert cache(db, clock) == expected
        assert len(expected["tickets"]) > 600
        _report, read = await member_sync(members[0], dbs[0], clock, secrets_for("m"))
        assert read == 0  # caught up: nothing left to read
    finally:
        await stop_relay(relay, built)
        served.stop()
