"""Link-back: the customer hears about the issue their ticket is linked to.

After a bug report is filed from a ticket (or the ticket is linked to an existing issue), a
reply with the issue's link goes into the ticket's reply draft, for the engineer to confirm
and send (r). When a linked issue moves on (reproduced, closed, released), one dialog offers
a templated update to every ticket linked to it. What each customer was last offered is kept
in the database (``link_notices``), so neither repeats after a restart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from oncall_tui.domain import escalation as esc
from oncall_tui.domain.tickets import ticket_ref
from oncall_tui.store.escalation import LinkNotice

ORDER = [
    esc.IssueState.LINKED,
    esc.IssueState.REPRODUCED,
    esc.IssueState.CLOSED,
    esc.IssueState.RELEASED,
]

#: Offers put off with "not now" in this session: (issue url, state).
_later: set[tuple[str, str]] = set()


def _rank(state: str | None) -> int:
    try:
        return ORDER.index(esc.IssueState(state)) if state else -1
    except ValueError:
        return -1


def pending_updates(
    notices: list[LinkNotice], settings: esc.EscalationSettings, scheme: Any
) -> dict[tuple[str, esc.IssueState], list[LinkNotice]]:
    """The updates to offer: for each (issue url, new state), the tickets not told yet."""
    result: dict[tuple[str, esc.IssueState], list[LinkNotice]] = {}
    for notice in notices:
        if notice.issue is None or notice.told is None:
            continue
        state = esc.issue_state(notice.issue.labels, notice.issue.is_done, settings, scheme)
        if _rank(state) > _rank(notice.told):
            result.setdefault((notice.url, state), []).append(notice)
    return result


def offer_link_updates(app: Any, done: Callable[[], None]) -> None:
    """Draft the link-back for new links, then offer each pending update (one dialog at a
    time); ``done`` runs when nothing more is asked."""
    ctx = app.ctx
    store = ctx.store
    settings = ctx.config.escalation

    def failed(exc: sqlite3.Error) -> None:
        app.notify(f"Link-back not checked: {exc}", severity="error", markup=False)
        done()

    try:
        notices = store.escalation.link_notices()
    except sqlite3.Error as exc:
        failed(exc)
        return
    if not notices:  # most starts: no link to tell about, no bug-report domain to load
        done()
        return
    from oncall_tui.ui.screens.bug_report_data import bug_report_settings

    scheme = bug_report_settings(ctx.config).scheme
    try:
        fresh = [n for n in notices if n.told is None]
        for notice in fresh:
            with store.db.atomic():
                text = esc.link_text(esc.IssueState.LINKED, settings, notice.url)
                store.escalation.queue_reply_draft(notice.ticket_id, text)
                store.escalation.set_link_notice(
                    notice.ticket_id, notice.url, str(esc.IssueState.LINKED)
                )
        updates = pending_updates(notices, settings, scheme)
    except sqlite3.Error as exc:
        failed(exc)
        return
    if fresh:
        names = ", ".join(_name(store, n.ticket_id) for n in fresh)
        app.notify(
            f"Link-back reply drafted for {names}: r on the ticket to review and send it.",
            markup=False,
            timeout=6,
        )
        app.store_revision += 1  # the drafts list changed (re-enters: _offering guards it)
    offers = [(k, v) for k, v in updates.items() if (k[0], str(k[1])) not in _later]
    _offer_next(app, offers, done)


def _name(store: Any, tid: int) -> str:
    try:
        ticket = store.tickets.get_ticket(tid)
    except LookupError:
        return "a ticket that is gone"
    return ticket_ref(ticket.source, ticket.remote_id)


def _offer_next(app: Any, offers: list[Any], done: Callable[[], None]) -> None:
    if not offers:
        done()
        return
    (url, state), notices = offers[0]
    rest = offers[1:]
    store = app.ctx.store
    settings = app.ctx.config.escalation
    issue = notices[0].issue
    ref = ticket_ref(issue.source, issue.remote_id) if issue is not None else url
    n = len(notices)
    from oncall_tui.ui.screens.choice_screen import ChoiceScreen

    def chosen(choice: str | None) -> None:
        try:
            if choice in ("draft", "skip"):
                with store.db.atomic():
                    for notice in notices:
                        if choice == "draft":
                            store.escalation.queue_reply_draft(
                                notice.ticket_id, esc.link_text(state, settings, url)
                            )
                        store.escalation.set_link_notice(notice.ticket_id, url, str(state))
            else:
                _later.add((url, str(state)))
        except sqlite3.Error as exc:
            app.notify(f"Update not drafted: {exc}", severity="error", markup=False)
        if choice == "draft":
            names = ", ".join(_name(store, x.ticket_id) for x in notices)
            app.notify(
                f"Update drafted for {names}: r on each to review and send.",
                markup=False,
                timeout=6,
            )
            app.store_revision += 1
        _offer_next(app, rest, done)

    tickets = "ticket" if n == 1 else f"{n} tickets"
    app.push_screen(
        ChoiceScreen(
            f"{ref} is {state.value}: tell the customers of the linked {tickets}?",
            [
                ("draft", f"Draft the {state.value} update as a reply on each (r sends it)"),
                ("later", "Not now (asked again next start)"),
                ("skip", "Don't tell them"),
            ],
        ),
        chosen,
    )
