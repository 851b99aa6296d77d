"""Hostile `/` filter text: ``parse_query`` never raises, nor do the queue queries it drives.

What is typed goes to SQLite's FTS5 (whose own syntax has quotes, NEAR, ``*``, ``^``,
``col:`` and boolean words) and to field filters; a typo must give a hint, never an error.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from oncall_tui.domain.query import FIELDS, Query, parse_query
from oncall_tui.store import Store
from tests.reliability.conftest import HOSTILE, fuzz

TOKENS = [
    *[f"{name}:" for name in FIELDS],
    "p:",
    "prio:",
    "cust:",
    "l:",
    "src:",
    "-",
    "--",
    ":",
    ",",
    ",,",
    '"',
    "'",
    "(",
    ")",
    "*",
    "^",
    "NEAR(",
    "NEAR/2",
    "AND",
    "OR",
    "NOT",
    "+",
    "subject:",
    "body:",
    "comments:",
    "customer:",
    "{subject body}:",
    "rowid:",
    "P0",
    "P9",
    "me",
    "none",
    "open",
    "paused",
    "breached",
    "premium",
    "~investigate",
    "%",
    "_",
    "\\",
    "\x00",
    "\x1b",
    "\u202e",
    "é",
    "ǅ",
    "١٢",
    "🔥",
    "\t",
    "\n",
    "printer",
    "vesta",
    "a" * 300,
]
query_text = st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), max_size=12).map(
    lambda parts: "".join(parts)
) | st.lists(st.sampled_from(TOKENS) | st.sampled_from(HOSTILE), max_size=8).map(" ".join)


def run_everywhere(store: Store, query: Query) -> None:
    rows = store.queue.open_queue(query, limit=20)
    count = store.queue.queue_count(query)
    assert len(rows) <= count
    if rows:
        assert store.queue.queue_position(query, rows[0].id) is not None
    store.queue.open_queue(query, offset=10**9, limit=5)


@fuzz(300)
@given(query_text)
@example('"unterminated NEAR(a b) col:x ^start* -priority:')
@example("priority:P0,,P9 is:nonsense sla:maybe -status: :")
@example("\x00\x1b[31m \u202e 🔥 " + "x" * 10_000)
def test_any_filter_text_parses_and_queries(demo_store: Store, text: str) -> None:
    query = parse_query(text)
    assert isinstance(query, Query)
    assert all(isinstance(p, str) and p for p in query.problems)
    run_everywhere(demo_store, query)
    run_everywhere(demo_store, query & parse_query("is:open assignee:me"))


@fuzz(100)
@given(st.lists(query_text, min_size=2, max_size=4))
def test_combined_views_and_filters_query(demo_store: Store, texts: list[str]) -> None:
    query = Query()
    for text in texts:
        query = query & parse_query(text)
    run_everywhere(demo_store, query)
