"""The reply and note actions of the queue and the detail: a reply from a template (its
placeholders filled from the ticket), an internal note, or the ticket's draft resumed.

Loaded with the first of them (the mixin's actions call in here), not at start.
"""

from __future__ import annotations

from oncall_tui.domain.ops import OpKind
from oncall_tui.ui.screens.hosts import ActionsHost


def template_context(actions: ActionsHost, tid: int) -> dict[str, str]:
    """Values for the placeholders; what is not known here stays unfilled (and blocks)."""
    from oncall_tui.domain import guard
    from oncall_tui.domain.templates import display_name

    ticket = actions.store.tickets.get_ticket(tid)
    customer = actions.store.tickets.get_customer(ticket.customer_id)
    public = guard.needs_guard(ticket.source, OpKind.REPLY)
    context = {
        "ticket_id": ticket.remote_id or "",
        "ticket_url": ticket.url or "",
        "requester": display_name(ticket.requester, customer.contacts if customer else ()) or "",
        "agent": actions.config.user,
        "subject": ticket.subject,
    }
    if customer:
        if not public:  # the real name goes to the customer only, never in public
            context["customer"] = customer.name
        context["codename"] = customer.codename or ""
    links = actions.store.tickets.links(tid)
    if links:
        context["issue_url"] = links[-1][0]
    return {k: v for k, v in context.items() if v}


def open_compose_on(
    actions: ActionsHost,
    tid: int,
    kind: str,
    text: str = "",
    *,
    draft_id: int | None = None,
    template: str | None = None,
) -> None:
    from oncall_tui.ui.screens.compose_screen import ComposeScreen, open_compose

    open_compose(
        actions.app,
        ComposeScreen(
            actions.store,
            actions.store.tickets.get_ticket(tid),
            kind,
            text,
            author=actions.config.user,
            clock=actions.clock,
            draft_id=draft_id,
            template=template,
        ),
    )


def resume_draft(actions: ActionsHost, tid: int, kind: str) -> bool:
    """Open the ticket's draft of ``kind`` if there is one (r / c resume it)."""
    draft = actions.store.drafts.draft_for_ticket(kind, tid)
    if draft is None:
        return False
    what = "reply" if kind == "reply" else "note"
    from oncall_tui.ui.times import local, shown_tz

    actions.notify(
        f"Resuming your {what} draft from {local(draft.updated_at, shown_tz(actions))}.",
        timeout=3,
    )
    open_compose_on(actions, tid, kind, draft.fields.get("body", ""), draft_id=draft.id)
    return True


def reply(actions: ActionsHost) -> None:
    from oncall_tui.ui.screens.choice_screen import ChoiceScreen

    tid = actions.current_id()
    if tid is None or resume_draft(actions, tid, "reply"):
        return
    from oncall_tui.domain.templates import render

    templates = {t.id: t for t in actions.templates}
    options = [("", "Blank reply")] + [(t.id, t.title) for t in actions.templates]
    name = actions._ticket_name(tid)

    def chosen(template_id: str | None) -> None:
        if template_id is None:
            return
        body = ""
        if template_id:
            rendered = render(templates[template_id], template_context(actions, tid))
            body = rendered.text
            if rendered.missing:
                names = ", ".join("{" + n + "}" for n in rendered.missing)
                actions.notify(
                    f"Fill in {names}: not known for {actions._ticket_name(tid, subject=False)}. "
                    "The reply cannot be sent until it is.",
                    severity="warning",
                    markup=False,
                    timeout=6,
                )
        open_compose_on(actions, tid, "reply", body, template=template_id or None)

    actions.app.push_screen(ChoiceScreen(f"Reply on {name}: a template", options), chosen)


def note(actions: ActionsHost) -> None:
    tid = actions.current_id()
    if tid is None or resume_draft(actions, tid, "note"):
        return
    ticket = actions.store.tickets.get_ticket(tid)
    from oncall_tui.domain.ops import is_supported

    if not is_supported(ticket.source, OpKind.NOTE):
        actions.notify(
            f"{actions._ticket_name(tid, subject=False)} is public: internal notes are not "
            "possible there (anything written is public). Reply with r.",
            severity="warning",
            markup=False,
        )
        return
    open_compose_on(actions, tid, "note")
