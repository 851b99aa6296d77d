"""Filing from the bug-report form: the checks before submitting (every field, the guard, the
similar issues once more), the guard's override with a reason, and the two ends of a draft,
queued as one ``CREATE_ISSUE`` outbox entry or dropped for a link to an existing issue.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from rich.text import Text
from textual.widgets import Collapsible, Static

from oncall_tui.domain import guard
from oncall_tui.domain.bug_form import TICKET_URL_KEY
from oncall_tui.domain.bug_report import BugReportDraft, FieldError, create_issue_payload, validate
from oncall_tui.domain.ops import Op, OpKind
from oncall_tui.domain.tickets import Source, Ticket, ticket_ref
from oncall_tui.ui.screens.bug_report_data import DRAFT_KIND, LOCAL_REPO
from oncall_tui.ui.screens.choice_screen import ChoiceScreen
from oncall_tui.ui.screens.drafting import ask_override, write_draft
from oncall_tui.ui.screens.hosts import ScreenHost
from oncall_tui.ui.widgets.similar_issues import IssueMatch

if TYPE_CHECKING:
    from textual.widget import Widget

    from oncall_tui.domain.bug_form import FormSchema
    from oncall_tui.domain.bug_report import IssuePreview
    from oncall_tui.store import Store
    from oncall_tui.ui.screens.bug_report_data import BugReportSettings
    from oncall_tui.ui.screens.drafting import Autosave
    from oncall_tui.ui.widgets.form_field import FormFieldBox

W = TypeVar("W", bound="Widget")


class BugFilingHost(ScreenHost, Protocol):
    """What filing needs of its form (the bug-report screen): the draft's state, the checks
    before filing, the form's boxes, and closing with the filed draft."""

    store: Store
    settings: BugReportSettings
    schema: FormSchema
    values: dict[str, str]
    ticket_id: int | None
    draft_id: int | None
    override: guard.GuardOverride | None
    ticket: Ticket | None
    hits: list[guard.GuardHit]
    autosave: Autosave

    def box(self, field_id: str) -> FormFieldBox: ...

    def save(self, *, update_ui: bool = True) -> None: ...

    def check_guard(self) -> list[guard.GuardHit]: ...

    def search_similar(self) -> list[IssueMatch]: ...

    def preview(self) -> IssuePreview: ...

    def _meta(self) -> dict[str, Any]: ...

    def _codename(self) -> str | None: ...

    def _stop_timers(self) -> None: ...

    def query_one(self, selector: str, expect_type: type[W]) -> W: ...

    def has_class(self, *class_names: str) -> bool: ...

    def remove_class(self, *class_names: str, update: bool = True) -> object: ...

    def call_after_refresh(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> bool: ...

    def dismiss(self, result: BugReportDraft | None = None) -> object: ...


#: Matches at least this alike are offered once more when submitting.
PROMPT_SCORE = 0.34


def show_problems(
    screen: BugFilingHost, errors: list[FieldError], blocking: list[guard.GuardHit]
) -> None:
    """List what stops filing beside the form (hidden when nothing does)."""
    labels = {f.id: f.label for f in screen.schema.fields}
    labels[TICKET_URL_KEY] = "Ticket link"
    text = Text()
    if errors or blocking:
        text.append("Cannot submit yet:\n", style="bold")
    for error in errors:
        text.append(f"• {labels[error.field_id]}: ", style="bold")
        text.append(error.message)
        text.append("\n")
    for hit in blocking:
        text.append(f"• {labels.get(hit.field_id, hit.field_id)}: ", style="bold")
        if hit.customer and hit.customer.casefold() != hit.term.casefold():
            text.append(f'"{hit.term}" names {hit.customer}\n')
        else:
            text.append(f'"{hit.term}" is a customer\'s name\n')
    problems = screen.query_one("#submit-problems", Static)
    problems.update(text)
    problems.display = bool(errors or blocking)


def refresh_problems(screen: BugFilingHost) -> None:
    """Keep the list from the last refused submit up to date as fields are fixed."""
    if screen.query_one("#submit-problems", Static).display:
        blocking = guard.unresolved(screen.hits, screen.override)
        show_problems(screen, validate(screen.schema, screen.values), blocking)


def focus_field(screen: BugFilingHost, field_id: str) -> None:
    box = screen.box(field_id)
    for ancestor in box.ancestors:
        if isinstance(ancestor, Collapsible) and ancestor.collapsed:
            ancestor.collapsed = False
    if screen.has_class("-preview"):
        screen.remove_class("-preview")
    screen.call_after_refresh(box.focus_input)


def submit(screen: BugFilingHost) -> None:
    errors = validate(screen.schema, screen.values)
    blocking = guard.unresolved(screen.check_guard(), screen.override)
    show_problems(screen, errors, blocking)
    if errors:
        by_field: dict[str, list[str]] = {}
        for error in errors:
            by_field.setdefault(error.field_id, []).append(error.message)
        for f in screen.schema.fields:
            messages = by_field.get(f.id)
            screen.box(f.id).set_error(" ".join(messages) if messages else None)
        focus_field(screen, errors[0].field_id)
        screen.notify(
            f"{len(errors)} field(s) to fix before filing; the first is focused.",
            severity="error",
        )
        return
    if blocking:
        if blocking[0].field_id != TICKET_URL_KEY:
            focus_field(screen, blocking[0].field_id)
        screen.notify(
            "The public issue would name the customer: fix the highlighted words, or F4 "
            "to override with a reason.",
            severity="error",
        )
        return
    similar = [m for m in screen.search_similar() if m.score >= PROMPT_SCORE]
    if not similar:
        file_issue(screen)
        return
    options: list[tuple[str, str]] = []
    for i, match in enumerate(similar):
        verb = "Link the ticket to" if screen.ticket is not None else "Open"
        options.append((f"match-{i}", f"{verb} {match.ref}: {match.title}"))
    options.append(("file", "None of these: file a new issue"))

    def done(choice: str | None) -> None:
        if choice == "file":
            file_issue(screen)
        elif choice and choice.startswith("match-"):
            match = similar[int(choice.removeprefix("match-"))]
            if screen.ticket is not None:
                link_to(screen, match)
            else:
                offer_link(screen, match)

    screen.app.push_screen(
        ChoiceScreen("Search first: these issues look like the same bug", options), done
    )


def file_issue(screen: BugFilingHost) -> int | None:
    """Queue the issue: one CREATE_ISSUE outbox entry, draft "submitted", one transaction."""
    preview = screen.preview()
    draft = BugReportDraft(
        values=screen.values,
        ticket_id=screen.ticket_id,
        codename=screen._codename(),
        override=screen.override,
    )
    payload = create_issue_payload(preview, draft, screen.settings.repo)
    op = Op(
        kind=OpKind.CREATE_ISSUE,
        source=Source.TRACKER,
        payload=payload,
        idempotency_key=str(uuid.uuid4()),
        ticket_id=screen.ticket_id,
    )
    screen._stop_timers()
    try:
        with screen.store.db.atomic():
            draft_id = write_draft(
                screen.store,
                screen.draft_id,
                DRAFT_KIND,
                screen.ticket_id,
                dict(screen.values),
                screen._meta(),
            )
            op_id = screen.store.outbox.enqueue(op)
            screen.store.drafts.set_draft_state(draft_id, "submitted", op_id)
    except sqlite3.Error as exc:
        screen.notify(f"Could not queue the report: {exc}", severity="error", markup=False)
        return None
    screen.draft_id = draft_id
    screen.autosave.saved()
    if screen.settings.repo == LOCAL_REPO:
        where = "no tracker is configured yet: it is filed once one is"
    else:
        where = f"it is filed in {screen.settings.repo} on the next sync"
    screen.notify(f"Bug report queued; {where}.", markup=False)
    screen.dismiss(draft)
    return op_id


def offer_link(screen: BugFilingHost, match: IssueMatch) -> None:
    """Ask, then link the ticket to ``match`` and discard this draft."""
    if screen.ticket is None:
        screen.notify("This report has no support ticket to link to the issue.", markup=False)
        if match.url:
            from oncall_tui.ui.browser import open_link

            open_link(screen.app, match.url, copy_key=None)
        return
    options = [
        (
            "link",
            f"Link {ticket_ref(screen.ticket.source, screen.ticket.remote_id)} to {match.ref} "
            "and discard this draft",
        ),
        ("back", "Back to the form"),
    ]

    def done(choice: str | None) -> None:
        if choice == "link":
            link_to(screen, match)

    screen.app.push_screen(ChoiceScreen(f"Same bug as {match.ref}? {match.title}", options), done)


def link_to(screen: BugFilingHost, match: IssueMatch) -> None:
    """Link the ticket to an existing issue instead of filing; the draft is discarded."""
    assert screen.ticket is not None
    screen._stop_timers()
    try:
        with screen.store.db.atomic():
            screen.store.tickets.link(
                screen.ticket.id, match.url or match.ref, match.title, match.id
            )
            if screen.draft_id is not None:
                screen.store.drafts.delete_draft(screen.draft_id)
    except sqlite3.Error as exc:
        screen.notify(f"Could not link: {exc}", severity="error", markup=False)
        return
    screen.autosave.saved()
    screen.draft_id = None
    screen.notify(
        f"{ticket_ref(screen.ticket.source, screen.ticket.remote_id)} linked to {match.ref}; "
        "draft discarded. Reply (r) to share the issue with the customer.",
        markup=False,
    )
    screen.dismiss(None)


def override_guard(screen: BugFilingHost) -> None:
    hits = screen.check_guard()
    blocking = guard.unresolved(hits, screen.override)
    if not hits:
        screen.notify("The guard found nothing to override.", timeout=3)
        return
    if not blocking:
        screen.notify("Your override already covers every mention.", timeout=3)
        return

    def overridden() -> None:
        try:
            screen.save()
        except sqlite3.Error as exc:
            screen.notify(f"Could not save the draft: {exc}", severity="error", markup=False)
        screen.check_guard()

    why = "Why file despite {terms}? The reason is kept with the report."
    ask_override(screen, hits, blocking, why, overridden)
