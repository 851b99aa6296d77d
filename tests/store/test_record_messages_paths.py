"""A thread's messages take the stored-text path unless a customer's message may end a wait.

``Records._record_messages`` writes most tickets' new SLA history and clock columns from the
stored row, without reading a :class:`Ticket` (a first sync adds a thread to every ticket);
a ticket whose waiting a customer's message may end is read whole and merged. Both paths
must leave the same database: this test applies the same random pages twice, once as the
store does and once with every ticket read whole (the reference), and compares every ticket
row, the outbox and the full-text index.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.remote import Page, RemoteComment, RemoteCustomer
from oncall_tui.domain.tickets import Priority, Source, Status
from oncall_tui.store import open_store
from oncall_tui.store import records as records_module
from tests.conftest import FROZEN_NOW
from tests.fakes import T0, remote_ticket

ROLES = ("staff", "customer", "automation", "")
ORG = RemoteCustomer("org1", "Globex Health", "premium", ("globexhealth.io",))

tickets_st = st.lists(
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(list(Status)),
            "priority": st.sampled_from(list(Priority)),
            "labels": st.lists(
                st.sampled_from(["+customer", "+vendor", "bug", "vip"]), unique=True
            ),
            "updated": st.sampled_from(range(0, 130, 10)),
        }
    ),
    min_size=1,
    max_size=6,
)
comments_st = st.lists(
    st.fixed_dictionaries(
        {
            "ticket": st.integers(0, 5),
            "minutes": st.sampled_from(range(-30, 130, 10)),
            "role": st.sampled_from(ROLES),
            "public": st.booleans(),
            "requester": st.booleans(),
            "page": st.integers(0, 2),
        }
    ),
    max_size=14,
)


def _pages(tickets: list[dict[str, Any]], comments: list[dict[str, Any]]) -> list[Page]:
    remote = tuple(
        remote_ticket(
            n,
            status=t["status"],
            priority=t["priority"],
            labels=tuple(t["labels"]),
            updated_at=T0 + timedelta(minutes=t["updated"]),
        )
        for n, t in enumerate(tickets)
    )
    pages = [Page(tickets=remote, customers=(ORG,), cursor="t")]
    for page in range(3):
        thread = tuple(
            RemoteComment(
                source=Source.HELPDESK,
                ticket_remote_id=str(c["ticket"] % len(tickets)),
                remote_id=f"c{i}",
                author="Rita Jones" if c["requester"] else "Alice Agent",
                body=f"message {i}",
                public=c["public"],
                created_at=T0 + timedelta(minutes=c["minutes"]),
                author_handle="rita@globexhealth.io" if c["requester"] else "alice@example",
                author_role=c["role"],
            )
            for i, c in enumerate(comments)
            if c["page"] == page
        )
        pages.append(Page(comments=thread, cursor=f"e{page}", done=page == 2))
    return pages


def _state(path: Path, pages: list[Page]) -> dict[str, Any]:
    store = open_store(path, clock=FrozenClock(FROZEN_NOW + timedelta(hours=3)))
    try:
        for page in pages:
            store.remote.apply_page("zendesk", page)
        db = store.db
        return {
            "tickets": db.execute("SELECT * FROM tickets ORDER BY id").fetchall(),
            "outbox": db.execute(
                "SELECT kind, payload, idempotency_key FROM outbox ORDER BY id"
            ).fetchall(),
            "fts": db.execute("SELECT rowid, * FROM ticket_fts ORDER BY rowid").fetchall(),
        }
    finally:
        store.close()


def _one(status: Status, labels: list[str]) -> list[dict[str, Any]]:
    return [{"status": status, "priority": Priority.P2, "labels": labels, "updated": 30}]


#: The customer's reply at the very instant the wait began (it ends the wait: both paths).
_AT_ONCE = [{"ticket": 0, "minutes": 30, "role": "", "public": True, "requester": True, "page": 0}]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tickets=tickets_st, comments=comments_st)
@example(tickets=_one(Status.PENDING, []), comments=_AT_ONCE)
@example(tickets=_one(Status.SOLVED, []), comments=_AT_ONCE)
@example(tickets=_one(Status.OPEN, ["+customer", "bug"]), comments=_AT_ONCE)
@example(tickets=_one(Status.HOLD, ["+vendor"]), comments=_AT_ONCE)
def test_the_stored_text_path_writes_what_reading_each_ticket_whole_writes(
    tickets: list[dict[str, Any]], comments: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = _pages(tickets, comments)
    with tempfile.TemporaryDirectory() as tmp:
        fast = _state(Path(tmp) / "fast.db", pages)
        with monkeypatch.context() as m:
            m.setattr(records_module, "_read_whole", lambda spoke, row: True)
            whole = _state(Path(tmp) / "whole.db", pages)
    assert fast == whole


def test_a_staff_answer_and_a_customer_reply_on_an_open_ticket_take_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An example of the above that the property test also covers: an open ticket with an
    answer, then the customer again (its clock restarts), is not read whole."""
    read: list[Any] = []
    original = records_module._read_whole

    def spy(spoke: Any, row: Any) -> bool:
        read.append(original(spoke, row))
        return read[-1]

    monkeypatch.setattr(records_module, "_read_whole", spy)
    thread = [
        {
            "ticket": 0,
            "minutes": 10,
            "role": "staff",
            "public": True,
            "requester": False,
            "page": 0,
        },
        {"ticket": 0, "minutes": 20, "role": "", "public": True, "requester": True, "page": 1},
    ]
    one = [{"status": Status.OPEN, "priority": Priority.P1, "labels": [], "updated": 0}]
    state = _state(tmp_path / "a.db", _pages(one, thread))
    assert read == [False, False]
    row = dict(zip(_columns(tmp_path / "a.db"), state["tickets"][0], strict=True))
    assert row["first_response_at"] == "2026-11-23T17:10:00Z"
    assert row["sla_bucket"] == 0 and row["sla_due"] is not None  # the customer spoke last


def _columns(path: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return [r[1] for r in conn.execute("PRAGMA table_info(tickets)")]
    finally:
        conn.close()
