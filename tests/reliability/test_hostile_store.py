"""Hostile records reach the store intact but inert.

What a backend sends goes through ``Store.apply_page``: NUL and escape characters, RTL
marks, lone surrogates (``"\\ud800"`` is valid JSON text), megabyte subjects. The page must be
written (a page that cannot be written is fetched again forever), and no stored text may
keep a character a terminal would act on: the design neutralises them at this boundary.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.store import Store
from oncall_tui.sync.base import Page, RemoteComment, RemoteCustomer, RemoteTicket
from tests.reliability.conftest import ESCAPES, HOSTILE, fuzz, has_control

T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
SURROGATES = ("\ud800", "a\udfffb", "\udc00\ud800")
hostile_text = (
    st.text(st.characters(exclude_categories=()), max_size=40)
    | st.sampled_from(HOSTILE + SURROGATES)
    | st.lists(st.sampled_from(HOSTILE + SURROGATES) | st.text(max_size=5), max_size=6).map("".join)
)
optional_text = st.none() | hostile_text


def ticket(remote_id: str = "1", **kw: Any) -> RemoteTicket:
    fields: dict[str, Any] = dict(
        source=Source.HELPDESK,
        remote_id=remote_id,
        subject="Printer on fire",
        body="It is on fire.",
        status=Status.OPEN,
        priority=Priority.P1,
        channel=Channel.EMAIL,
        labels=(),
        assignee=None,
        requester="rita@example.com",
        customer_remote_id="org1",
        opened_at=T0,
        updated_at=T0,
        url="https://acme.zendesk.com/agent/tickets/1",
        version="1",
    )
    fields.update(kw)
    return RemoteTicket(**fields)


def customer(**kw: Any) -> RemoteCustomer:
    fields: dict[str, Any] = dict(
        remote_id="org1", name="Globex", plan="premium", domains=("globex.io",), contacts=()
    )
    fields.update(kw)
    return RemoteCustomer(**fields)


def comment(ticket_remote_id: str = "1", **kw: Any) -> RemoteComment:
    fields: dict[str, Any] = dict(
        source=Source.HELPDESK,
        ticket_remote_id=ticket_remote_id,
        remote_id="c1",
        author="Rita",
        body="More smoke.",
        public=True,
        created_at=T0 + timedelta(minutes=5),
    )
    fields.update(kw)
    return RemoteComment(**fields)


def stored_texts(store: Store) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text stored from remote records."""
    found = []
    for table in ("tickets", "comments", "customers"):
        columns = [r[1] for r in store.db.execute(f"PRAGMA table_info({table})")]
        for row in store.db.execute(f"SELECT * FROM {table}"):
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, str):
                    found.append((table, column, value))
    return found


def assert_inert(store: Store) -> None:
    bad = [(t, c, v[:60]) for t, c, v in stored_texts(store) if has_control(v)]
    assert not bad, f"terminal control characters stored raw: {bad[:6]}"


def read_everything(store: Store) -> None:
    for row in store.open_queue(parse_query(""), limit=500):
        t = store.get_ticket(row.id)
        store.comments(t.id)
        store.get_customer(t.customer_id)
    store.customers()


@pytest.mark.product_bug("B11: a lone surrogate in remote text makes apply_page raise")
@pytest.mark.product_bug("B12: requester/assignee/url/ids/plan/codename are stored uncleaned")
@fuzz(120)
@given(
    subject=hostile_text,
    body=hostile_text,
    requester=optional_text,
    assignee=optional_text,
    url=optional_text,
    labels=st.lists(hostile_text, max_size=3),
    remote_id=hostile_text.filter(bool),
    author=hostile_text,
    name=hostile_text,
    plan=hostile_text,
    codename=optional_text,
    contacts=st.lists(hostile_text, max_size=2),
)
@example(
    subject="a\ud800b",
    body="",
    requester=None,
    assignee=None,
    url=None,
    labels=[],
    remote_id="1",
    author="",
    name="",
    plan="premium",
    codename=None,
    contacts=[],
)
@example(
    subject="ok",
    body="ok",
    requester=ESCAPES[2],
    assignee=ESCAPES[0],
    url=ESCAPES[1],
    labels=[],
    remote_id="1",
    author="",
    name="",
    plan="premium\x1b[5m",
    codename="v\x1b",
    contacts=[ESCAPES[1]],
)
def test_any_remote_text_is_stored_inert(
    store: Store,
    subject: str,
    body: str,
    requester: str | None,
    assignee: str | None,
    url: str | None,
    labels: list[str],
    remote_id: str,
    author: str,
    name: str,
    plan: str,
    codename: str | None,
    contacts: list[str],
) -> None:
    store.db.execute("DELETE FROM comments")
    store.db.execute("DELETE FROM tickets")
    store.db.execute("DELETE FROM customers")
    page = Page(
        tickets=(
            ticket(
                remote_id,
                subject=subject,
                body=body,
                requester=requester,
                assignee=assignee,
                url=url,
                labels=tuple(labels),
            ),
        ),
        comments=(comment(remote_id, author=author, body=body),),
        customers=(customer(name=name, plan=plan, codename=codename, contacts=tuple(contacts)),),
        cursor=json.dumps({"after": subject}),  # adapters encode cursors as ASCII JSON
    )
    changed = store.apply_page("zendesk", page)
    assert len(changed) == 1
    assert_inert(store)
    read_everything(store)
    # the same page again changes nothing and writes no duplicate comment
    assert store.apply_page("zendesk", page) == set()
    assert store.db.execute("SELECT count(*) FROM comments").fetchone()[0] == 1


def test_megabyte_subjects_and_bodies_are_stored_and_searchable(store: Store) -> None:
    big = ("lorem ipsum " * 90_000)[:1_000_000]
    page = Page(
        tickets=tuple(
            ticket(str(n), subject=f"zebra{n} " + big, body=big + f" giraffe{n}") for n in range(3)
        ),
        comments=(comment("0", body="word " * 200_000),),
        cursor="c",
    )
    assert len(store.apply_page("zendesk", page)) == 3
    rows = store.open_queue(parse_query("zebra1"), limit=5)
    assert [len(r.subject) for r in rows] == [len("zebra1 ") + len(big)]
    assert store.queue_count(parse_query("giraffe2")) == 1
    assert len(store.comments(rows[0].id)) == 0
    read_everything(store)


def test_a_huge_page_is_one_transaction(store: Store) -> None:
    tickets = tuple(ticket(str(n), subject=HOSTILE[n % len(HOSTILE)]) for n in range(3000))
    comments = tuple(comment(str(n), remote_id=f"c{n}") for n in range(3000))
    assert len(store.apply_page("zendesk", Page(tickets, comments, cursor="big"))) == 3000
    assert store.cursor("zendesk") == "big"
    assert store.ticket_count() == 3000


def test_a_failing_page_writes_nothing_not_even_its_cursor(store: Store) -> None:
    store.apply_page("zendesk", Page((ticket("1"),), cursor="before"))
    broken = replace(ticket("2"), opened_at=datetime(2026, 1, 1))  # naive: the store refuses it
    with pytest.raises(ValueError):
        store.apply_page("zendesk", Page((ticket("3"), broken), cursor="after"))
    assert store.cursor("zendesk") == "before"
    assert store.find_ticket("helpdesk", "3") is None
