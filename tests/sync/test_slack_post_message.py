"""A new message in a chat channel (``post_message``): the adapter, and the outbox end to end
against the Slack fake under faults: the message arrives exactly once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.slack import SlackFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpKind, OpState, post_message_op
from oncall_tui.domain.tickets import Source
from oncall_tui.store import open_store
from oncall_tui.sync.base import BackendUnavailable, Rejected
from oncall_tui.sync.engine import SyncEngine
from oncall_tui.sync.slack import SlackBackend
from oncall_tui.sync.slack_wire import SlackConfig
from tests.sync.conftest import TOKEN, client_for, op
from tests.sync.spec_check import problems_in_log

API = "https://slack.com/api"
TEAM, CUSTOMERS = "C0TEAM", "C0CUSTOMER"
pytestmark = pytest.mark.anyio


def adapter_for(fake: SlackFake, clock: FrozenClock) -> SlackBackend:
    config = SlackConfig(channels=(CUSTOMERS,), workspace_url="https://acme.slack.com")
    return SlackBackend(client_for(fake, API), config, clock=clock)


def top_level(fake: SlackFake, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.channels[channel] if m.get("thread_ts") in (None, m["ts"])]


def test_the_op_is_general_and_checked() -> None:
    entry = post_message_op("C0ENGHELP", "@oncall-dev please look at acme/product#12", "k1")
    assert (entry.kind, entry.source, entry.ticket_id, entry.remote_id) == (
        OpKind.POST_MESSAGE,
        Source.CHAT,
        None,
        None,
    )
    assert entry.payload == {"channel": "C0ENGHELP", "text": entry.payload["text"]}
    for channel, text in (("general", "hi"), ("C0TEAM:1.1", "hi"), ("C0TEAM", "  ")):
        with pytest.raises(ValueError):
            post_message_op(channel, text, "k2")


async def test_post_lookup_after_a_lost_answer(clock: FrozenClock) -> None:
    fake = SlackFake(tokens=[TOKEN], clock=clock, channels=(CUSTOMERS, TEAM))
    adapter = adapter_for(fake, clock)
    entry = op(OpKind.POST_MESSAGE, Source.CHAT, key="msg-1", channel=TEAM, text="Handoff")
    assert await adapter.lookup(entry) is None  # not sent yet: nothing to find
    fake.faults.add(Fault.LOST_RESPONSE)
    with pytest.raises(BackendUnavailable):
        await adapter.push(entry)
    found = await adapter.lookup(entry)
    assert found is not None
    (posted,) = top_level(fake, TEAM)
    assert posted["text"] == "Handoff" and "thread_ts" not in posted
    assert posted["metadata"]["event_payload"] == {"idempotency_key": "msg-1"}
    assert found.remote_id == f"{TEAM}:{posted['ts']}" and found.version == posted["ts"]
    assert found.url == f"https://acme.slack.com/archives/{TEAM}/p{posted['ts'].replace('.', '')}"
    # another entry is another message; the look-up tells them apart by key
    other = op(OpKind.POST_MESSAGE, Source.CHAT, key="msg-2", channel=TEAM, text="Handoff")
    result = await adapter.push(other)
    assert result.remote_id != found.remote_id
    again = await adapter.lookup(entry)
    assert again is not None and again.remote_id == found.remote_id
    assert fake.mutations["post_message"] == 2
    assert not problems_in_log("slack", fake.log)


async def test_bad_channels_are_refused(clock: FrozenClock) -> None:
    fake = SlackFake(tokens=[TOKEN], clock=clock, channels=(CUSTOMERS,))
    adapter = adapter_for(fake, clock)
    with pytest.raises(Rejected, match="channel_not_found"):
        await adapter.push(op(OpKind.POST_MESSAGE, Source.CHAT, channel="C0GONE", text="x"))
    with pytest.raises(Rejected, match="not a channel id"):
        await adapter.push(op(OpKind.POST_MESSAGE, Source.CHAT, channel="#team", text="x"))
    assert fake.mutations.get("post_message", 0) == 0


@pytest.mark.parametrize(
    "faults",
    [
        [Fault.LOST_RESPONSE],  # applied, answer lost: looked up, never sent again
        [Fault.DROP],  # never reached Slack: sent again, once
        [Fault.LOST_RESPONSE, Fault.SERVER_ERROR],  # ... and the look-up fails once
    ],
)
async def test_the_message_arrives_once_through_the_outbox(
    tmp_path: Path, clock: FrozenClock, faults: list[Fault]
) -> None:
    fake = SlackFake(tokens=[TOKEN], clock=clock, channels=(CUSTOMERS, TEAM))
    store = open_store(tmp_path / "o.db", clock=clock)
    adapter = adapter_for(fake, clock)
    engine = SyncEngine(store, [adapter], clock)
    try:
        op_id = store.outbox.enqueue(post_message_op(TEAM, "On-call handoff", "msg-key"))
        # the post, then (after a lost answer) its look-up in the channel's history
        fake.faults = FaultPlan(
            script=list(faults), match=r"chat\.postMessage$|conversations\.history$"
        )
        for _ in range(8):
            await engine.push_once()
            if store.outbox.get_op(op_id).state is OpState.DONE:
                break
            clock.advance(timedelta(minutes=10))  # past the backoff
        entry = store.outbox.get_op(op_id)
        assert entry.state is OpState.DONE, entry
        posted = [m for m in top_level(fake, TEAM) if m["text"] == "On-call handoff"]
        assert len(posted) == 1 and "thread_ts" not in posted[0]
        assert fake.mutations["post_message"] == 1
        assert entry.remote_id == f"{TEAM}:{posted[0]['ts']}"
        assert [f for (_m, _p, f) in fake.faults.injected] == faults
        for _ in range(2):  # later passes send nothing more
            clock.advance(timedelta(minutes=10))
            await engine.push_once()
        assert fake.mutations["post_message"] == 1
        assert not problems_in_log("slack", fake.log)
    finally:
        await adapter.client.aclose()
        store.close()
