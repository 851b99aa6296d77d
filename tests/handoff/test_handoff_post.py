"""Posting the summary: the guard, a draft until sent, one outbox entry, the wire fakes once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oncall_tui.demo.live import build_demo_backends
from oncall_tui.demo.seed import DEMO_REPO, DEMO_USER, make_demo_data, seed_store
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.handoff import Window, build_handoff
from oncall_tui.domain.handoff_md import handoff_markdown
from oncall_tui.domain.handoff_post import (
    guard_hits,
    handoff_op,
    parse_destination,
    post_title,
)
from oncall_tui.settings.config import Config, config_from_dict
from oncall_tui.store import open_store
from oncall_tui.store.handoff import HANDOFF_DRAFT
from oncall_tui.sync.engine import SyncEngine

pytestmark = pytest.mark.anyio


def test_handoff_config() -> None:
    c = config_from_dict({"handoff": {"post_to": "github:acme/handoffs", "breach_threshold": 5}})
    assert c.handoff.post_to is not None and c.handoff.post_to.target == "acme/handoffs"
    assert c.handoff.breach_threshold == 5
    assert Config().handoff.post_to is None
    channel = config_from_dict({"handoff": {"post_to": "slack:C0TEAM"}}).handoff.post_to
    assert channel is not None and channel.describe() == "a new message in slack C0TEAM"
    op = handoff_op(channel, "Week", "body", "k")
    assert (op.kind, op.payload) == (
        "post_message",
        {"channel": "C0TEAM", "text": "*Week*\n\nbody"},
    )
    for bad in (
        {"post_to": "email:me"},
        {"post_to": "slack:#team"},
        {"post_to": "slack:C0TEAM:soon"},
        {"breach_threshold": -1},
        {"colour": 1},
        {"offline_hours": 0},
    ):
        with pytest.raises(ConfigValueError) as exc:
            config_from_dict({"handoff": bad})
        assert str(exc.value).startswith("handoff.")


def test_the_guard_finds_customer_names_in_the_summary() -> None:
    data = make_demo_data(
        __import__("datetime").datetime(2026, 12, 1, 17, tzinfo=__import__("datetime").UTC)
    )
    text = "Acme Logistics waits on a fix; ceres is fine (a codename)."
    hits = guard_hits(text, data.customers)
    assert [h.customer for h in hits] == ["Acme Logistics"]
    assert guard_hits("ceres and vesta are fine", data.customers) == []
    # our own repository's issue references are not customer names; the words still are
    assert guard_hits("see acme/product#1204", data.customers) == []
    assert [h.customer for h in guard_hits("acme/product#12 for Acme", data.customers)] == [
        "Acme Logistics"
    ]


@pytest.mark.parametrize("where", ["github", "slack", "slack-channel"])
async def test_posting_reaches_the_backend_once(tmp_path, clock, where) -> None:
    data = make_demo_data(clock(), seed=1, history=True)
    store = open_store(tmp_path / "demo.db", sla=Config(user=DEMO_USER).sla, clock=clock)
    seed_store(store, data)
    now = clock()
    h = build_handoff(
        store.handoff.handoff_records(now - timedelta(days=7), now),
        Window(now - timedelta(days=7), now),
        Config().sla,
    )
    body = handoff_markdown(h)
    chat = next(t for t in data.tickets if t.source == "chat")
    dest = parse_destination(
        {
            "github": f"github:{DEMO_REPO}",
            "slack": f"slack:{chat.remote_id}",
            "slack-channel": f"slack:{chat.remote_id.partition(':')[0]}",
        }[where]
    )
    draft_id = store.drafts.create_draft(HANDOFF_DRAFT, None, {"body": body})
    assert store.drafts.get_draft(draft_id).state == "draft"
    edited = body.replace("## On-call handoff", "## On-call handoff (edited)")
    op = handoff_op(dest, post_title(now), edited, "handoff-key-1")
    store.handoff.queue_handoff_post(draft_id, edited, op, now)
    assert store.drafts.get_draft(draft_id).state == "submitted"
    assert store.handoff.last_handoff_at() == now
    demo = build_demo_backends(data, clock)
    engine = SyncEngine(store, demo.backends, clock)
    try:
        zendesk, github, slack = demo.fakes
        for _ in range(3):  # later passes do not post it again
            report = await engine.run_once()
            assert report.ok, report.summary()
        if where == "github":
            issues = [
                i for i in github.repos[DEMO_REPO].issues.values() if i["title"] == post_title(now)
            ]
            assert len(issues) == 1
            assert "## On-call handoff (edited)" in issues[0]["body"]
        else:
            channel, _, ts = chat.remote_id.partition(":")
            posted = [
                m
                for m in slack.channels[channel]
                if "On-call handoff (edited)" in (m.get("text") or "")
            ]
            if where == "slack":
                assert len(posted) == 1 and posted[0].get("thread_ts") == ts
            else:  # a new message in the channel, no thread
                assert len(posted) == 1 and "thread_ts" not in posted[0]
                (remote_id,) = store.db.execute("SELECT remote_id FROM outbox").fetchone()
                assert remote_id == f"{channel}:{posted[0]['ts']}"
                assert store.drafts.get_draft(draft_id).state == "filed"
        states = [r[0] for r in store.db.execute("SELECT state FROM outbox")]
        assert states == ["done"]
    finally:
        for client in demo.clients:
            await client.aclose()
        store.close()
