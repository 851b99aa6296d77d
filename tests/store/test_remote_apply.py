"""Writing pulled pages: many new tickets at once, comments before their tickets, answers."""

from __future__ import annotations

from datetime import timedelta

from oncall_tui.domain.query import parse_query
from oncall_tui.domain.remote import Page, RemoteComment, RemoteCustomer
from oncall_tui.domain.tickets import Source, Status
from oncall_tui.store import Store, open_store
from tests.fakes import T0, remote_ticket


def comment(ticket: int, n: int, *, minutes: int = 10, **kw: object) -> RemoteComment:
    values: dict = dict(
        source=Source.HELPDESK,
        ticket_remote_id=str(ticket),
        remote_id=f"c{ticket}-{n}",
        author="Alice Agent",
        body=f"comment {n} on {ticket}",
        public=True,
        created_at=T0 + timedelta(minutes=minutes),
        author_handle="alice@support.example",
        author_role="staff",
    )
    values.update(kw)
    return RemoteComment(**values)


def test_a_page_of_new_tickets_lands_with_customer_plan_sla_and_index(store: Store) -> None:
    org = RemoteCustomer("org1", "Globex Health", "premium", ("globexhealth.io",))
    tickets = tuple(remote_ticket(n, subject=f"Printer {n} on fire") for n in range(1, 301))
    changed = store.remote.apply_page(
        "zendesk", Page(tickets=tickets, customers=(org,), cursor="c1")
    )
    assert len(changed) == 300 and store.sync_state.cursor("zendesk") == "c1"
    one = store.tickets.find_ticket("helpdesk", "7")
    assert one is not None and one.subject == "Printer 7 on fire"
    customer = store.tickets.get_customer(one.customer_id)
    assert customer is not None and customer.name == "Globex Health"
    assert one.sla_due is not None  # premium P1: the SLA columns were computed
    assert store.queue.queue_count(parse_query("fire")) == 300  # and the text is searchable


def test_a_ticket_twice_in_one_page_is_stored_once_newest_copy(store: Store) -> None:
    old = remote_ticket(1, subject="old")
    new = remote_ticket(1, subject="new", updated_at=T0 + timedelta(minutes=5))
    store.remote.apply_page("zendesk", Page(tickets=(new, old)))
    assert store.tickets.ticket_count() == 1
    found = store.tickets.find_ticket("helpdesk", "1")
    assert found is not None and found.subject == "new"


def test_comments_that_arrive_before_their_ticket_wait_for_it(store: Store) -> None:
    early = (comment(5, 1), comment(5, 2, minutes=20), comment(6, 1))
    assert store.remote.apply_page("zendesk", Page(comments=early, cursor="e1")) == set()
    assert store.tickets.ticket_count() == 0
    store.remote.apply_page("zendesk", Page(tickets=(remote_ticket(5),), cursor="t1"))
    five = store.tickets.find_ticket("helpdesk", "5")
    assert five is not None
    assert [c.body for c in store.tickets.comments(five.id)] == ["comment 1 on 5", "comment 2 on 5"]
    assert five.first_response_at == T0 + timedelta(minutes=10)  # an agent answered
    assert store.queue.queue_count(parse_query("comment")) == 1  # the adopted thread is indexed
    # the other ticket's comment still waits; a repeat of an adopted one is not duplicated
    store.remote.apply_page("zendesk", Page(comments=(comment(5, 1),)))
    assert len(store.tickets.comments(five.id)) == 2
    store.remote.apply_page("zendesk", Page(tickets=(remote_ticket(6),)))
    six = store.tickets.find_ticket("helpdesk", "6")
    assert six is not None and len(store.tickets.comments(six.id)) == 1
    left = store.db.execute("SELECT count(*) FROM pending_comments").fetchone()[0]
    assert left == 0


def test_a_reply_from_the_requester_is_not_the_first_response(store: Store) -> None:
    """Zendesk names comment authors ("Rita Jones") but tickets by email: the handle decides."""
    store.remote.apply_page("zendesk", Page(tickets=(remote_ticket(1),)))
    again = comment(1, 1, author="Rita Jones", author_handle="rita@globexhealth.io")
    store.remote.apply_page("zendesk", Page(comments=(again,)))
    ticket = store.tickets.find_ticket("helpdesk", "1")
    assert ticket is not None and ticket.first_response_at is None
    answer = comment(1, 2, minutes=30)
    internal = comment(1, 3, minutes=20, public=False)
    store.remote.apply_page("zendesk", Page(comments=(answer, internal)))
    ticket = store.tickets.find_ticket("helpdesk", "1")
    assert ticket is not None and ticket.first_response_at == T0 + timedelta(minutes=30)


def test_the_earliest_answer_in_a_page_is_the_first_response(store: Store) -> None:
    store.remote.apply_page("zendesk", Page(tickets=(remote_ticket(1),)))
    late, early = comment(1, 1, minutes=50), comment(1, 2, minutes=15)
    store.remote.apply_page("zendesk", Page(comments=(late, early)))
    ticket = store.tickets.find_ticket("helpdesk", "1")
    assert ticket is not None and ticket.first_response_at == T0 + timedelta(minutes=15)


def test_known_tickets_still_merge_one_by_one(store: Store) -> None:
    store.remote.apply_page("zendesk", Page(tickets=(remote_ticket(1), remote_ticket(2))))
    solved = remote_ticket(1, status=Status.SOLVED, updated_at=T0 + timedelta(hours=1))
    stale = remote_ticket(2, subject="stale", updated_at=T0 - timedelta(hours=1))
    changed = store.remote.apply_page("zendesk", Page(tickets=(solved, stale, remote_ticket(3))))
    one, two = (
        store.tickets.find_ticket("helpdesk", "1"),
        store.tickets.find_ticket("helpdesk", "2"),
    )
    assert one is not None and one.status is Status.SOLVED
    assert two is not None and two.subject == "Remote ticket 2"  # an older copy is ignored
    assert two.id not in changed and one.id in changed and store.tickets.ticket_count() == 3


def test_a_thread_grown_mid_stream_is_indexed_once_the_stream_ends(store: Store) -> None:
    store.remote.apply_page("zendesk", Page(tickets=(remote_ticket(1), remote_ticket(2))))
    later = comment(1, 1, body="kernel panic on boot")
    store.remote.apply_page("zendesk", Page(comments=(later,), done=False))
    one = store.tickets.find_ticket("helpdesk", "1")
    assert one is not None and [c.body for c in store.tickets.comments(one.id)] == [later.body]
    assert store.queue.queue_count(parse_query("kernel")) == 0  # more comment pages follow
    # a ticket record changing mid-stream is indexed at once, its thread too
    store.remote.apply_page(
        "zendesk",
        Page(
            tickets=(remote_ticket(2, subject="Disk full", updated_at=T0 + timedelta(1)),),
            done=False,
        ),
    )
    assert store.queue.queue_count(parse_query("disk")) == 1
    store.close()  # the stale mark survives a restart (it is written with the page)
    reopened = open_store(store.path, sla=store.sla, clock=store.clock)
    reopened.remote.apply_page("zendesk", Page(comments=(comment(2, 1, body="boot loop"),)))
    assert reopened.queue.queue_count(parse_query("kernel")) == 1  # the settled page indexed both
    assert reopened.queue.queue_count(parse_query("boot")) == 2
    assert reopened.db.execute("SELECT count(*) FROM fts_stale").fetchone()[0] == 0
    reopened.close()


def test_a_pushed_tickets_answer_mid_stream_leaves_the_streams_stale_index_to_its_end(
    store: Store,
) -> None:
    """A push confirmed between two comment pages of a first sync writes its ticket's copy
    (indexed at once) but is not the end of the pull: re-indexing every ticket the stream
    left stale on each confirmation would repeat that work for every push."""
    store.remote.apply_page("zendesk", Page(tickets=(remote_ticket(1), remote_ticket(2))))
    store.remote.apply_page(
        "zendesk", Page(comments=(comment(1, 1, body="kernel panic on boot"),), done=False)
    )
    store.remote.apply_remote_ticket(
        "zendesk", remote_ticket(2, subject="Disk full", updated_at=T0 + timedelta(1))
    )
    store.remote.apply_records(
        "zendesk", [remote_ticket(3, subject="Printer jam", updated_at=T0 + timedelta(1))]
    )
    assert store.queue.queue_count(parse_query("disk")) == 1  # the answer's copy: at once
    assert store.queue.queue_count(parse_query("printer")) == 1  # a live search's: at once
    assert store.queue.queue_count(parse_query("kernel")) == 0  # the stream's: at its end
    assert store.db.execute("SELECT ticket_id FROM fts_stale").fetchall() == [(1,)]
    store.remote.apply_page("zendesk", Page(comments=(), done=True))
    assert store.queue.queue_count(parse_query("kernel")) == 1


def test_a_page_of_new_tickets_in_several_statements_lands_whole_and_in_order(
    store: Store,
) -> None:
    """New tickets go in by multi-row statements, as many rows as the variable limit lets
    each hold: with a low limit a page takes several, the last one short, and every ticket
    still lands once, numbered in page order, its labels and assignee indexed by triggers."""
    import sqlite3

    columns = len(store.db.execute("SELECT * FROM tickets LIMIT 0").description)
    store.db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, columns * 7)  # 7 rows each
    tickets = tuple(
        remote_ticket(
            n,
            labels=("needs-eng",) if n % 3 == 0 else (),
            assignee="sam" if n % 2 else None,
        )
        for n in range(1, 51)  # 7 statements of 7 rows and one of 1
    )
    changed = store.remote.apply_page("zendesk", Page(tickets=tickets))
    rows = store.db.execute("SELECT id, remote_id FROM tickets ORDER BY id").fetchall()
    assert [remote for _id, remote in rows] == [str(n) for n in range(1, 51)]
    assert changed == {tid for tid, _remote in rows}
    labelled = store.db.execute(
        "SELECT t.remote_id FROM ticket_labels l JOIN tickets t ON t.id = l.ticket_id "
        "WHERE l.label = 'needs-eng' ORDER BY t.id"
    ).fetchall()
    assert [r for (r,) in labelled] == [str(n) for n in range(3, 51, 3)]
    assert store.queue.queue_count(parse_query("assignee:sam")) == 25
