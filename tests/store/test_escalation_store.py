"""The escalation state in the store: two instances on one database claim a timer once, the
acknowledgement is once a day, link-back drafts keep what was typed, migration 0017."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from oncall_tui.domain.tickets import Source, Ticket
from oncall_tui.store import open_store
from oncall_tui.store.db import iso


def ticket(store: Any, clock: Any, source: Source = Source.HELPDESK, rid: str = "1") -> int:
    now = clock()
    (tid,) = store.tickets.insert_tickets(
        [Ticket(id=0, source=source, subject="s", opened_at=now, updated_at=now, remote_id=rid)]
    )
    return int(tid)


def test_two_instances_claim_a_timer_once(store: Any, clock: Any) -> None:
    tid = ticket(store, clock)
    timer_id = store.escalation.start_timebox(tid, clock() + timedelta(minutes=1))
    other = open_store(store.path, clock=clock)
    try:
        assert store.escalation.stop_timer(timer_id, "nudged") is True
        assert other.escalation.stop_timer(timer_id, "nudged") is False
        due = clock()
        outage = other.db.execute(
            "INSERT INTO escalation_timers (kind, title, started_at, due_at, interval_seconds) "
            "VALUES ('outage', 'Suspected outage: x', ?, ?, 3600)",
            [iso(due), iso(due)],
        ).lastrowid
        (timer,) = store.escalation.timers("outage")
        later = due + timedelta(hours=1)
        assert store.escalation.reschedule_timer(outage, later, expected=timer.due_at) is True
        assert other.escalation.reschedule_timer(outage, later, expected=timer.due_at) is False
    finally:
        other.close()


def test_one_timebox_per_ticket_restart_replaces(store: Any, clock: Any) -> None:
    tid = ticket(store, clock)
    store.escalation.start_timebox(tid, clock() + timedelta(minutes=5))
    store.escalation.start_timebox(tid, clock() + timedelta(minutes=60))
    (timer,) = store.escalation.timers("timebox")
    assert timer.due_at == clock() + timedelta(minutes=60)


def test_acknowledge_once_a_day_in_one_transaction(store: Any, clock: Any) -> None:
    tid = ticket(store, clock, Source.TRACKER, "acme/product#1")
    day = date(2026, 11, 23)
    assert store.escalation.acknowledge(tid, day, "ack", author="alex")
    assert not store.escalation.acknowledge(tid, day, "ack", author="alex")
    assert store.escalation.acknowledge(tid, day + timedelta(days=1), "ack", author="alex")
    assert len(store.outbox.ops(ticket_id=tid)) == 2
    assert store.escalation.standup_acks([tid]) == {tid: day + timedelta(days=1)}
    row = store.db.execute("SELECT count(*) FROM standup_acks WHERE outbox_id IS NULL").fetchone()
    assert row[0] == 0


def test_link_back_draft_keeps_what_was_typed(store: Any, clock: Any) -> None:
    tid = ticket(store, clock)
    first = store.drafts.create_draft("reply", tid, {"body": "Hi Rita, I am on it.", "title": "Hi"})
    assert store.escalation.queue_reply_draft(tid, "We are tracking this in URL.") == first
    assert store.escalation.queue_reply_draft(tid, "We are tracking this in URL.") == first
    draft = store.drafts.get_draft(first)
    assert draft.fields["body"] == "Hi Rita, I am on it.\n\nWe are tracking this in URL."


def test_link_notices_join_the_issue_by_url(store: Any, clock: Any) -> None:
    desk = ticket(store, clock)
    url = "https://github.com/acme/product/issues/4"
    store.tickets.link(desk, url, "title")  # filed: the issue is not synced yet
    (notice,) = store.escalation.link_notices()
    assert (notice.ticket_id, notice.url, notice.issue, notice.told) == (desk, url, None, None)
    now = clock()
    store.tickets.insert_tickets(
        [
            Ticket(
                id=0,
                source=Source.TRACKER,
                subject="t",
                opened_at=now,
                updated_at=now,
                remote_id="acme/product#4",
                url=url,
            )
        ]
    )
    store.escalation.set_link_notice(desk, url, "linked")
    (notice,) = store.escalation.link_notices()
    assert notice.issue is not None and notice.issue.remote_id == "acme/product#4"
    assert notice.told == "linked"


def test_migration_marks_existing_links_as_told(tmp_path: Any) -> None:
    """A database from before 0017 upgrades in place; its links get no link-back draft on
    the first start (they are marked told), later state changes are still offered."""
    from sqlite_utils import Database

    from oncall_tui.store.db import APPLICATION_ID
    from oncall_tui.store.migrations import migrations

    path = tmp_path / "v8.db"
    db = Database(path)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrations.apply(db, stop_before="0017_escalation")
    db.execute("PRAGMA user_version = 8")
    db.execute(
        "INSERT INTO tickets (id, source, remote_id, subject, status, priority, labels, "
        "opened_at, updated_at) VALUES (1, 'helpdesk', '7', 'x', 'open', 'P2', '[]', "
        "'2026-11-20T18:00:00Z', '2026-11-20T19:00:00Z')"
    )
    db.execute(
        "INSERT INTO ticket_links (ticket_id, url, title, created_at) VALUES "
        "(1, 'https://github.com/a/b/issues/1', 't', '2026-11-20T19:00:00Z')"
    )
    db.close()
    store = open_store(path)
    try:
        (notice,) = store.escalation.link_notices()
        assert notice.told == "linked"
    finally:
        store.close()


def test_channel_post_is_one_entry_and_the_draft_in_one_transaction(store: Any, clock: Any) -> None:
    import sqlite3

    import pytest

    from oncall_tui.domain.ops import OpKind, post_message_op

    store.undo_seconds = 10
    tid = ticket(store, clock)
    draft_id = store.drafts.create_draft("channel", tid, {"body": "@oncall could", "title": "x"})
    fields = {"body": "@oncall could you help", "title": "@oncall", "channel": "#help-eng"}
    op = post_message_op("C0HELPENG", fields["body"], "key-1")
    got_draft, op_id = store.escalation.queue_channel_post(draft_id, tid, fields, op)
    assert got_draft == draft_id
    (entry,) = [o for o in store.outbox.ops() if o.kind is OpKind.POST_MESSAGE]
    assert (entry.id, entry.payload["channel"], entry.ticket_id) == (op_id, "C0HELPENG", None)
    draft = store.drafts.get_draft(draft_id)
    assert (draft.state, draft.outbox_id, draft.fields) == ("submitted", op_id, fields)
    assert store.outbox.waiting_count(clock()) == 1  # the undo window
    # a second send of the same entry (same key) fails whole: no second entry, no draft change
    other = store.drafts.create_draft("channel", tid, {"body": "second", "title": "second"})
    with pytest.raises(sqlite3.IntegrityError):
        store.escalation.queue_channel_post(other, tid, {"body": "changed", "title": "c"}, op)
    assert len([o for o in store.outbox.ops() if o.kind is OpKind.POST_MESSAGE]) == 1
    kept = store.drafts.get_draft(other)
    assert (kept.state, kept.outbox_id, kept.fields["body"]) == ("draft", None, "second")
    # undone: the draft is a draft again
    assert store.outbox.undo_last() is not None
    assert store.escalation.reopen_drafts_of(op_id) == 1
    draft = store.drafts.get_draft(draft_id)
    assert (draft.state, draft.outbox_id) == ("draft", None)
