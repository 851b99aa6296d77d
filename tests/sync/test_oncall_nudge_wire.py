"""The time-box's on-call message over the wire: queued as the dialog queues it, pushed by the
real engine and Slack adapter to the Slack fake on loopback (a real HTTP server), it arrives
once, as a new message in the engineering help channel, whatever the faults."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.slack import SlackFake
from oncall_tui.domain import escalation as esc
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpState, post_message_op
from oncall_tui.domain.tickets import Source, Ticket
from oncall_tui.store import open_store
from oncall_tui.sync.engine import SyncEngine
from oncall_tui.sync.http import build_client
from oncall_tui.sync.slack import SlackBackend
from oncall_tui.sync.slack_wire import SlackConfig
from tests.sync.conftest import TOKEN
from tests.sync.spec_check import problems_in_log

HELP, CUSTOMERS = "C0HELPENG", "C0CUSTOMER"
pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "faults",
    [
        [],
        [Fault.LOST_RESPONSE],  # applied, answer lost: looked up, never posted again
        [Fault.DROP],  # never reached Slack: posted again, once
        [Fault.SERVER_ERROR, Fault.LOST_RESPONSE],
    ],
)
async def test_the_oncall_message_arrives_once_in_the_help_channel(
    tmp_path: Path, clock: FrozenClock, faults: list[Fault]
) -> None:
    fake = SlackFake(
        tokens=[TOKEN], clock=clock, channels=(CUSTOMERS, HELP), quiet_channels=(HELP,)
    )
    url, stop = serve_on_loopback(fake)
    store = open_store(tmp_path / "o.db", clock=clock)
    store.undo_seconds = 10  # as the app sets it: the send waits out its undo window
    client = build_client(url + "/api", TOKEN)  # the fake serves /api/<method>
    adapter = SlackBackend(client, SlackConfig(channels=(CUSTOMERS,)), clock=clock)
    engine = SyncEngine(store, [adapter], clock)
    try:
        now = clock()
        (tid,) = store.tickets.insert_tickets(
            [
                Ticket(
                    id=0,
                    source=Source.HELPDESK,
                    subject="Queries hang",
                    opened_at=now,
                    updated_at=now,
                    remote_id="41165",
                )
            ]
        )
        settings = esc.EscalationSettings(help_channel_id=HELP, oncall_group_id="S0ONCALL")
        body = esc.nudge_text(esc.Nudge.ONCALL, settings, {"ref": "zendesk #41165"})
        body += "tried a restart"
        text = esc.channel_text(body, settings)
        fields = {"body": body, "title": "t", "channel": settings.help_channel}
        draft_id, op_id = store.escalation.queue_channel_post(
            None, tid, fields, post_message_op(HELP, text, "nudge-key")
        )
        fake.faults = FaultPlan(
            script=list(faults), match=r"chat\.postMessage$|conversations\.history$"
        )
        await engine.push_once()  # still in its undo window: nothing goes
        assert fake.mutations.get("post_message", 0) == 0
        for _ in range(8):
            clock.advance(timedelta(minutes=10))  # past the undo window, then the backoff
            await engine.push_once()
            if store.outbox.get_op(op_id).state is OpState.DONE:
                break
        assert store.outbox.get_op(op_id).state is OpState.DONE
        for _ in range(2):  # later passes post nothing more
            clock.advance(timedelta(minutes=10))
            await engine.push_once()
        (posted,) = fake.channels[HELP]
        assert "thread_ts" not in posted  # a new message in the channel, not a reply or DM
        assert posted["text"].startswith("<!subteam^S0ONCALL> could you help with zendesk #41165")
        assert posted["text"].endswith("tried a restart")
        assert fake.mutations["post_message"] == 1
        assert fake.channels[CUSTOMERS] == []
        assert store.drafts.get_draft(draft_id).state == "filed"
        assert [f for (_m, _p, f) in fake.faults.injected] == faults
        assert not problems_in_log("slack", fake.log)
    finally:
        await client.aclose()
        stop()
        store.close()


def test_the_demo_slack_has_the_help_channel_and_no_customer_writes_there() -> None:
    from oncall_tui.demo.live import build_demo_backends
    from oncall_tui.demo.seed import DEMO_HELP_CHANNEL, make_demo_data
    from oncall_tui.domain.clock import FrozenClock as Frozen
    from tests.conftest import FROZEN_NOW

    clock = Frozen(FROZEN_NOW)
    demo = build_demo_backends(make_demo_data(clock(), seed=1), clock)
    slack = next(f for f in demo.fakes if isinstance(f, SlackFake))
    assert slack.channels[DEMO_HELP_CHANNEL] == []
    for _ in range(50):
        slack.add_activity()
    assert slack.channels[DEMO_HELP_CHANNEL] == []
