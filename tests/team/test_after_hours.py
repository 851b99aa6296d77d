"""The relay's out-of-hours chat reply: one thread reply and one help-desk ticket per thread
(later messages become notes on it), exactly once across lost answers and a relay restart."""

from __future__ import annotations

from datetime import datetime

import pytest

from oncall_tui.demo.fakes import Fault, FaultPlan
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.settings.team import AfterHoursConfig
from tests.team.conftest import serve
from tests.team.helpers import (
    demo_fakes,
    relay_pass,
    secrets_for,
    start_relay,
    stop_relay,
    team_config,
    urls_of,
)

pytestmark = pytest.mark.anyio

#: Saturday 2026-11-28 03:00 in Los Angeles: support is closed.
SATURDAY = datetime.fromisoformat("2026-11-28T11:00:00+00:00")
#: Monday 2026-11-30 10:00 in Los Angeles: open.
MONDAY = datetime.fromisoformat("2026-11-30T18:00:00+00:00")
REPLY = "Outside support hours: ticket {ticket} is open for you; we answer from {opens}."


def thread_messages(slack, channel, thread_ts):  # type: ignore[no-untyped-def]
    return [m for m in slack.thread(channel, thread_ts)]


async def test_out_of_hours_messages_get_one_reply_and_one_ticket(tmp_path, nats_server) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(SATURDAY)
    fakes = demo_fakes(clock)
    zendesk, slack = fakes["zendesk"], fakes["slack"]
    channel = sorted(slack.channels)[0]
    quiet = sorted(slack.channels)[1]
    served = serve(fakes)
    lines: list[str] = []
    config = team_config(
        urls_of(served),
        [nats_server.url],
        after_hours=AfterHoursConfig(channels=(channel,), reply=REPLY),
    )
    db = tmp_path / "relay.db"
    relay, built = await start_relay(config, db, clock, secrets_for("demo-token"), lines)
    try:
        await relay_pass(relay, lines)  # the seeded history is older than the reply: let be
        assert slack.mutations["post_message"] == 0
        assert zendesk.mutations["create_ticket"] == 0

        clock.advance(60)
        first = slack.add_message(
            {
                "channel": channel,
                "user": "U0CUSTOMER",
                "text": "All our hosts are offline!",
                "files": [{"id": "F1", "name": "screenshot.png"}],
            }
        )
        slack.add_message({"channel": quiet, "user": "U0CUSTOMER", "text": "not designated"})
        clock.advance(60)
        report = await relay_pass(relay, lines)
        assert "after hours" in report.line()
        assert slack.mutations["post_message"] == 1
        assert zendesk.mutations["create_ticket"] == 1
        thread_id = f"slack:{channel}:{first['ts']}"
        created = [t for t in zendesk.tickets.values() if t.get("external_id") == thread_id]
        assert len(created) == 1
        ticket_id = created[0]["id"]
        description = zendesk.comments[ticket_id][0]["body"]
        assert "All our hosts are offline!" in description
        assert "1 attachment was not carried over" in description
        replies = [
            m for m in thread_messages(slack, channel, first["ts"]) if m["ts"] != first["ts"]
        ]
        assert len(replies) == 1
        assert f"ticket {ticket_id} is open" in replies[0]["text"]
        assert "Monday 7:00" in replies[0]["text"]

        # The customer writes again in the thread: a note on that ticket, no second reply.
        clock.advance(300)
        slack.add_message(
            {
                "channel": channel,
                "user": "U0CUSTOMER",
                "text": "Still down.",
                "thread_ts": first["ts"],
            }
        )
        clock.advance(60)
        comments_before = len(zendesk.comments[ticket_id])
        await relay_pass(relay, lines)
        await relay_pass(relay, lines)
        assert slack.mutations["post_message"] == 1
        assert zendesk.mutations["create_ticket"] == 1
        notes = zendesk.comments[ticket_id][comments_before:]
        assert [("Still down." in n["body"], n["public"]) for n in notes] == [(True, False)]

        # A new thread whose reply and ticket answers are lost, then the relay restarts.
        clock.advance(600)
        second = slack.add_message(
            {"channel": channel, "user": "U0OTHER", "text": "Cannot log in to the console"}
        )
        zendesk.faults = FaultPlan(script=[Fault.LOST_RESPONSE], match=r"/api/v2/tickets\.json$")
        slack.faults = FaultPlan(script=[Fault.LOST_RESPONSE], match=r"chat\.postMessage$")
        clock.advance(60)
        await relay.run_pass()  # the creation is applied, its answer lost
        assert zendesk.mutations["create_ticket"] == 2
        await stop_relay(relay, built)
        relay, built = await start_relay(config, db, clock, secrets_for("demo-token"), lines)
        for _ in range(4):
            clock.advance(600)  # past the retry backoff; still Saturday night
            lines.append((await relay.run_pass()).line())
        assert zendesk.mutations["create_ticket"] == 2, lines[-6:]  # looked up, not created again
        assert slack.mutations["post_message"] == 2, lines[
            -6:
        ]  # one per thread, the lost one found
        assert [f for (_m, _p, f) in slack.faults.injected] == [Fault.LOST_RESPONSE]
        second_thread = [
            m for m in thread_messages(slack, channel, second["ts"]) if m["ts"] != second["ts"]
        ]
        assert len(second_thread) == 1
        created = [
            t
            for t in zendesk.tickets.values()
            if t.get("external_id") == f"slack:{channel}:{second['ts']}"
        ]
        assert len(created) == 1

        # In business hours nothing is answered automatically.
        clock.set(MONDAY)
        slack.add_message({"channel": channel, "user": "U0CUSTOMER", "text": "Good morning"})
        clock.advance(60)
        await relay_pass(relay, lines)
        assert slack.mutations["post_message"] == 2
        assert zendesk.mutations["create_ticket"] == 2
    finally:
        await stop_relay(relay, built)
        served.stop()
