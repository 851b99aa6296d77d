"""A relay and three members on one real nats-server: the members' caches converge on the
relay's, the backends see the relay's requests only, a member's change goes out with its own
token and comes back to the others through the relay, and a member offline for a day catches
up from where it left off."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.tickets import Source, Status
from oncall_tui.store import open_store
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

pytestmark = pytest.mark.anyio

TOKENS = {"service", "m0", "m1", "m2"}


def record_tokens(fakes: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    """(fake, method, path, token) of every request, as the fakes authorised them."""
    seen: list[tuple[str, str, str, str | None]] = []
    for name, fake in fakes.items():
        fake.tokens |= TOKENS
        inner = fake.authorized

        def authorized(call: Any, inner: Any = inner, name: str = name) -> bool:
            seen.append((name, call.request.method, call.path, call.token))
            return bool(inner(call))

        fake.authorized = authorized
    return seen


async def test_members_converge_on_the_relay_and_never_pull_the_backends(
    tmp_path, nats_server
) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(FROZEN_NOW)
    fakes = demo_fakes(clock)
    seen = record_tokens(fakes)
    served = serve(fakes)
    lines: list[str] = []
    config = team_config(urls_of(served), [nats_server.url])
    members = [replace(config, user=f"m{i}") for i in range(3)]
    dbs = [tmp_path / f"m{i}.db" for i in range(3)]
    relay, built = await start_relay(
        config, tmp_path / "relay.db", clock, secrets_for("service"), lines
    )
    try:
        await relay_pass(relay, lines)
        assert "relay pass 1 (leader): zendesk pulled" in lines[-1]
        assert "published" in lines[-1]
        by_relay = served.total()
        assert by_relay > 0

        for member, db in zip(members, dbs, strict=True):
            report, read = await member_sync(member, db, clock, secrets_for(member.user))
            assert report.ok, report.summary()
            assert read > 0
        assert served.total() == by_relay  # three members: not one more backend request
        expected = dump(relay.store)
        assert len(expected["tickets"]) > 150 and len(expected["comments"]) > 100
        assert {t[0] for t in expected["tickets"]} == {"helpdesk", "tracker", "chat"}
        for db in dbs:
            assert cache(db, clock) == expected

        # A minute of work: a relay pass, every member reading it; the backends see the relay.
        for _minute in range(2):
            clock.advance(60)
            fakes["zendesk"].add_activity()
            before = served.total()
            await relay_pass(relay, lines)
            by_relay = served.total() - before
            for member, db in zip(members, dbs, strict=True):
                _report, read = await member_sync(member, db, clock, secrets_for(member.user))
                assert read > 0
            assert served.total() - before == by_relay
        assert {t for (_f, _m, _p, t) in seen} == {"service"}  # only the relay pulled

        # m0 sets a help-desk ticket pending: sent with m0's own token, back to m1 via the relay.
        store = open_store(dbs[0], clock=clock)
        tid, remote_id = store.db.execute(
            "SELECT id, remote_id FROM tickets WHERE source = 'helpdesk' AND status = 'open' "
            "ORDER BY id LIMIT 1"
        ).fetchone()
        store.tickets.set_status(tid, Status.PENDING)
        store.close()
        seen.clear()
        clock.advance(60)
        report, _read = await member_sync(members[0], dbs[0], clock, secrets_for("m0"))
        assert report.outcomes["zendesk"].pushed == 1, report.summary()
        assert [(m, t) for (f, m, p, t) in seen if m == "PUT"] == [("PUT", "m0")]
        assert fakes["zendesk"].tickets[int(remote_id)]["status"] == "pending"
        await relay_pass(relay, lines)
        await member_sync(members[1], dbs[1], clock, secrets_for("m1"))
        store = open_store(dbs[1], clock=clock)
        assert store.tickets.find_ticket("helpdesk", remote_id).status is Status.PENDING
        store.close()
        assert cache(dbs[1], clock) == dump(relay.store)
    finally:
        await stop_relay(relay, built)
        served.stop()


async def test_a_member_offline_for_a_day_catches_up_from_its_position(
    tmp_path, nats_server
) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(FROZEN_NOW)
    fakes = demo_fakes(clock)
    for fake in fakes.values():
        fake.tokens |= TOKENS
    served = serve(fakes)
    lines: list[str] = []
    config = team_config(urls_of(served), [nats_server.url])
    relay, built = await start_relay(
        config, tmp_path / "relay.db", clock, secrets_for("service"), lines
    )
    member = replace(config, user="m2")
    db = tmp_path / "m2.db"
    try:
        await relay_pass(relay, lines)
        _report, first = await member_sync(member, db, clock, secrets_for("m2"))
        # The member goes offline; a day of customer activity reaches the relay meanwhile.
        for _hour in range(24):
            clock.advance(timedelta(hours=1))
            for fake in fakes.values():
                for _ in range(2):
                    fake.add_activity()
            await relay_pass(relay, lines)
        zendesk = fakes["zendesk"]
        zendesk.tickets[min(zendesk.tickets)]["subject"] = "Renamed while m2 was away"
        zendesk._touch(min(zendesk.tickets))
        await relay_pass(relay, lines)
        assert cache(db, clock) != dump(relay.store)
        before = served.total()
        report, read = await member_sync(member, db, clock, secrets_for("m2"))
        assert report.ok, report.summary()
        assert served.total() == before
        assert cache(db, clock) == dump(relay.store)
        assert 0 < read < first  # only what changed, not the whole stream again
        store = open_store(db, clock=clock)
        assert store.tickets.find_ticket("helpdesk", str(min(zendesk.tickets))).subject == (
            "Renamed while m2 was away"
        )
        positions = {s.backend: s.cursor for s in store.sync_state.backend_states()}
        store.close()
        assert '"oncall.helpdesk.>"' in (positions["zendesk"] or "")
    finally:
        await stop_relay(relay, built)
        served.stop()


async def test_an_interrupted_batch_is_read_again_not_skipped(tmp_path, nats_server) -> None:  # type: ignore[no-untyped-def]
    """The position is written with the batch: a member killed before a batch is stored
    reads it again (here: the write of a batch fails, then the member runs again)."""
    clock = FrozenClock(FROZEN_NOW)
    fakes = demo_fakes(clock)
    for fake in fakes.values():
        fake.tokens |= TOKENS
    served = serve(fakes)
    lines: list[str] = []
    config = team_config(urls_of(served), [nats_server.url])
    relay, built = await start_relay(
        config, tmp_path / "relay.db", clock, secrets_for("service"), lines
    )
    db = tmp_path / "m.db"
    try:
        await relay_pass(relay, lines)
        from oncall_tui.compose.team import build_member_backends, close_member
        from oncall_tui.sync.engine import SyncEngine

        backends, handle, _ = build_member_backends(config, secrets_for("m0"), clock)
        store = open_store(db, clock=clock)
        real = store.remote.apply_page
        calls = {"n": 0}

        def failing(backend: str, page: Any, **kwargs: Any) -> set[int]:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError("disk full")
            return real(backend, page, **kwargs)

        store.remote.apply_page = failing  # type: ignore[method-assign]
        engine = SyncEngine(store, backends, clock)
        report = await engine.run_once()  # a pass never raises: it reports the failure
        assert not report.ok
        assert any("disk full" in (o.error or "") for o in report.outcomes.values())
        await close_member(handle)
        store.close()
        await member_sync(config, db, clock, secrets_for("m0"))
        assert cache(db, clock) == dump(relay.store)
        assert Source.HELPDESK  # the three sources were all read (checked by the dump)
    finally:
        await stop_relay(relay, built)
        served.stop()
