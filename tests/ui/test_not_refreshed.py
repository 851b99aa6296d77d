"""A ticket that left what the sync keeps fresh (an agent's scope, issue 16) says so."""

from __future__ import annotations

from rich.console import Console

from oncall_tui.domain.remote import Page, Scope
from oncall_tui.domain.tickets import Source
from oncall_tui.store import Store
from oncall_tui.ui.screens.detail_loader import load_detail
from oncall_tui.ui.widgets.ticket_detail import TicketDetail
from tests.fakes import remote_ticket


def shown(store: Store, ticket_id: int) -> str:
    widget = TicketDetail()
    console = Console(width=200, record=True)
    console.print(widget._meta(load_detail(store, ticket_id)))
    return console.export_text()


def test_the_detail_names_a_ticket_that_is_not_refreshed(store: Store) -> None:
    store.remote.apply_page("zendesk", Page(tickets=(remote_ticket(101), remote_ticket(102))))
    keep = store.tickets.find_ticket(Source.HELPDESK.value, "101")
    leaver = store.tickets.find_ticket(Source.HELPDESK.value, "102")
    assert keep is not None and leaver is not None
    assert "not refreshed" not in shown(store, leaver.id)
    store.remote.apply_page("zendesk", Page(in_scope=Scope(Source.HELPDESK, frozenset({"101"}))))
    assert "not refreshed since" in shown(store, leaver.id)
    assert "not refreshed" not in shown(store, keep.id)
    store.remote.apply_page("zendesk", Page(tickets=(remote_ticket(102),)))  # a fresh copy
    assert "not refreshed" not in shown(store, leaver.id)
