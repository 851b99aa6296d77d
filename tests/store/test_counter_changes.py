"""The views' counter keeps what it counted with ``data_version``: with no write since, a
count is not run again, and a time-based one (``sla:``) later is the kept total plus what
the tickets that crossed an SLA boundary changed. Always the same answer as a fresh count."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.demo.seed import make_demo_data, seed_store
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.query import parse_query
from oncall_tui.store import Store, open_store
from oncall_tui.store.queue import WARN_HORIZON

ME = "alex@support.example"
TIMED = [
    "sla:breached",
    "sla:critical",
    "sla:warning",
    "sla:ok",
    "is:open sla:warning,critical",
    "-sla:critical -priority:P3",
    "sla:critical,breached assignee:none",
]


@pytest.fixture
def seeded(tmp_path: Path, clock: FrozenClock) -> Store:
    store = open_store(tmp_path / "x.db", clock=clock)
    seed_store(store, make_demo_data(clock(), seed=1))
    yield store
    store.close()


def statements(counter: object) -> list[str]:
    seen: list[str] = []
    counter._connection().set_trace_callback(seen.append)  # type: ignore[attr-defined]
    return seen


@pytest.mark.parametrize("steps", [[1] * 360, [1, 7, 59, 1, 61, 120, 3, 1, 1, 300, 1]])
def test_counts_as_the_clock_moves_are_those_of_a_fresh_count(
    seeded: Store, clock: FrozenClock, steps: list[int]
) -> None:
    counter = seeded.queue.queue_counter()
    assert counter is not None
    queries = [parse_query(text) for text in TIMED]
    series: dict[str, set[int]] = {text: set() for text in TIMED}
    for minutes in [0, *steps]:
        clock.advance(timedelta(minutes=minutes))
        now = clock()
        for text, query in zip(TIMED, queries, strict=True):
            got = counter.count(query, me=ME, now=now)
            assert got == seeded.queue.queue_count(query, me=ME, now=now), (text, now)
            series[text].add(got)
    counter.close()
    # the boundaries were crossed: breached, critical, warning, each one way or the other
    assert all(len(series[text]) > 1 for text in TIMED[:3]), series


def test_no_write_no_count_a_write_counted_and_the_warning_times_listed_once_an_hour(
    seeded: Store, clock: FrozenClock, tmp_path: Path
) -> None:
    counter = seeded.queue.queue_counter()
    assert counter is not None
    seen = statements(counter)
    plain, timed = parse_query("is:open assignee:none"), parse_query("is:open sla:warning")
    first = counter.count(plain, me=ME), counter.count(timed, me=ME)
    counts = [s for s in seen if s.startswith("SELECT count(*)")]
    assert len(counts) == 2
    seen.clear()
    assert (counter.count(plain, me=ME), counter.count(timed, me=ME)) == first
    assert not [s for s in seen if s.startswith("SELECT count(*)")]  # no write: kept totals

    seen.clear()
    for _ in range(int(WARN_HORIZON / timedelta(minutes=1)) * 2):  # two hours, by minutes
        clock.advance(timedelta(minutes=1))
        assert counter.count(timed, me=ME) == seeded.queue.queue_count(timed, me=ME)
    listed = [s for s in seen if s.startswith("SELECT sla_warn_at")]
    assert 1 <= len(listed) <= 3  # the warning times to come: listed once an hour, not a minute
    assert not [s for s in seen if s.startswith("SELECT count(*)") and "t.id IN (" not in s]

    other = open_store(seeded.path, clock=clock, migrate=False)  # another writer
    ticket = other.queue.open_queue(plain, limit=1, me=ME)[0]
    other.tickets.assign(ticket.id, ME)
    other.close()
    seen.clear()
    assert counter.count(plain, me=ME) == first[0] - 1  # the write is seen: counted again
    assert [s for s in seen if s.startswith("SELECT count(*)")]
    counter.close()


def test_a_counter_keeps_a_bounded_number_of_counts(seeded: Store) -> None:
    """A filter typed is a query per keystroke: the oldest kept counts are let go."""
    from oncall_tui.store.queue import MAX_KEPT

    counter = seeded.queue.queue_counter()
    assert counter is not None
    for n in range(MAX_KEPT * 3):
        counter.count(parse_query(f"is:open -word{n}"), me=ME)
    kept = counter._counted
    assert len(kept) == MAX_KEPT
    assert (parse_query(f"is:open -word{MAX_KEPT * 3 - 1}"), ME) in kept  # the latest stay
    counter.close()
