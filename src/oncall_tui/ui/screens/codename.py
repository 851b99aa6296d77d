"""Customer codenames: pick an unused minor planet, create ``customer-<codename>`` labels.

The picker proposes the first free names of the bundled list (named minor planets from
NASA/JPL's Small-Body Database, ``data/minor_planets.txt``; free: no customer has it and no
tracker label ``customer-<name>`` is known). The chosen one becomes the customer's codename
(so the guard knows it is theirs, and the bug-report form uses it) and two outbox entries
create the label in the public repository (no description: the public must not learn who it
is) and in ``[escalation] private_repo`` (the real name in the description).
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from oncall_tui.data.resources import minor_planets
from oncall_tui.domain import codenames, guard
from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.tickets import Source


def ask_codename(screen: Any, tid: int) -> None:
    """Offer free codenames for the ticket's customer."""
    from oncall_tui.ui.screens.bug_report_data import bug_report_settings
    from oncall_tui.ui.screens.choice_screen import ChoiceScreen

    store = screen.store
    ticket = store.tickets.get_ticket(tid)
    customer = store.tickets.get_customer(ticket.customer_id)
    if customer is None:
        screen.notify("This ticket has no customer to give a codename.", severity="warning")
        return
    if customer.codename:
        screen.notify(
            f"{customer.name} already has the codename {customer.codename}.",
            markup=False,
            timeout=4,
        )
        return
    prefix = bug_report_settings(screen.config).scheme.customer_prefix
    customers = store.tickets.customers()
    taken = codenames.taken_codenames(
        [c.codename for c in customers], store.escalation.tracker_labels(), prefix
    )
    # a name that is also a word of some customer's name would read as that customer
    free = [
        planet
        for planet in codenames.propose(minor_planets(), taken, 12)
        if not guard.check_public({"label": planet.codename}, customers)
    ][:5]
    if not free:
        screen.notify("Every bundled minor-planet name is taken.", severity="warning")
        return

    def chosen(choice: str | None) -> None:
        if choice:
            assign(screen, customer.id, choice, prefix)

    screen.app.push_screen(
        ChoiceScreen(
            f"Codename for {customer.name} (minor planets, {codenames.SOURCE})",
            [
                (p.codename, f"{prefix}{p.codename} — minor planet ({p.number}) {p.name}")
                for p in free
            ],
        ),
        chosen,
    )


def assign(screen: Any, customer_id: int, codename: str, prefix: str) -> bool:
    """Give the customer ``codename`` and queue its public and private labels."""
    from oncall_tui.ui.screens.bug_report_data import LOCAL_REPO, bug_report_settings

    store = screen.store
    customer = store.tickets.get_customer(customer_id)
    settings = screen.config.escalation
    public = bug_report_settings(screen.config).repo
    label = f"{prefix}{codename}"

    def op(repo: str | None, description: str) -> Op:
        return Op(
            kind=OpKind.CREATE_LABEL,
            source=Source.TRACKER,
            payload={"repo": repo, "name": label, "description": description, "color": "c5def5"},
            idempotency_key=str(uuid.uuid4()),
        )

    ops = [op(None if public == LOCAL_REPO else public, "")]
    if settings.private_repo:
        ops.append(op(settings.private_repo, customer.name if customer else ""))
    try:
        store.escalation.assign_codename(customer_id, codename, ops)
    except (ValueError, sqlite3.Error) as exc:
        screen.notify(f"Codename not given: {exc}", severity="error", markup=False)
        return False
    where = (
        "the public and the private repository"
        if settings.private_repo
        else ("the public repository (no [escalation] private_repo: the mapping stays local)")
    )
    screen.app.after_edit(
        f"{customer.name if customer else 'Customer'} is {codename}: {label} queued in {where}"
    )
    return True
