"""Counting the queue off the UI thread, and the full-text join's plans giving one answer."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Priority, Source, Status, Ticket
from oncall_tui.store import Store, open_store
from oncall_tui.store.queue import ORDER

ME = "alex@support.example"


def in_order(store: Store, text: str) -> list[int]:
    """Every id matching ``text`` in queue order, through the count's (non-window) plan."""
    query = parse_query(text)
    where, params = store.queue._where(query, store.clock(), ME)
    return [
        r[0]
        for r in store.db.execute(f"SELECT t.id FROM tickets t{where} ORDER BY {ORDER}", params)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a",  # one letter: the window probes the full-text index row by row
        "a e",
        "is:open s",
        "is:open qu",  # two letters: the window tests rows against the set of matches
        "is:open assignee:me re",
        "scheduled",  # a whole word
        "-priority:P3 sch",
        "label:~investigate a",  # a label term: driven from the matches
        "label:~investigate sc",
        "customer:vesta a",
        "-customer:vesta a",
        "plan:free,premium re",
        "-plan:free i",
    ],
)
def test_window_and_count_plans_agree(demo_store: Store, text: str) -> None:
    query = parse_query(text)
    expected = in_order(demo_store, text)
    window = [
        r.id for r in demo_store.queue.open_queue(query, limit=1000, me=ME)
    ]  # the window plan
    assert window == expected
    assert demo_store.queue.queue_count(query, me=ME) == len(expected)
    assert [r.id for r in demo_store.queue.open_queue(query, offset=5, limit=7, me=ME)] == expected[
        5:12
    ]


def test_customer_terms_skip_tickets_without_a_customer_either_way(
    store: Store, clock: FrozenClock
) -> None:
    """As with the join they replace: neither ``customer:x`` nor ``-customer:x`` (nor plan)
    matches a ticket that has no customer."""
    (orphan,) = store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.HELPDESK,
                subject="Nobody's printer",
                opened_at=clock() - timedelta(minutes=5),
                updated_at=clock(),
                status=Status.OPEN,
                priority=Priority.P2,
            )
        ]
    )
    for text in ("customer:vesta", "-customer:vesta", "plan:free", "-plan:free"):
        for words in ("", " printer", " p"):
            query = parse_query(text + words)
            assert orphan not in [r.id for r in store.queue.open_queue(query)], text + words
            assert store.queue.queue_count(query) == 0, text + words
    assert [r.id for r in store.queue.open_queue(parse_query("printer"))] == [orphan]


def test_counter_counts_from_another_thread(demo_store: Store) -> None:
    counter = demo_store.queue.queue_counter()
    assert counter is not None
    results: dict[str, int | None] = {}
    texts = ("a", "is:open s", "customer:vesta", "label:~investigate", "-plan:free re")

    def run() -> None:
        for text in texts:
            results[text] = counter.count(parse_query(text), me=ME)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    try:
        for text in texts:
            assert results[text] == demo_store.queue.queue_count(parse_query(text), me=ME), text
    finally:
        counter.close()


def test_counter_sees_what_the_ui_connection_committed(demo_store: Store) -> None:
    counter = demo_store.queue.queue_counter()
    assert counter is not None
    try:
        before = counter.count(parse_query("is:open"))
        (row,) = demo_store.queue.open_queue(parse_query("is:open"), limit=1)
        demo_store.tickets.set_status(row.id, Status.SOLVED)
        assert counter.count(parse_query("is:open")) == before - 1  # type: ignore[operator]
    finally:
        counter.close()


def test_counter_gives_up_when_no_longer_wanted_or_closed(demo_store: Store) -> None:
    counter = demo_store.queue.queue_counter()
    assert counter is not None
    assert counter.count(parse_query("a"), wanted=lambda: False) is None
    counter.close()
    assert counter.count(parse_query("a")) is None


def test_interrupt_stops_a_running_count(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = demo_store.queue.queue_counter()
    assert counter is not None
    slow = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "SELECT count(*) FROM n"
    )  # minutes
    monkeypatch.setattr(
        type(demo_store.queue), "_count_sql", lambda self, q, me, now: (slow, [10**10])
    )
    outcome: list[int | None] = []
    worker = threading.Thread(target=lambda: outcome.append(counter.count(parse_query("a"))))
    worker.start()
    try:
        for _ in range(100):  # until the statement runs and is stopped
            counter.interrupt()
            worker.join(0.05)
            if not worker.is_alive():
                break
        worker.join(5)
        assert not worker.is_alive()
        assert outcome == [None]
        monkeypatch.undo()
        assert counter.count(parse_query("is:open")) == demo_store.queue.queue_count(
            parse_query("is:open")
        )  # an interrupt does not stick to the next count
    finally:
        counter.close()


def test_no_counter_for_an_in_memory_store(clock: FrozenClock) -> None:
    store = open_store(":memory:", clock=clock)
    try:
        assert store.queue.queue_counter() is None
    finally:
        store.close()


def test_counter_opens_a_path_with_odd_characters(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "a dir #1?" / "cache 100%.db"
    path.parent.mkdir()
    store = open_store(path, clock=clock)
    counter = store.queue.queue_counter()
    assert counter is not None
    try:
        assert counter.count(parse_query("")) == 0
    finally:
        counter.close()
        store.close()
