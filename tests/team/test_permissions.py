"""NATS permissions keep a member to its groups: the server config below is the one the
README documents (a member may create consumers only on its groups' filter subjects, and
read only its own inboxes)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.tickets import Source
from oncall_tui.store import open_store
from tests.conftest import FROZEN_NOW
from tests.team.conftest import free_port, serve, write_node
from tests.team.helpers import (
    demo_fakes,
    member_sync,
    relay_pass,
    secrets_for,
    start_relay,
    stop_relay,
    team_config,
    urls_of,
)

pytestmark = pytest.mark.anyio

#: Member alex reads help-desk group 100, every tracker repository and chat channel.
ACCOUNTS = """
accounts {
  TEAM {
    jetstream: enabled
    users = [
      { user: relay, password: relay-secret }
      { user: alex, password: alex-secret, permissions: {
          publish: { allow: [
            "$JS.API.CONSUMER.CREATE.ONCALL.*.oncall.helpdesk.100.>",
            "$JS.API.CONSUMER.CREATE.ONCALL.*.oncall.tracker.>",
            "$JS.API.CONSUMER.CREATE.ONCALL.*.oncall.chat.>",
            "$JS.API.CONSUMER.MSG.NEXT.ONCALL.*",
            "$JS.API.CONSUMER.INFO.ONCALL.*",
            "$JS.API.CONSUMER.DELETE.ONCALL.*"
          ] }
          subscribe: { allow: ["_INBOX_alex.>"] }
      } }
    ]
  }
}
"""


@pytest.fixture
def secured_nats(tmp_path):  # type: ignore[no-untyped-def]
    node = write_node(tmp_path / "nats", "n1", free_port(), accounts=ACCOUNTS)
    node.start()
    yield node
    node.stop()


def helpdesk_groups(db, clock, fakes) -> set[int]:  # type: ignore[no-untyped-def]
    store = open_store(db, clock=clock)
    ids = [
        int(r[0])
        for r in store.db.execute("SELECT remote_id FROM tickets WHERE source = 'helpdesk'")
    ]
    store.close()
    return {fakes["zendesk"].tickets[i]["group_id"] for i in ids}


async def test_a_member_without_group_200_never_receives_its_tickets(
    tmp_path, secured_nats
) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(FROZEN_NOW)
    fakes = demo_fakes(clock)
    served = serve(fakes)
    lines: list[str] = []
    relay_config = team_config(urls_of(served), [secured_nats.url], nats_user="relay")
    relay, built = await start_relay(
        relay_config, tmp_path / "relay.db", clock, secrets_for("demo-token", "relay-secret"), lines
    )
    alex = replace(
        relay_config,
        user="alex",
        team=replace(
            relay_config.team,
            user="alex",
            groups={
                Source.HELPDESK: ("100",),
                Source.TRACKER: ("acme/product",),
                Source.CHAT: tuple(sorted(fakes["slack"].channels)),
            },
        ),
    )
    db = tmp_path / "alex.db"
    alex_secrets = secrets_for("demo-token", "alex-secret")
    try:
        await relay_pass(relay, lines)
        report, read = await member_sync(alex, db, clock, alex_secrets)
        assert report.ok, report.summary()
        assert read > 0
        assert helpdesk_groups(db, clock, fakes) == {100}
        store = open_store(db, clock=clock)
        sources = {r[0] for r in store.db.execute("SELECT DISTINCT source FROM tickets")}
        store.close()
        assert sources == {"helpdesk", "tracker", "chat"}

        # Asking for group 200 too: the server refuses that consumer; nothing of 200 arrives.
        greedy = replace(alex, team=replace(alex.team, groups={Source.HELPDESK: ("100", "200")}))
        report, _read = await member_sync(greedy, db, clock, alex_secrets)
        assert not report.ok
        error = report.outcomes["zendesk"].error or ""
        assert "permissions violation" in error and "oncall.helpdesk.200" in error
        assert helpdesk_groups(db, clock, fakes) == {100}

        # Reading the subjects directly, or a consumer without a filter: refused as well.
        import nats
        from nats.js import api

        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        nc = await nats.connect(
            secured_nats.url,
            user="alex",
            password="alex-secret",
            inbox_prefix="_INBOX_alex",
            error_cb=on_error,
        )
        got: list[bytes] = []

        async def take(msg) -> None:  # type: ignore[no-untyped-def]
            got.append(msg.data)

        await nc.subscribe("oncall.>", cb=take)
        await nc.subscribe("_INBOX.>", cb=take)
        js = nc.jetstream(timeout=1)
        with pytest.raises(nats.errors.TimeoutError):  # refused: no answer comes
            await js.add_consumer(
                "ONCALL", api.ConsumerConfig(name="peek", ack_policy=api.AckPolicy.NONE)
            )
        with pytest.raises(nats.errors.TimeoutError):
            await js.get_last_msg("ONCALL", "oncall.helpdesk.200.>")
        await asyncio.sleep(0.2)
        await nc.close()
        assert got == []
        assert any("permissions violation" in e.lower() for e in errors)

        # A ticket moved from group 100 to 200 leaves alex's cache with the next pass.
        zendesk = fakes["zendesk"]
        moved = next(tid for tid, t in sorted(zendesk.tickets.items()) if t["group_id"] == 100)
        zendesk.tickets[moved]["group_id"] = 200
        clock.advance(120)
        zendesk._touch(moved)
        await relay_pass(relay, lines)
        report, _read = await member_sync(alex, db, clock, alex_secrets)
        assert report.ok, report.summary()
        store = open_store(db, clock=clock)
        assert store.tickets.find_ticket("helpdesk", str(moved)) is None
        left = store.db.execute(
            "SELECT count(*) FROM pending_comments WHERE ticket_remote_id = ?", [str(moved)]
        ).fetchone()[0]
        store.close()
        assert left == 0
        assert helpdesk_groups(db, clock, fakes) == {100}
    finally:
        await stop_relay(relay, built)
        served.stop()
