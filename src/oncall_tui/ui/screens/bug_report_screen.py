"""BugReportScreen: file a customer bug report, search first, keep the customer anonymous.

The form comes from the schema (the packaged default, or the team's ``[bug_report]`` config;
a bad config is reported and the default used). Opened with `b` on a ticket (pre-filled from
it, or resuming that ticket's open draft), blank with `B` or from the command palette, and
from the drafts screen (`D`).

Everything typed is saved to the store at most ``AUTOSAVE_SECONDS`` after the first unsaved
change (one atomic statement per save), so a killed process loses under a second of typing
and drafting never needs the network. Beside the form, debounced as the text changes: tracker
issues from the local cache that look like the same bug (enter on one links the ticket to it
instead of filing), and the confidentiality guard's hits in context.

Submitting validates every field, refuses while the guard has unresolved hits, offers the
similar issues once more, then turns the draft into one ``CREATE_ISSUE`` outbox entry and
marks the draft "submitted" in the same transaction. The sync engine files the issue, then
marks the draft "filed" and links the ticket to the new issue.

A little over 500 lines: the form's layout, editing and background checks share the draft's
state; filing (submit, override, link instead) is ``bug_report_filing``, the settings, search
and preview ``bug_report_data``, the autosave ``drafting``, the widgets in ``widgets/``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Collapsible, Footer, Label, Markdown, Static

from oncall_tui.domain import guard
from oncall_tui.domain.bug_form import TICKET_URL_KEY, FieldRole
from oncall_tui.domain.bug_report import (
    BugReportDraft,
    IssuePreview,
    prefill,
    public_text,
    render_issue,
    validate_field,
)
from oncall_tui.domain.bug_similar import similar_issue_query
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.tickets import Customer, Source, Ticket, ticket_ref
from oncall_tui.settings.config import Config
from oncall_tui.settings.paths import styles_dir
from oncall_tui.store import Store, open_store
from oncall_tui.store.drafts import Draft
from oncall_tui.store.tickets import UnknownTicket
from oncall_tui.ui.screens.bug_report_data import (
    DRAFT_KIND,
    BugReportSettings,
    bug_report_settings,
    find_similar,
    preview_markdown,
)
from oncall_tui.ui.screens.bug_report_filing import offer_link
from oncall_tui.ui.screens.drafting import (
    Autosave,
    override_from_meta,
    override_to_meta,
    write_draft,
)
from oncall_tui.ui.times import local, shown_tz
from oncall_tui.ui.widgets.form_field import FormFieldBox
from oncall_tui.ui.widgets.guard_panel import GuardPanel
from oncall_tui.ui.widgets.readable_markdown import ReadableMarkdown
from oncall_tui.ui.widgets.similar_issues import IssueMatch, SimilarIssues

#: Narrower than this, the form stacks: labels over inputs, the side panel under the form.
NARROW_FORM = 120
#: Quiet time after typing before the similar issues and the guard are refreshed.
REFRESH_SECONDS = 0.4


# --- opening the form ----------------------------------------------------------------------------


def open_bug_report(
    app: App[Any],
    store: Store,
    config: Config,
    clock: Clock,
    *,
    ticket_id: int | None = None,
    draft: Draft | None = None,
) -> None:
    """Push the form: for a saved draft, for a ticket (resuming its open draft), or blank."""
    if isinstance(app.screen, BugReportScreen):
        app.notify("This is a bug report already: esc leaves it (the draft is kept).")
        return
    settings = bug_report_settings(config)
    if draft is not None:
        screen = BugReportScreen.from_draft(store, config, clock, draft, settings=settings)
    elif ticket_id is not None:
        ticket = store.tickets.get_ticket(ticket_id)
        if ticket.source is Source.TRACKER:
            app.notify(
                f"{ticket_ref(ticket.source, ticket.remote_id)} is already a tracker issue: "
                "escalate it with E.",
                severity="warning",
                markup=False,
            )
            return
        existing = store.drafts.draft_for_ticket(DRAFT_KIND, ticket_id)
        if existing is not None:
            app.notify(f"Resuming your draft from {local(existing.updated_at, shown_tz(app))}.")
            screen = BugReportScreen.from_draft(store, config, clock, existing, settings=settings)
        else:
            queued = [
                d
                for d in store.drafts.all(DRAFT_KIND)
                if d.ticket_id == ticket_id and d.state == "submitted"
            ]
            if queued:
                app.notify(
                    "A bug report from this ticket is already queued for filing; this starts "
                    "another one.",
                    severity="warning",
                )
            customer = store.tickets.get_customer(ticket.customer_id)
            comments = [c.body for c in store.tickets.comments(ticket_id)]
            values = prefill(settings.schema, ticket, customer, ticket.url, comments)
            screen = BugReportScreen(
                store, config, clock, values=values, ticket_id=ticket_id, settings=settings
            )
    else:
        screen = BugReportScreen(store, config, clock, values={}, settings=settings)

    def closed(result: BugReportDraft | None) -> None:
        app.store_revision += 1  # type: ignore[attr-defined]

    app.push_screen(screen, closed)


# --- the screen ----------------------------------------------------------------------------------


class BugReportScreen(ModalScreen[BugReportDraft | None]):
    """The bug-report form; dismisses with the submitted draft, or None when left or linked."""

    CSS_PATH: ClassVar = [styles_dir() / "bug_report.tcss"]  # loaded when first shown

    class ChecksDone(Message, bubble=False):
        """The background guard check and similar-issue search finished (from the thread)."""

        def __init__(
            self,
            values: dict[str, str],
            hits: list[guard.GuardHit],
            queries: tuple[str, ...] | None,
            matches: list[IssueMatch] | None,
        ) -> None:
            super().__init__()
            self.values = values
            self.hits = hits
            self.queries = queries
            """None when the run failed (the error is the worker's)."""
            self.matches = matches
            """None when the run did not search (queries unchanged, or no second connection)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="save-report", priority=True),
        Binding("f5", "submit", "Submit", id="submit-report", priority=True),
        Binding(
            "ctrl+enter", "submit", "Submit", show=False, id="submit-report-alt", priority=True
        ),
        Binding("f2", "toggle_preview", "Preview", id="preview-report", priority=True),
        Binding("f3", "similar", "Similar issues", id="similar-issues", priority=True),
        Binding("f4", "override_guard", "Override guard", id="override-guard", priority=True),
        Binding("escape,q", "leave", "Leave (draft kept)", id="leave-report"),
    ]

    def __init__(
        self,
        store: Store,
        config: Config,
        clock: Clock,
        *,
        values: Mapping[str, str],
        ticket_id: int | None = None,
        draft_id: int | None = None,
        override: guard.GuardOverride | None = None,
        settings: BugReportSettings | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.clock = clock
        self.settings = settings or bug_report_settings(config)
        self.schema = self.settings.schema
        self.values: dict[str, str] = dict(values)
        """Field values by id, plus the ticket link; what gets saved."""
        self.ticket_id = ticket_id
        self.draft_id = draft_id
        self.override = override
        self.ticket: Ticket | None = None
        self.customer: Customer | None = None
        self.hits: list[guard.GuardHit] = []
        self.matches: list[IssueMatch] = []
        self.saved_at: datetime | None = None
        self.autosave = Autosave(self, self.save)
        self._refresh_timer: Timer | None = None
        self._last_queries: tuple[str, ...] | None = None
        """The search variants the shown matches were found with."""
        self._checked: dict[str, str] | None = None
        """The values the shown hits and matches were computed for."""
        self._checks_running = False
        self._checks_pending = False
        self._customers: list[Customer] | None = None
        self._return_focus: Any = None
        if ticket_id is not None:
            try:
                self.ticket = store.tickets.get_ticket(ticket_id)
            except UnknownTicket:
                self.ticket_id = None
            else:
                self.customer = store.tickets.get_customer(self.ticket.customer_id)

    @classmethod
    def from_draft(
        cls,
        store: Store,
        config: Config,
        clock: Clock,
        draft: Draft,
        *,
        settings: BugReportSettings | None = None,
    ) -> BugReportScreen:
        """Resume a saved draft."""
        return cls(
            store,
            config,
            clock,
            values={str(k): str(v) for k, v in draft.fields.items()},
            ticket_id=draft.ticket_id,
            draft_id=draft.id,
            override=override_from_meta(draft.meta.get("override")),
            settings=settings,
        )

    # ---- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="bug-report-header")
        with Horizontal(id="bug-report-body"):
            with VerticalScroll(id="bug-report-form", can_focus=False):
                yield Static(
                    Text("* required. Everything here will be public: no customer names."),
                    classes="bug-report--legend",
                )
                for section in self.schema.sections:
                    boxes = [FormFieldBox(f, self.values.get(f.id, "")) for f in section.fields]
                    if section.collapsed:
                        yield Collapsible(
                            *boxes,
                            title=escape(section.title),
                            collapsed=True,
                            id=f"section-{section.id}",
                        )
                    else:
                        with Vertical(id=f"section-{section.id}", classes="form-section"):
                            yield Label(Text(section.title), classes="form-section--title")
                            yield from boxes
            with VerticalScroll(id="bug-report-preview"):
                yield ReadableMarkdown(id="preview-markdown")
            with Vertical(id="bug-report-side"):
                yield Label(Text("Similar issues (local cache)"), classes="side--title")
                yield SimilarIssues(id="similar-issues")
                yield Label(Text("Confidentiality"), classes="side--title")
                yield GuardPanel(id="guard-panel")
                yield Static(id="submit-problems")
        yield Static(
            Text(
                "Saved as you type · F5 submits (or ctrl+enter, which most terminals cannot "
                "send) · esc leaves; the draft is kept"
            ),
            id="bug-report-hint",
        )
        yield Footer(compact=True)

    def on_resize(self, event: events.Resize) -> None:
        # Narrow: labels above their inputs, help under them, and the similar issues and the
        # guard under the form (beside it, an 80-column form gave 4-character inputs).
        self.set_class(event.size.width < NARROW_FORM, "-narrow")

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < NARROW_FORM, "-narrow")
        for problem in self.settings.problems:
            self.notify(problem, title="Bug-report config", severity="error", markup=False)
        self.query_one("#submit-problems", Static).display = False
        self._update_header()
        self.refresh_checks()
        # Issues a sync brings into the cache are offered as soon as they land.
        self.watch(self.app, "store_revision", self._store_changed, init=False)
        self.box(self.schema.title_field.id).focus_input()

    def _store_changed(self, *_: object) -> None:
        self._last_queries = None  # a sync may have brought matching issues
        self.refresh_checks()

    def on_unmount(self) -> None:
        self.autosave.flush(lambda: self.save(update_ui=False))

    def box(self, field_id: str) -> FormFieldBox:
        """The field's box."""
        return self.query_one(f"#box-{field_id}", FormFieldBox)

    def _update_header(self) -> None:
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append(" Bug report", style="bold")
        if self.ticket is not None:
            header.append(f" · from {ticket_ref(self.ticket.source, self.ticket.remote_id)} ")
            header.append(self.ticket.subject)
        else:
            header.append(" · no ticket")
        if self.autosave.dirty:
            state = "unsaved changes"
        elif self.saved_at is not None:
            state = f"draft saved {local(self.saved_at, shown_tz(self), '%H:%M:%S %Z')}"
        elif self.draft_id is not None:
            state = "draft"
        else:
            state = "not saved yet"
        header.append(f"  [{state}]", style="italic")
        self.query_one("#bug-report-header", Static).update(header)

    # ---- editing, autosave -------------------------------------------------------------------

    @on(FormFieldBox.ValueChanged)
    def _value_changed(self, event: FormFieldBox.ValueChanged) -> None:
        self.values[event.field_id] = event.value
        self.autosave.changed()
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
        self._refresh_timer = self.set_timer(REFRESH_SECONDS, self.refresh_checks)
        if event.box.has_class("-invalid"):  # clear the message as soon as it is fixed
            event.box.set_error(validate_field(event.box.field, event.value))
        self._update_header()

    @on(FormFieldBox.Left)
    def _field_left(self, event: FormFieldBox.Left) -> None:
        event.box.set_error(validate_field(event.box.field, self.values.get(event.field_id)))

    def _meta(self) -> dict[str, Any]:
        return {
            "codename": self._codename(),
            "override": override_to_meta(self.override),
            "repo": self.settings.repo,
        }

    def save(self, *, update_ui: bool = True) -> None:
        """Write the draft now (creating it on first save): one atomic statement."""
        self.draft_id = write_draft(
            self.store, self.draft_id, DRAFT_KIND, self.ticket_id, dict(self.values), self._meta()
        )
        self.autosave.saved()
        self.saved_at = self.clock()
        if update_ui:
            self._update_header()

    def _stop_timers(self) -> None:
        self.autosave.stop()
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
        self._refresh_timer = None

    def action_save(self) -> None:
        self.autosave.stop()
        try:
            self.save()
        except sqlite3.Error as exc:
            self.notify(f"Could not save the draft: {exc}", severity="error", markup=False)
            return
        self.notify("Draft saved.", timeout=2)

    def action_leave(self) -> None:
        self._stop_timers()
        if self.autosave.dirty:
            try:
                self.save()
            except sqlite3.Error as exc:
                self.notify(f"Could not save the draft: {exc}", severity="error", markup=False)
                return
        if self.draft_id is not None:
            self.notify("Draft kept: D lists your drafts.", timeout=3)
        self.dismiss(None)

    # ---- the guard and similar issues --------------------------------------------------------

    def _codename(self) -> str | None:
        customer = self._guard_customer()
        return customer.codename if customer is not None else None

    def _guard_customer(self) -> Customer | None:
        """The ticket's customer; without a ticket, the one whose codename is typed."""
        if self.customer is not None:
            return self.customer
        field = self.schema.by_role(FieldRole.CODENAME)
        typed = (self.values.get(field.id) or "").strip().casefold() if field else ""
        if not typed:
            return None
        return next(
            (c for c in self._known_customers() if (c.codename or "").casefold() == typed), None
        )

    def refresh_checks(self) -> None:
        """Re-run the guard and the similar-issue search in a background thread.

        Both can take a while on a pasted log, so the form never waits for them; one run at
        a time, and a change made meanwhile runs them again when it ends.
        """
        self._refresh_timer = None
        if self._checks_running:
            self._checks_pending = True
            return
        self._checks_running = True
        self._run_checks(
            dict(self.values), self._guard_customer(), self._known_customers(), self._last_queries
        )

    @work(thread=True, group="bug-report-checks", exit_on_error=False)
    def _run_checks(
        self,
        values: dict[str, str],
        customer: Customer | None,
        customers: list[Customer],
        last_queries: tuple[str, ...] | None,
    ) -> None:
        hits: list[guard.GuardHit] = []
        queries: tuple[str, ...] | None = None
        matches: list[IssueMatch] | None = None
        try:
            hits = guard.check_public(public_text(self.schema, values), customers, own=customer)
            queries = tuple(similar_issue_query(values, self.schema))
            if queries != last_queries and str(self.store.path) != ":memory:":
                # One connection per thread: a short-lived reader of its own.
                reader = open_store(
                    self.store.path, sla=self.store.sla, clock=self.store.clock, migrate=False
                )
                try:
                    matches = find_similar(reader, values, self.schema, queries) if queries else []
                finally:
                    reader.close()
        finally:  # thread-safe and never blocks, even while the app shuts down
            self.post_message(self.ChecksDone(values, hits, queries, matches))

    @on(ChecksDone)
    def _checks_done(self, event: ChecksDone) -> None:
        self._checks_running = False
        queries, matches = event.queries, event.matches
        if queries is not None:  # else the run failed: keep what is shown, submit re-checks
            self.hits = event.hits
            self._show_guard()
            if queries != self._last_queries:
                if queries and hasattr(self.app, "search_tracker"):
                    self.app.search_tracker(queries[0])  # online too; results re-run this
                if matches is None:
                    self.search_similar()  # no second connection (an in-memory store)
                else:
                    self._show_matches(queries, matches)
            self._checked = event.values
            self._refresh_problems()
        if self._checks_pending:
            self._checks_pending = False
            self.refresh_checks()

    def _show_guard(self) -> None:
        blocking = {h.field_id for h in guard.unresolved(self.hits, self.override)}
        for f in self.schema.fields:
            self.box(f.id).set_guard(f.id in blocking)
        labels = {f.id: f.label for f in self.schema.fields}
        labels[TICKET_URL_KEY] = "Ticket link"
        self.query_one(GuardPanel).show(
            self.hits, self.override, labels, has_customer=bool(self._known_customers())
        )

    def _show_matches(self, queries: tuple[str, ...], matches: list[IssueMatch]) -> None:
        self._last_queries = queries
        self.matches = matches
        empty = (
            "Nothing similar in the cache."
            if queries
            else "Type a title to look for existing issues."
        )
        self.query_one(SimilarIssues).show(self.matches, empty)

    def _known_customers(self) -> list[Customer]:
        """Every known customer: a public issue must name none of them, not only this one."""
        if self._customers is None:
            self._customers = self.store.tickets.customers()
        return self._customers

    def check_guard(self) -> list[guard.GuardHit]:
        """Check the current values now (before filing); updates the panel, returns the hits."""
        customer = self._guard_customer()
        text = public_text(self.schema, self.values)
        self.hits = guard.check_public(text, self._known_customers(), own=customer)
        self._show_guard()
        return self.hits

    def search_similar(self) -> list[IssueMatch]:
        """The similar issues for the current values, searched now unless already shown."""
        if self._checked == self.values and self._last_queries is not None:
            return self.matches
        queries = tuple(similar_issue_query(self.values, self.schema))
        if queries != self._last_queries:
            found = find_similar(self.store, self.values, self.schema, queries) if queries else []
            self._show_matches(queries, found)
        return self.matches

    def action_similar(self) -> None:
        self.remove_class("-preview")
        self.query_one(SimilarIssues).focus()

    @on(SimilarIssues.IssueChosen)
    def _issue_chosen(self, event: SimilarIssues.IssueChosen) -> None:
        offer_link(self, event.match)

    def action_override_guard(self) -> None:
        from oncall_tui.ui.screens.bug_report_filing import override_guard

        override_guard(self)

    # ---- preview -------------------------------------------------------------------------------

    def preview(self) -> IssuePreview:
        """The issue exactly as it will be filed."""
        return render_issue(self.schema, self.values, self.settings.scheme)

    async def action_toggle_preview(self) -> None:
        showing = not self.has_class("-preview")
        if showing:
            self._return_focus = self.focused
            await self.query_one("#preview-markdown", Markdown).update(
                preview_markdown(self.preview(), self.settings.repo)
            )
        self.set_class(showing, "-preview")
        if showing:
            self.query_one("#bug-report-preview").focus()
        elif self._return_focus is not None and self._return_focus.is_attached:
            self._return_focus.focus()
        else:
            self.box(self.schema.title_field.id).focus_input()

    # ---- submit, override, link instead: bug_report_filing ----------------------------------

    def _refresh_problems(self) -> None:
        """Keep the list from the last refused submit up to date as fields are fixed."""
        from oncall_tui.ui.screens.bug_report_filing import refresh_problems

        refresh_problems(self)

    def action_submit(self) -> None:
        from oncall_tui.ui.screens.bug_report_filing import submit

        submit(self)
