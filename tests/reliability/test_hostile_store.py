"""Hostile records reach the store intact but inert.

What a backend sends goes through ``Store.remote.apply_page``: NUL and escape characters, RTL
marks, lone surrogates (``"\\ud800"`` is valid JSON text), megabyte subjects. The page must be
written (a page that cannot be written is fetched again forever), and no stored text may
keep a character a terminal would act on: the design neutralises them at this boundary.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Channel, Priority, Source, Status
from oncall_tui.store import Store, open_store
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
    for row in store.queue.open_queue(parse_query(""), limit=500):
        t = store.tickets.get_ticket(row.id)
        store.tickets.comments(t.id)
        store.tickets.get_customer(t.customer_id)
    store.tickets.customers()


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
@example(  # a lone "+" label (a pausing label's prefix) once broke "the same page changes nothing"
    subject="",
    body="",
    requester=None,
    assignee=None,
    url=None,
    labels=["+"],
    remote_id="0",
    author="",
    name="",
    plan="",
    codename=None,
    contacts=[],
)
@example(  # after the "+" example: a shared store once leaked its outbox into this one
    subject="",
    body="",
    requester=None,
    assignee=None,
    url=None,
    labels=["+0"],
    remote_id="0",
    author="",
    name="",
    plan="",
    codename=None,
    contacts=[],
)
def test_any_remote_text_is_stored_inert(
    tmp_path_factory: pytest.TempPathFactory,
    clock: FrozenClock,
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
    # a fresh database for each example: what one example queued (the removal of a waiting
    # "+" label after the customer's comment) must not become the base of the next one's edit
    store = open_store(tmp_path_factory.mktemp("hostile") / "test.db", clock=clock)
    try:
        changed = store.remote.apply_page("zendesk", page)
        assert len(changed) == 1
        assert_inert(store)
        read_everything(store)
        # the same page again changes nothing and writes no duplicate comment
        assert store.remote.apply_page("zendesk", page) == set()
        assert store.db.execute("SELECT count(*) FROM comments").fetchone()[0] == 1
    finally:
        store.close()


def test_megabyte_subjects_and_bodies_are_stored_and_searchable(store: Store) -> None:
    big = ("lorem ipsum " * 90_000)[:1_000_000]
    page = Page(
        tickets=tuple(
            ticket(str(n), subject=f"zebra{n} " + big, body=big + f" giraffe{n}") for n in range(3)
        ),
        comments=(comment("0", body="word " * 200_000),),
        cursor="c",
    )
    assert len(store.remote.apply_page("zendesk", page)) == 3
    rows = store.queue.open_queue(parse_query("zebra1"), limit=5)
    assert [len(r.subject) for r in rows] == [len("zebra1 ") + len(big)]
    assert store.queue.queue_count(parse_query("giraffe2")) == 1
    assert len(store.tickets.comments(rows[0].id)) == 0
    read_everything(store)


def test_a_huge_page_is_one_transaction(store: Store) -> None:
    tickets = tuple(ticket(str(n), subject=HOSTILE[n % len(HOSTILE)]) for n in range(3000))
    comments = tuple(comment(str(n), remote_id=f"c{n}") for n in range(3000))
    assert len(store.remote.apply_page("zendesk", Page(tickets, comments, cursor="big"))) == 3000
    assert store.sync_state.cursor("zendesk") == "big"
    assert store.tickets.ticket_count() == 3000


def test_a_failing_page_writes_nothing_not_even_its_cursor(store: Store) -> None:
    store.remote.apply_page("zendesk", Page((ticket("1"),), cursor="before"))
    broken = replace(ticket("2"), opened_at=datetime(2026, 1, 1))  # naive: the store refuses it
    with pytest.raises(ValueError):
        store.remote.apply_page("zendesk", Page((ticket("3"), broken), cursor="after"))
    assert store.sync_state.cursor("zendesk") == "before"
    assert store.tickets.find_ticket("helpdesk", "3") is None


# -- files that are not ours, schemas with pieces missing, rows that cannot be read back ---------


def files_of(folder: Any) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def foreign_notes_app(path: Any) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('not yours')")
    conn.commit()
    conn.close()


def foreign_with_our_table_names(path: Any) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, title TEXT)")  # clashes
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()


def foreign_application_id(path: Any) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1179402567")  # an app's own id ("FOSL")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


def foreign_in_wal_mode(path: Any) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.commit()
    conn.close()


FOREIGN = {
    "another app's tables": foreign_notes_app,
    "tables named like ours": foreign_with_our_table_names,
    "another application id": foreign_application_id,
    "a foreign file in WAL mode": foreign_in_wal_mode,
}


@pytest.mark.parametrize("name", list(FOREIGN))
def test_another_applications_database_is_refused_and_not_written(tmp_path: Any, name: str) -> None:
    """It used to be migrated into ours (our tables added, WAL turned on); one whose table
    names clashed was half-migrated while the message said "left untouched"."""
    from oncall_tui.store import open_store
    from oncall_tui.store.db import ForeignDatabaseError

    path = tmp_path / "other.db"
    FOREIGN[name](path)
    before = files_of(tmp_path)
    for migrate in (True, False):
        with pytest.raises(ForeignDatabaseError) as caught:
            open_store(path, migrate=migrate)
        message = str(caught.value)
        assert "not an oncall-tui database" in message and "left untouched" in message
        assert "\n" not in message
    assert files_of(tmp_path) == before, "the foreign file (or its WAL) was changed"


def drop_table(store: Store, table: str) -> None:
    store.db.conn.execute(f"DROP TABLE {table}")
    store.db.conn.commit()


def drop_column(store: Store, table: str, column: str) -> None:
    # SQLite keeps a column an index uses: the indexes on it go first (as a damaged or
    # hand-edited file could have lost them too).
    for (index,) in store.db.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql LIKE ?",
        [table, f"%{column}%"],
    ).fetchall():
        store.db.conn.execute(f"DROP INDEX {index}")
    store.db.conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    store.db.conn.commit()


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda s: drop_table(s, "comments"), "table comments is missing"),
        (lambda s: drop_table(s, "sync_log"), "table sync_log is missing"),
        (lambda s: drop_table(s, "runbook_progress"), "table runbook_progress is missing"),
        (lambda s: drop_column(s, "tickets", "requester"), "column tickets.requester is missing"),
        (lambda s: drop_column(s, "drafts", "title"), "column drafts.title is missing"),
    ],
)
def test_a_dropped_table_or_column_is_named_at_open(tmp_path: Any, damage: Any, named: str) -> None:
    from oncall_tui.store import CorruptDatabaseError, open_store

    path = tmp_path / "x.db"
    store = open_store(path)
    store.tickets.insert_tickets([local_ticket()])
    store.tickets.add_comment(1, "queued note", public=False, author="alex")  # one unsent change
    damage(store)
    store.close()
    before = files_of(tmp_path)
    with pytest.raises(CorruptDatabaseError) as caught:
        open_store(path)
    message = str(caught.value)
    assert named in message and "left untouched" in message, message
    assert "1 change not yet sent" in message, message
    assert files_of(tmp_path) == before


def local_ticket(**kw: Any) -> Any:
    from oncall_tui.domain.tickets import Ticket

    fields: dict[str, Any] = dict(
        id=0,
        source=Source.HELPDESK,
        remote_id="9",
        subject="Printer",
        opened_at=T0,
        updated_at=T0,
    )
    fields.update(kw)
    return Ticket(**fields)


DAMAGED_ROWS = {
    "labels: bad JSON": ("tickets", "labels", "[not json"),
    "labels: JSON but not a list": ("tickets", "labels", '{"a": 1}'),
    "pauses: bad JSON": ("tickets", "pauses", "[[1,"),
    "label_since: bad JSON": ("tickets", "label_since", "{"),
    "updated_at: not a date": ("tickets", "updated_at", "yesterday"),
    "opened_at: not a date": ("tickets", "opened_at", "2026-13-45T99:00:00Z"),
    "sla_due: not a date": ("tickets", "sla_due", "soon"),
    "status: unknown": ("tickets", "status", "exploded"),
    "priority: unknown": ("tickets", "priority", "P9"),
    "source: unknown": ("tickets", "source", "fax"),
    "channel: unknown": ("tickets", "channel", "pigeon"),
}


@pytest.mark.parametrize("case", list(DAMAGED_ROWS))
def test_a_damaged_ticket_row_is_left_out_and_noted(store: Store, case: str) -> None:
    """A row with bad JSON, a bad date or an unknown enum value crashed the queue; now the
    queue shows the others and the sync log names the table and the row."""
    from oncall_tui.store.db import DamagedRowError

    table, column, value = DAMAGED_ROWS[case]
    ids = store.tickets.insert_tickets([local_ticket(remote_id=str(n)) for n in range(3)])
    store.db.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", [value, ids[1]])
    rows = store.queue.open_queue(parse_query(""))
    assert [r.id for r in rows] == [ids[0], ids[2]]
    for query in ("label:bug", "-label:bug", "printer", "is:open", "sla:breached"):
        store.queue.open_queue(parse_query(query))  # one bad row must not fail the whole query
        store.queue.queue_count(parse_query(query))
    for row in rows:
        store.tickets.get_ticket(row.id)  # what the queue shows can be opened
    with pytest.raises(DamagedRowError, match=f"tickets row {ids[1]} is damaged"):
        store.tickets.get_ticket(ids[1])
    notes = [m for _, backend, level, m in store.sync_state.log_entries() if backend == "store"]
    assert len(notes) == 1 and f"tickets row {ids[1]} is damaged" in notes[0], notes
    store.queue.open_queue(parse_query(""))
    assert len([m for _, b, _, m in store.sync_state.log_entries() if b == "store"]) == 1, (
        "noted twice"
    )
    assert store.damage_notes and "tickets" in store.damage_notes[0]


def test_damaged_comments_customers_drafts_and_log_rows_are_left_out(store: Store) -> None:
    [tid] = store.tickets.insert_tickets([local_ticket()])
    store.tickets.add_comment(tid, "fine", public=False, author="alex")
    store.tickets.add_comment(tid, "broken", public=False, author="alex")
    store.db.execute("UPDATE comments SET created_at = 'later' WHERE body = 'broken'")
    assert [c.body for c in store.tickets.comments(tid)] == ["fine"]
    good = store.drafts.create_draft("bug_report", None, {"title": "good"})
    bad = store.drafts.create_draft("bug_report", None, {"title": "bad"})
    store.db.execute("UPDATE drafts SET fields = '{oops' WHERE id = ?", [bad])
    assert [d.id for d in store.drafts.all()] == [good]
    store.db.execute(
        "INSERT INTO customers (name, plan, domains, contacts) VALUES ('Ok', 'free', '[]', '[]')"
    )
    store.db.execute(
        "INSERT INTO customers (name, plan, domains, contacts) VALUES ('Bad', 'free', 'x', '[]')"
    )
    assert [c.name for c in store.tickets.customers()] == ["Ok"]
    store.db.execute(
        "INSERT INTO sync_log (at, backend, level, message) VALUES ('whenever', 'x', 'info', 'm')"
    )
    entries = store.sync_state.log_entries()
    assert all(backend != "x" for _, backend, _, _ in entries)
    tables = {note.split(" row ")[0] for note in store.damage_notes if " row " in note}
    assert tables >= {"comments", "drafts", "customers", "sync_log"}, store.damage_notes


@pytest.mark.anyio
async def test_the_app_stays_usable_with_a_damaged_row(
    make_app: Any, demo_store: Store, anyio_backend: str
) -> None:
    from oncall_tui.ui.widgets.ticket_table import TicketTable

    first = demo_store.queue.open_queue(parse_query(""), limit=1)[0].id
    demo_store.db.execute("UPDATE tickets SET status = 'exploded' WHERE id = ?", [first])
    app = make_app(store=demo_store)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        await pilot.pause(0.2)
        table = app.screen.query_one(TicketTable)
        assert table.total > 0
        shown = " ".join(str(n.message) for n in app._notifications)
        assert f"tickets row {first} is damaged" in shown, shown
        await pilot.press("j", "k", "enter")  # moving and opening still work
        await pilot.pause()
        await pilot.press("escape", "L")
        await pilot.pause()
        assert type(app.screen).__name__ == "SyncLogScreen"
    assert app.return_code in (None, 0)
