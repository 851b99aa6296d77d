"""The label actions of the queue and the detail: add or remove a label, walk a tracker bug
through the escalation labels, and the confidentiality guard on labels going public.

Loaded with the first of them (the mixin's actions call in here), not at start.
"""

from __future__ import annotations

from typing import Any

from oncall_tui.domain import guard
from oncall_tui.domain.labels import LabelChange, LabelScheme
from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Source, Ticket, ticket_ref
from oncall_tui.ui.screens.hosts import ActionsHost

#: Offered when adding a label (with the ticket's own).
COMMON_LABELS = [
    "+more info please",
    "+waiting on logs",
    "bug",
    "~investigate",
    ":help-customers",
    ":reproduce",
    ":incoming",
    ":product",
]


def public_hits(
    actions: ActionsHost, ticket: Ticket, text_by_field: dict[str, str]
) -> list[guard.GuardHit]:
    """The guard's findings for labels or text about to be published on ``ticket``."""
    customer = actions.store.tickets.get_customer(ticket.customer_id)
    return guard.check_public(text_by_field, actions.store.tickets.customers(), own=customer)


def guarded_labels(
    actions: ActionsHost, ticket: Ticket, labels: list[str], then: Any, *, name: str
) -> None:
    """Run ``then()`` unless a label going on a public issue names a customer; then the
    engineer may still add it, with a reason that goes to the sync log."""
    from oncall_tui.ui.screens.choice_screen import ChoiceScreen
    from oncall_tui.ui.screens.prompt_screen import PromptScreen

    if not labels or not guard.needs_guard(ticket.source, OpKind.ADD_LABELS):
        then()
        return
    hits = public_hits(actions, ticket, {label: label for label in labels})
    if not hits:
        then()
        return
    named = ", ".join(dict.fromkeys(f"“{h.field_id}” names {h.customer}" for h in hits))

    def reason(text: str | None) -> None:
        if not text:
            actions.notify("Label not added.", timeout=3)
            return
        actions.store.sync_state.log(
            "guard",
            "warning",
            f"override on {ticket_ref(ticket.source, ticket.remote_id)}: labels "
            f"{', '.join(labels)}; reason: {text}",
        )
        then()

    def choice(value: str | None) -> None:
        if value == "override":
            actions.app.push_screen(
                PromptScreen(
                    "Override the confidentiality guard",
                    hint=f"Why put {named} on a public issue? The reason is recorded in "
                    "the sync log.",
                ),
                reason,
            )
        else:
            actions.notify("Label not added: it would name a customer in public.", timeout=4)

    actions.app.push_screen(
        ChoiceScreen(
            f"{name} is public: {named}",
            [
                ("cancel", "Don't add it (use the codename label, e.g. customer-<codename>)"),
                ("override", "Add it anyway, with a reason"),
            ],
        ),
        choice,
    )


def toggle_label(actions: ActionsHost) -> None:
    from oncall_tui.ui.screens.prompt_screen import PromptScreen

    tid = actions.current_id()
    if tid is None:
        return
    ticket = actions.store.tickets.get_ticket(tid)
    name = actions._ticket_name(tid)

    def done(label: str | None) -> None:
        if not label:
            return
        if label in ticket.labels:
            actions._guard(
                actions.store.tickets.remove_labels,
                tid,
                [label],
                message=f"{name}: label removed: {label}",
            )
        else:
            guarded_labels(
                actions,
                ticket,
                [label],
                lambda: actions._guard(
                    actions.store.tickets.add_labels,
                    tid,
                    [label],
                    message=f"{name}: label added: {label}",
                ),
                name=name,
            )

    current = ", ".join(ticket.labels) or "none"
    actions.app.push_screen(
        PromptScreen(
            f"Add or remove a label on {name}",
            hint=f"Now: {current}. A label already there is removed; a label starting "
            "with + pauses the SLA clock.",
            suggestions=sorted(set(COMMON_LABELS) | set(ticket.labels)),
        ),
        done,
    )


def label_change(
    actions: ActionsHost, transition: Any, labels: Any, scheme: LabelScheme
) -> tuple[LabelChange, str] | None:
    """The escalation ``transition``'s change to ``labels`` and how it reads
    (``+a -b``); None, said in a toast, when it is refused or changes nothing."""
    from oncall_tui.domain.labels import TransitionError

    try:
        change: LabelChange = transition(labels, scheme)
    except TransitionError as exc:
        actions.notify(str(exc), severity="error", markup=False)
        return None
    if not change:
        actions.notify("Nothing to change: the labels are already there.", timeout=3)
        return None
    shown = " ".join([*(f"+{x}" for x in change.add), *(f"-{x}" for x in change.remove)])
    return change, shown


def escalate(actions: ActionsHost) -> None:
    """Walk a tracker bug through the escalation labels (domain.labels)."""
    from oncall_tui.ui.screens.choice_screen import ChoiceScreen

    tid = actions.current_id()
    if tid is None:
        return
    from oncall_tui.domain import labels as escalation
    from oncall_tui.ui.screens.bug_report_data import bug_report_settings

    ticket = actions.store.tickets.get_ticket(tid)
    if ticket.source is not Source.TRACKER:
        actions.notify(
            f"Escalation labels go on tracker issues; {actions._ticket_name(tid)} is not one. "
            "File a bug report with b.",
            severity="warning",
            markup=False,
        )
        return
    scheme = bug_report_settings(actions.config).scheme
    s = scheme
    options = [
        (
            "suspect",
            f"Suspected customer impact: +{s.investigate} +{s.help_customers}, "
            f"-{s.incoming} -{s.reproduce}",
        ),
        ("reproduced", f"Reproduced: to the product board, +{s.product} -{s.investigate}"),
        (
            "not_reproduced",
            f"Not reproduced: back to QA, +{s.incoming} +{s.reproduce} -{s.investigate}",
        ),
    ]
    transitions = {
        "suspect": escalation.suspect_customer_impact,
        "reproduced": escalation.mark_reproduced,
        "not_reproduced": escalation.mark_not_reproduced,
    }
    stage = escalation.stage_of(ticket.labels, scheme).value.replace("_", " ")
    ref = actions._ticket_name(tid)

    def done(choice: str | None) -> None:
        if choice not in transitions:
            return
        labels = actions.store.tickets.get_ticket(tid).labels
        found = label_change(actions, transitions[choice], labels, scheme)
        if found is None:
            return
        change, shown = found

        def relabel() -> None:
            if actions._guard(
                actions._relabel, tid, change, message=f"{ref}: labels queued: {shown}"
            ):
                if choice == "suspect":  # an investigation starts: so does its time-box
                    from oncall_tui.ui.screens.escalation_bar import start_timebox

                    start_timebox(actions, tid)

        guarded_labels(actions, ticket, list(change.add), relabel, name=ref)

    actions.app.push_screen(ChoiceScreen(f"Escalate {ref} (now: {stage})", options), done)
