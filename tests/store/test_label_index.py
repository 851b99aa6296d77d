"""``label:`` filters read the labels' own index (migration 0021), kept by triggers: whichever
way a ticket's labels change — a pull, a local edit, an undo, a REPLACE, a deletion, a damaged
row — the filter must find exactly the tickets whose labels say so."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

from oncall_tui.domain.query import parse_query
from oncall_tui.domain.remote import Page
from oncall_tui.store import Store
from tests.fakes import T0, remote_ticket


def by_label(store: Store, label: str) -> set[int]:
    return {r.id for r in store.queue.open_queue(parse_query(f"label:{label}"), limit=10_000)}


def truth(store: Store, label: str) -> set[int]:
    """Every ticket whose labels column holds ``label`` (any case), read by hand."""
    out = set()
    for tid, raw in store.db.execute("SELECT id, labels FROM tickets").fetchall():
        try:
            labels = json.loads(raw)
        except (TypeError, ValueError):
            continue
        if isinstance(labels, list) and label.lower() in {str(x).lower() for x in labels}:
            out.add(tid)
    return out


def check(store: Store, *labels: str) -> None:
    for label in labels:
        assert by_label(store, label) == truth(store, label), label
        assert store.queue.queue_count(parse_query(f"label:{label}")) == len(truth(store, label))


def test_pulled_labels_edited_locally_and_pulled_again(store: Store) -> None:
    page = Page(
        tickets=tuple(
            remote_ticket(n, labels=("~investigate", ":bug") if n % 3 == 0 else (":bug",))
            for n in range(1, 31)
        )
    )
    store.remote.apply_page("zendesk", page)
    check(store, "~investigate", ":bug", "~INVESTIGATE")
    assert len(by_label(store, "~investigate")) == 10

    one = store.tickets.find_ticket("helpdesk", "1")
    assert one is not None
    store.tickets.add_labels(one.id, ["~investigate", "+waiting"])
    three = store.tickets.find_ticket("helpdesk", "3")
    assert three is not None
    store.tickets.remove_labels(three.id, ["~investigate"])
    check(store, "~investigate", "+waiting", ":bug")
    assert one.id in by_label(store, "~investigate") and three.id not in by_label(
        store, "~investigate"
    )

    # The help desk drops a label (a newer copy of ticket 6): the filter follows.
    later = T0 + timedelta(hours=1)
    store.remote.apply_page(
        "zendesk", Page(tickets=(remote_ticket(6, labels=(":bug",), updated_at=later),))
    )
    six = store.tickets.find_ticket("helpdesk", "6")
    assert six is not None and six.id not in by_label(store, "~investigate")
    check(store, "~investigate", ":bug")


def test_replace_delete_and_damaged_rows(store: Store) -> None:
    store.remote.apply_page(
        "zendesk",
        Page(tickets=tuple(remote_ticket(n, labels=("~investigate",)) for n in range(1, 6))),
    )
    ids = sorted(by_label(store, "~investigate"))
    # A REPLACE deletes the old row without firing delete triggers: its labels must not stay.
    row = store.db.execute("SELECT * FROM tickets WHERE id = ?", [ids[0]]).fetchone()
    columns = [d[1] for d in store.db.execute("PRAGMA table_info(tickets)").fetchall()]
    values = dict(zip(columns, row, strict=True))
    values["labels"] = json.dumps([":other"])
    marks = ",".join("?" * len(columns))
    raw = sqlite3.connect(store.path)  # another tool's connection: recursive triggers off
    assert raw.execute("PRAGMA recursive_triggers").fetchone()[0] == 0
    raw.execute(
        f"INSERT OR REPLACE INTO tickets ({','.join(columns)}) VALUES ({marks})",
        [values[c] for c in columns],
    )
    raw.commit()
    raw.close()
    store.db.execute("DELETE FROM tickets WHERE id = ?", [ids[1]])
    store.db.execute("UPDATE tickets SET labels = 'not json' WHERE id = ?", [ids[2]])
    store.db.execute("UPDATE tickets SET labels = '{\"a\": 1}' WHERE id = ?", [ids[3]])
    assert by_label(store, "~investigate") == {ids[4]}
    assert by_label(store, ":other") == {ids[0]}
    check(store, "~investigate", ":other")
    assert store.db.execute(
        "SELECT count(*) FROM ticket_labels WHERE ticket_id NOT IN (SELECT id FROM tickets)"
    ).fetchone()[0] == 0


def test_negated_and_several_labels(store: Store) -> None:
    store.remote.apply_page(
        "zendesk",
        Page(
            tickets=(
                remote_ticket(1, labels=("a",)),
                remote_ticket(2, labels=("b",)),
                remote_ticket(3, labels=("a", "b")),
                remote_ticket(4, labels=()),
            )
        ),
    )
    ids = {n: store.tickets.find_ticket("helpdesk", str(n)).id for n in range(1, 5)}  # type: ignore[union-attr]

    def q(text: str) -> set[int]:
        return {r.id for r in store.queue.open_queue(parse_query(text), limit=100)}

    assert q("label:a,b") == {ids[1], ids[2], ids[3]}
    assert q("-label:a") == {ids[2], ids[4]}
    assert q("label:a label:b") == {ids[3]}
