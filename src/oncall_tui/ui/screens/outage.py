"""Suspected outage: one key files ``Suspected outage: YYYY-MM-DD`` on the tracker.

The issue carries the configured labels (``#outage``, ``#g-cx``, ``:release``), lists the
affected tickets by reference and link (never their subjects, which may name a customer),
goes through the confidentiality guard and the outbox like a bug report, and links every
affected ticket once it is filed (so each customer gets the link-back). Its owner is
reminded to post an update every ``outage_reminder_minutes`` until it is closed.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from oncall_tui.domain import escalation as esc
from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Source, ticket_ref
from oncall_tui.ui.screens.outage_screen import LIMIT, Candidate


def outage_candidates(screen: Any, text: str) -> list[Candidate]:
    """Open tickets matching ``text`` (the queue's filter language), most recently updated
    first, at most :data:`LIMIT`."""
    store = screen.store
    rows = store.queue.open_queue(
        parse_query(f"is:open {text}"),
        limit=LIMIT,
        me=screen.config.user,
        now=screen.clock(),
        sort=("updated", True),
    )
    return [candidate(store, row.id) for row in rows]


def candidate(store: Any, tid: int) -> Candidate:
    """The picker's line for one ticket."""
    ticket = store.tickets.get_ticket(tid)
    customer = store.tickets.get_customer(ticket.customer_id)
    who = None
    if customer is not None:
        who = f"{customer.name} ({customer.codename})" if customer.codename else customer.name
    return Candidate(
        id=tid,
        ref=ticket_ref(ticket.source, ticket.remote_id),
        subject=ticket.subject,
        customer=who,
        priority=ticket.priority.value,
        updated_at=ticket.updated_at,
    )


def ask_outage(screen: Any, tid: int) -> None:
    """Ask which tickets the outage hits (this one ticked, the open ones to tick), then file
    it."""
    from oncall_tui.ui.screens.outage_screen import OutageScreen

    store = screen.store
    title = esc.outage_title(screen.clock().astimezone(screen.config.tz).date())
    if any(t.title == title for t in store.escalation.timers("outage")):
        screen.notify(
            f"“{title}” is already filed; its update reminder is running. Link this ticket "
            "to it from the bug report form (b), which searches for it.",
            severity="warning",
            markup=False,
        )
        return

    def chosen(tids: list[int] | None) -> None:
        if tids:
            file_outage(screen, tids, title)

    labels = " ".join(screen.config.escalation.outage_labels)
    screen.app.push_screen(
        OutageScreen(
            f"File “{title}” ({labels}): tick every affected ticket",
            candidate(store, tid),
            lambda text: outage_candidates(screen, text),
            screen.clock(),
        ),
        chosen,
    )


def file_outage(screen: Any, tids: list[int], title: str) -> int | None:
    """Queue the outage issue and its reminder; returns the outbox entry's id."""
    from oncall_tui.ui.screens.bug_report_data import bug_report_settings

    store = screen.store
    settings = screen.config.escalation
    tickets = [store.tickets.get_ticket(t) for t in tids]
    refs = [(ticket_ref(t.source, t.remote_id), t.url) for t in tickets]
    body = esc.outage_body(refs)
    hits = esc.outage_guard_hits(title, refs, store.tickets.customers())
    if hits:  # a reference or link that spells a customer's name: not in public
        screen.notify(
            f"Not filed: the issue would name {hits[0].customer} in public "
            f"(“{hits[0].term}”). File it from the bug report form (b).",
            severity="error",
            markup=False,
        )
        return None
    from oncall_tui.ui.screens.bug_report_data import LOCAL_REPO

    repo = bug_report_settings(screen.config).repo
    # No repository configured: the tracker backend files it in its first one.
    repo_value = None if repo == LOCAL_REPO else repo
    op = Op(
        kind=OpKind.CREATE_ISSUE,
        source=Source.TRACKER,
        payload={
            "repo": repo_value,
            "title": title,
            "body": body,
            "labels": list(settings.outage_labels),
            "ticket_id": tids[0],
            "linked_tickets": tids,
        },
        idempotency_key=str(uuid.uuid4()),
        ticket_id=tids[0],
    )
    every = settings.outage_reminder
    try:
        op_id: int = store.escalation.file_outage(
            op, title, screen.clock() + every, int(every.total_seconds()), tids
        )
    except sqlite3.Error as exc:
        screen.notify(f"Could not queue the outage issue: {exc}", severity="error", markup=False)
        return None
    screen.app.after_edit(
        f"“{title}” queued with {len(tids)} affected ticket{'s' if len(tids) != 1 else ''}; "
        f"update reminder every {settings.outage_reminder_minutes:g} min until it is closed"
    )
    return op_id
