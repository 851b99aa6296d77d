"""The filter language against a real database: each case of issue 20 as a table row, and
the query plans that keep the new terms off full scans at 100,000 tickets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Customer, Priority, Source, Status, Ticket
from oncall_tui.store import Store
from oncall_tui.store.queue import QueueRow

ME = "alex@support.example"
ALL = parse_query("")


def rows(store: Store, text: str) -> list[QueueRow]:
    query = parse_query(text)
    found = store.queue.open_queue(query, limit=1000, me=ME)
    assert store.queue.queue_count(query, me=ME) == len(found), text  # the count agrees
    return found


def ids(store: Store, text: str) -> set[int]:
    return {r.id for r in rows(store, text)}


def everything(store: Store) -> list[QueueRow]:
    return store.queue.open_queue(ALL, limit=1000)


Check = Callable[[QueueRow], bool]


@pytest.mark.parametrize(
    ("text", "check"),
    [
        # -word leaves out tickets with the word (here: the customer's name)
        ("-Acme", lambda r: r.customer_name != "Acme Logistics"),
        ("-acme -globex", lambda r: r.customer_name not in ("Acme Logistics", "Globex Health")),
        # the name before the @, as the Assignee column shows it
        ("assignee:alex", lambda r: r.assignee == ME),
        ("assignee:ALEX,sam", lambda r: r.assignee in (ME, "sam@support.example")),
        # an unassigned ticket is not alex's: -assignee:alex keeps it
        ("-assignee:alex", lambda r: r.assignee != ME),
        # the Source column's word for the help desk, and the backends' names
        ("source:desk", lambda r: r.source == "helpdesk"),
        ("source:zendesk", lambda r: r.source == "helpdesk"),
        ("source:slack", lambda r: r.source == "chat"),
        ("-source:desk", lambda r: r.source != "helpdesk"),
        # pending is the ticket's status, whichever way it is asked
        ("status:pending", lambda r: r.status == "pending"),
        ("is:pending", lambda r: r.status == "pending"),
        ("-is:pending", lambda r: r.status != "pending"),
    ],
)
def test_filter_cases(demo_store: Store, text: str, check: Check) -> None:
    found = rows(demo_store, text)
    assert found, text
    assert all(check(r) for r in found), text
    # ... and nothing that passes is left out
    assert {r.id for r in everything(demo_store) if check(r)} == {r.id for r in found}, text


def test_negated_word_excludes_what_the_word_finds(demo_store: Store) -> None:
    acme = ids(demo_store, "Acme")
    rest = ids(demo_store, "-Acme")
    assert acme and rest
    assert acme.isdisjoint(rest)
    assert acme | rest == {r.id for r in everything(demo_store)}
    # with a positive word too, in one full-text expression
    login = ids(demo_store, "query")
    assert ids(demo_store, "query -acme") == login - acme


def test_short_names_match_whole_names_not_prefixes(store: Store, clock: FrozenClock) -> None:
    a = _ticket(store, clock, assignee="alex@acme.com")
    _ticket(store, clock, assignee="alexandra@acme.com")
    b = _ticket(store, clock, assignee="Alex@Other.io")
    c = _ticket(store, clock, assignee="alex")  # a help desk that only knows the name
    _ticket(store, clock, assignee="al_x@acme.com")  # "_" is a character, not a wildcard
    assert ids(store, "assignee:alex") == {a, b, c}
    assert ids(store, "assignee:alex@acme.com") == {a}
    assert ids(store, "assignee:al%") == set()


def test_unsent_is_the_local_change_not_the_status(store: Store, clock: FrozenClock) -> None:
    pending = _ticket(store, clock, status=Status.PENDING)
    edited = _ticket(store, clock)
    store.tickets.set_priority(edited, Priority.P1)  # queued for its backend
    assert ids(store, "is:unsent") == {edited}
    assert ids(store, "is:pending") == {pending}
    assert ids(store, "status:pending") == {pending}
    assert ids(store, "-is:unsent") == {pending}


@pytest.mark.parametrize("text", ["#41001", "41001"])
def test_ticket_number_finds_the_ticket(demo_store: Store, text: str) -> None:
    (ticket,) = [t for t in _all(demo_store) if t.remote_id == "41001"]
    found = ids(demo_store, text)
    assert ticket.id in found
    if text.startswith("#"):
        assert found == {ticket.id}  # exactly that ticket
    assert demo_store.queue.numbered("41001") == [ticket.id]


def test_numbers_of_each_backend_and_of_local_tickets(store: Store, clock: FrozenClock) -> None:
    desk = _ticket(store, clock, remote_id="123")
    issue = _ticket(store, clock, source=Source.TRACKER, remote_id="acme/product#123")
    other = _ticket(store, clock, source=Source.TRACKER, remote_id="acme/docs#123")
    chat = _ticket(store, clock, source=Source.CHAT, remote_id="C0123:123.456")
    local = _ticket(store, clock, remote_id=None)
    wordy = _ticket(store, clock, remote_id="999", subject="Error 1234 on login")
    assert ids(store, "#123") == {desk, issue, other}
    assert ids(store, "acme/product#123") == {issue}
    assert ids(store, f"#{local}") == {local}  # never synced: its own id
    assert ids(store, f"#{desk}") == ({desk} if desk == local else set())  # synced: not by id
    assert ids(store, "#456") == set()  # the chat thread's timestamp is not a number
    assert chat not in ids(store, "123")
    # a bare number is the ticket or the word; #number only the ticket
    assert ids(store, "1234") == {wordy}
    assert ids(store, "#1234") == set()
    assert ids(store, "12") >= {wordy}  # a prefix of the word, as for any word
    assert store.queue.numbered("123") == sorted(store.queue.numbered("123"), key=_urgency(store))


def test_emails_search_requesters(store: Store, clock: FrozenClock) -> None:
    rita = _ticket(store, clock, requester="Rita.Okafor@GlobexHealth.io")
    other = _ticket(
        store, clock, requester="rita@other.io", body="write to rita.okafor@globexhealth.io"
    )
    _ticket(store, clock, requester="ritaxokafor@globexhealth.io")  # "." is not a wildcard
    assert ids(store, "rita.okafor@globexhealth.io") == {rita}
    assert ids(store, "rita.okafor@glo") == {rita}  # as it is typed
    assert ids(store, "rita@") == {other}
    assert ids(store, "okafor") == {other}  # without the @: a word, in the text
    assert ids(store, "nobody@globexhealth.io") == set()


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("#41165", "tickets_number"),
        ("41165", "tickets_number"),
        ("acme/product#12", "sqlite_autoindex_tickets_1"),
        ("rita@globexhealth.io", "tickets_requester"),
        ("is:unsent", "tickets_unsent"),
    ],
)
def test_new_terms_use_an_index(
    demo_store: Store, clock: FrozenClock, text: str, index: str
) -> None:
    """Typed per keystroke on up to a million tickets: an index look-up, never a scan."""
    query = parse_query(text)
    for window in (True, False):
        where, params = demo_store.queue._where(query, clock(), ME, window=window)
        plan = " / ".join(
            str(r[3])
            for r in demo_store.db.execute(
                f"EXPLAIN QUERY PLAN SELECT t.id FROM tickets t{where}", params
            )
        )
        assert f"INDEX {index}" in plan, plan
        assert "SCAN t " not in plan + " ", plan


def test_has_tickets(store: Store, clock: FrozenClock) -> None:
    assert not store.queue.has_tickets()
    _ticket(store, clock)
    assert store.queue.has_tickets()


# ---- helpers ------------------------------------------------------------------------------


def _all(store: Store) -> list[Ticket]:
    return [store.tickets.get_ticket(r.id) for r in everything(store)]


def _urgency(store: Store) -> Callable[[int], int]:
    order = [r.id for r in everything(store)]
    return order.index


def _ticket(store: Store, clock: FrozenClock, **kw: object) -> int:
    customer_id = store.tickets.upsert_customer(
        Customer(id=0, name="Globex Health", plan="premium", codename="vesta", remote_id="1")
    )
    fields: dict = dict(
        id=0,
        source=Source.HELPDESK,
        subject="Printer on fire",
        opened_at=clock() - timedelta(minutes=30),
        updated_at=clock(),
        status=Status.OPEN,
        priority=Priority.P2,
        customer_id=customer_id,
    )
    fields.update(kw)
    if "remote_id" not in kw:
        fields["remote_id"] = f"9{len(everything(store)):04d}"
    return store.tickets.insert_tickets([Ticket(**fields)])[0]
