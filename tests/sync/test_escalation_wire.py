"""The escalation loop over the wire fakes: the real engine and adapters, the demo's seeded
GitHub and Zendesk fakes. The stand-up's comment, the day-two labels, the outage issue and the
link-back reply each arrive once, in order."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from oncall_tui.demo.live import build_demo_backends
from oncall_tui.demo.seed import DEMO_REPO, DEMO_USER, make_demo_data, seed_store
from oncall_tui.domain import escalation as esc
from oncall_tui.domain import labels as lab
from oncall_tui.domain.ops import Op, OpKind, OpState
from oncall_tui.domain.tickets import Source
from oncall_tui.settings.config import Config
from oncall_tui.store import open_store
from oncall_tui.sync.engine import SyncEngine

pytestmark = pytest.mark.anyio


async def drain(engine: SyncEngine) -> None:
    for _ in range(5):
        report = await engine.run_once()
        assert report.ok, report.summary()
        if not report.more:
            return


def writes(fake: Any) -> list[tuple[str, str]]:
    return [(e.method, e.path) for e in fake.log if e.method in ("POST", "DELETE", "PUT", "PATCH")]


async def test_standup_decision_outage_and_link_back_arrive_once_in_order(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    data = make_demo_data(clock(), seed=1)
    store = open_store(tmp_path / "demo.db", sla=Config(user=DEMO_USER).sla, clock=clock)
    seed_store(store, data)
    demo = build_demo_backends(data, clock)
    zendesk, github, _slack = demo.fakes
    engine = SyncEngine(store, demo.backends, clock)
    try:
        await drain(engine)
        issue = store.escalation.investigations("~investigate")[0]
        number = int(issue.remote_id.rpartition("#")[2])
        desks = [
            t
            for t in (store.tickets.get_ticket(i) for i in range(1, 400) if _exists(store, i))
            if t.source is Source.HELPDESK and t.remote_id and not t.is_done
        ]
        desk, other = desks[0], desks[1]
        before = writes(github)

        # 1. the stand-up acknowledgement: once, even when pressed twice
        today = clock().date()
        body = "Reviewed at the support stand-up."
        assert store.escalation.acknowledge(issue.id, today, body, author=DEMO_USER)
        assert not store.escalation.acknowledge(issue.id, today, body, author=DEMO_USER)
        await drain(engine)
        await drain(engine)
        bodies = [c["body"] for c in github.repos[DEMO_REPO].comments.get(number, [])]
        assert sum(1 for b in bodies if b.startswith(body)) == 1

        # 2. day two: reproduced -> ~investigate off, :product on, in that order
        change = lab.mark_reproduced(store.tickets.get_ticket(issue.id).labels)
        with store.db.atomic():
            store.tickets.remove_labels(issue.id, list(change.remove))
            store.tickets.add_labels(issue.id, list(change.add))
        await drain(engine)
        names = [x["name"] for x in github.repos[DEMO_REPO].issues[number]["labels"]]
        assert ":product" in names and "~investigate" not in names
        label_writes = [w for w in writes(github)[len(before) :] if "/labels" in w[1]]
        assert label_writes[0][0] == "DELETE" and label_writes[-1][0] == "POST"

        # 3. a suspected outage: one issue with the labels, both tickets linked to it
        title = esc.outage_title(today)
        tids = [desk.id, other.id]
        op = Op(
            kind=OpKind.CREATE_ISSUE,
            source=Source.TRACKER,
            payload={
                "repo": DEMO_REPO,
                "title": title,
                "body": esc.outage_body([("zendesk #1", None)]),
                "labels": list(esc.DEFAULT_SETTINGS.outage_labels),
                "ticket_id": desk.id,
                "linked_tickets": tids,
            },
            idempotency_key=str(uuid.uuid4()),
            ticket_id=desk.id,
        )
        store.escalation.file_outage(op, title, clock() + timedelta(hours=1), 3600, tids)
        await drain(engine)
        await drain(engine)
        filed = [i for i in github.repos[DEMO_REPO].issues.values() if i["title"] == title]
        assert len(filed) == 1
        assert {x["name"] for x in filed[0]["labels"]} >= {"#outage", "#g-cx", ":release"}
        url = filed[0]["html_url"]
        assert (url, title) in store.tickets.links(desk.id)
        assert (url, title) in store.tickets.links(other.id)  # every affected ticket
        (timer,) = store.escalation.timers("outage")
        outage = store.escalation.outage_issue(timer)
        assert outage is not None and outage.url == url

        # 4. the link-back: drafted, confirmed (sent) once into the customer's thread
        notice = next(n for n in store.escalation.link_notices() if n.ticket_id == desk.id)
        assert notice.told is None and notice.issue is not None
        draft_id = store.escalation.queue_reply_draft(
            desk.id, esc.link_text(esc.IssueState.LINKED, esc.DEFAULT_SETTINGS, url)
        )
        assert (
            store.escalation.queue_reply_draft(
                desk.id, esc.link_text(esc.IssueState.LINKED, esc.DEFAULT_SETTINGS, url)
            )
            == draft_id
        )  # not twice
        draft = store.drafts.get_draft(draft_id)
        assert draft is not None and draft.fields["body"].count(url) == 1
        store.tickets.add_comment(desk.id, draft.fields["body"], public=True, author=DEMO_USER)
        await drain(engine)
        await drain(engine)
        thread = [
            c.get("body") or c.get("plain_body") for c in zendesk.comments[int(desk.remote_id)]
        ]
        assert sum(1 for b in thread if b and url in b) == 1
        assert not store.outbox.ops(states=(OpState.PENDING, OpState.INFLIGHT, OpState.FAILED))
    finally:
        for client in demo.clients:
            await client.aclose()
        store.close()


def _exists(store: Any, tid: int) -> bool:
    try:
        store.tickets.get_ticket(tid)
    except LookupError:
        return False
    return True


async def test_codename_labels_arrive_once_public_without_the_name(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    data = make_demo_data(clock(), seed=1)
    store = open_store(tmp_path / "demo.db", sla=Config(user=DEMO_USER).sla, clock=clock)
    seed_store(store, data)
    demo = build_demo_backends(data, clock)
    github = demo.fakes[1]
    github._repo("acme/customers")  # the private repository
    engine = SyncEngine(store, demo.backends, clock)
    try:
        await drain(engine)
        from oncall_tui.domain.tickets import Customer

        cid = store.tickets.upsert_customer(
            Customer(id=0, name="Vandelay Industries", plan="premium")
        )
        customer = store.tickets.get_customer(cid)
        assert customer is not None

        def op(repo: str | None, description: str) -> Op:
            return Op(
                kind=OpKind.CREATE_LABEL,
                source=Source.TRACKER,
                payload={"repo": repo, "name": "customer-kalypso", "description": description},
                idempotency_key=str(uuid.uuid4()),
            )

        store.escalation.assign_codename(
            customer.id, "kalypso", [op(None, ""), op("acme/customers", customer.name)]
        )
        again = op(None, "")  # a resend (an unclear outcome, another instance): still done
        store.outbox.enqueue(again)
        await drain(engine)
        public = github.repos[DEMO_REPO].labels["customer-kalypso"]
        private = github.repos["acme/customers"].labels["customer-kalypso"]
        assert public["description"] is None and private["description"] == customer.name
        assert github.mutations["create_label"] == 2
        from tests.sync.spec_check import problems_in_log

        label_calls = [e for e in github.log if e.path.endswith("/labels") and e.method == "POST"]
        assert len(label_calls) == 3  # the resend answered 422 already_exists, settled as done
        assert not problems_in_log("github", label_calls)
        assert not store.outbox.ops(states=(OpState.PENDING, OpState.INFLIGHT, OpState.FAILED))
        assert store.tickets.get_customer(customer.id).codename == "kalypso"
        await drain(engine)  # the next pull keeps the codename the backend does not know
        assert store.tickets.get_customer(customer.id).codename == "kalypso"
    finally:
        for client in demo.clients:
            await client.aclose()
        store.close()
