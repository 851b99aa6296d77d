"""Every fault type against the wire fake, in a bounded loop: each outbox entry takes effect
exactly once in the end, and the cache equals the backend's data once the faults stop.

``ONCALL_SOAK=n`` multiplies the number of edits and passes (outside CI).
"""

from __future__ import annotations

import os
import random

import httpx
import pytest

from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.faults import Fault, FaultPlan
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpState
from oncall_tui.domain.tickets import Priority, Status
from oncall_tui.store import Store
from oncall_tui.sync.engine import SyncEngine
from oncall_tui.sync.http import build_client
from oncall_tui.sync.zendesk import ZendeskBackend
from oncall_tui.sync.zendesk_config import ZendeskConfig
from oncall_tui.sync.zendesk_wire import PRIORITY_TO_WIRE
from tests.conftest import FROZEN_NOW
from tests.fakes import remote_ticket

pytestmark = pytest.mark.anyio
SOAK = max(1, int(os.environ.get("ONCALL_SOAK", "0") or 0) * 5)

EVERY_FAULT = {
    Fault.LATENCY: 0.05,
    Fault.RATE_LIMIT: 0.05,
    Fault.SERVER_ERROR: 0.05,
    Fault.UNAVAILABLE: 0.05,
    Fault.DROP: 0.05,
    Fault.LOST_RESPONSE: 0.05,
    Fault.MALFORMED: 0.05,
    Fault.SLOW_BODY: 0.03,
    Fault.REPEAT: 0.05,
}


async def test_every_fault_type_exactly_once_and_converges(store: Store) -> None:
    clock = FrozenClock(FROZEN_NOW)
    store.clock = clock
    tickets = [remote_ticket(i, remote_id=str(500 + i)) for i in range(1, 21)]
    fake = ZendeskFake(
        tickets=tickets,
        clock=clock,
        export_lag=0,
        export_rate_per_minute=None,
        export_page_size=5,
        comments_page_size=3,
    )
    plan = FaultPlan(
        probabilities=EVERY_FAULT, seed=11, latency=0.01, retry_after=1.0, slow_chunk_delay=0.001
    )
    client = build_client(
        "https://acme.zendesk.com", DEFAULT_TOKEN, transport=httpx.MockTransport(fake.async_handler)
    )

    async def no_sleep(seconds: float) -> None:
        clock.advance(seconds)

    backend = ZendeskBackend(client, ZendeskConfig(), clock=clock)
    engine = SyncEngine(store, [backend], clock, sleep=no_sleep, rng=random.Random(3))
    await engine.run_once()  # a first pull, with faults
    fake.faults = plan
    rng = random.Random(5)
    replies: list[str] = []
    for step in range(40 * SOAK):
        local = store.tickets.find_ticket("helpdesk", str(500 + rng.randint(1, 20)))
        if local is not None:
            choice = rng.random()
            if choice < 0.3:
                store.tickets.set_priority(local.id, rng.choice(list(Priority)))
            elif choice < 0.5:
                store.tickets.set_status(local.id, rng.choice([Status.OPEN, Status.PENDING]))
            elif choice < 0.7:
                body = f"reply {step}"
                replies.append(body)
                store.tickets.add_comment(local.id, body, public=True, author="agent@example.com")
            else:
                store.tickets.add_labels(local.id, [f"tag{rng.randint(1, 4)}"])
        clock.advance(rng.uniform(0, 30))
        await engine.run_once()
    assert plan.injected, "no fault was injected"
    assert {fault for _, _, fault in plan.injected} >= {
        Fault.DROP,
        Fault.LOST_RESPONSE,
        Fault.MALFORMED,
        Fault.SERVER_ERROR,
    }
    fake.faults = FaultPlan()  # the faults stop: everything settles
    for _ in range(30):
        clock.advance(400)
        await engine.run_once()
        if not store.outbox.ops((OpState.PENDING, OpState.INFLIGHT)):
            break
    assert store.outbox.ops((OpState.PENDING, OpState.INFLIGHT)) == []
    assert store.outbox.ops((OpState.FAILED,)) == []
    # each reply was applied exactly once at the backend
    posted = [c["body"] for comments in fake.comments.values() for c in comments]
    for body in replies:
        assert posted.count(body) == 1, body
    # one more clean pull, and the cache equals the backend
    clock.advance(400)
    await engine.run_once()
    for tid, wire in fake.tickets.items():
        local = store.tickets.find_ticket("helpdesk", str(tid))
        assert local is not None
        assert str(local.status) == wire["status"], tid
        assert sorted(local.labels) == sorted(wire["tags"]), tid
        assert PRIORITY_TO_WIRE[local.priority] == wire["priority"], tid
    assert len(replies) >= 5 and len(plan.injected) >= 10
    await client.aclose()
