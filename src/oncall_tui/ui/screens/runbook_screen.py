"""RunbookScreen: the runbooks for the ticket at hand, with a checklist kept per ticket.

Opened with `R` from the queue or the detail (for that ticket) or from the command palette
(no ticket: browse only). Wide terminals keep the ticket's summary in the left column above
the runbook list; narrow ones give the runbook the whole screen under a one-line header.

Runbooks are read once per run, off the UI thread, and kept in ``AppContext.extras``
(``runbook_cache``; the viewer and the step rows are ``widgets/runbook_viewer``); the
checklist lives in the store (``runbook_progress``), so it survives restarts. Placeholders
are filled from the ticket; customer text stays data (``Text`` objects, escaped Markdown).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, MarkdownViewer, OptionList, Static
from textual.widgets.markdown import MarkdownBlock
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from oncall_tui.data.runbook_library import LoadResult, load_runbooks
from oncall_tui.domain import sla as sla_rules
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.runbook_search import Suggestion, suggest
from oncall_tui.domain.runbooks import (
    Runbook,
    RunbookError,
    Step,
    StepKind,
    fill_placeholders,
    placeholder_context,
    render_with_progress,
    steps,
)
from oncall_tui.domain.tickets import Customer, Ticket
from oncall_tui.settings.config import Config
from oncall_tui.settings.paths import styles_dir
from oncall_tui.store import Store
from oncall_tui.ui.screens.runbook_cache import RunbookCache, problems_message, runbook_cache
from oncall_tui.ui.widgets.runbook_list import RunbookList
from oncall_tui.ui.widgets.runbook_viewer import RunbookViewer, markdown_heading, step_prompt
from oncall_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from oncall_tui.ui.context import AppContext

#: Same breakpoint as the queue: from this many columns the ticket stays beside the runbook.
WIDE = 150
#: SLA states that colour the ticket's countdown (classes ``-warning``... in runbook.tcss).
SLA_CLASSES = ("-ok", "-warning", "-critical", "-breached", "-paused")


def ticket_title(ticket: Ticket) -> str:
    """``zendesk #123 Subject``: the ticket as the queue and detail name it, then the subject."""
    from oncall_tui.domain.tickets import ticket_ref

    return f"{ticket_ref(ticket.source, ticket.remote_id)} {ticket.subject}"


# --- the screen ---------------------------------------------------------------------------------


class RunbookScreen(Screen[None]):
    """Runbooks for one ticket (or none): search, suggestions, Markdown, a ticking checklist."""

    CSS_PATH: ClassVar = [styles_dir() / "runbook.tcss"]  # loaded when first shown
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="runbook-search"),
        Binding("space,x", "tick", "Tick step", id="runbook-tick"),
        Binding("y", "copy_step", "Copy step", id="runbook-copy"),
        Binding("escape,q", "back", "Back", id="back"),
        Binding("f5", "reload_runbooks", "Reload runbooks", show=False, id="runbook-reload"),
    ]

    class RunbooksLoaded(Message):
        """The loader thread finished (posted from the worker)."""

        def __init__(self, result: LoadResult) -> None:
            super().__init__()
            self.result = result

    def __init__(
        self,
        store: Store,
        config: Config,
        clock: Clock,
        cache: RunbookCache,
        ticket_id: int | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.clock = clock
        self.cache = cache
        self.ticket_id = ticket_id
        self.ticket: Ticket | None = None
        self.customer: Customer | None = None
        self.context: dict[str, str] = {}
        self.suggestions: list[Suggestion] = []
        self.progress: dict[str, set[int]] = {}
        self.runbook: Runbook | None = None
        self.steps: list[Step] = []
        self._step_keys: list[tuple[bool, str]] = []  # (ticked, text) each step row shows
        self._wanted_markdown = ""
        self._shown_markdown: str | None = None
        self._rendering = False
        self._scroll_home = False

    @classmethod
    def from_context(cls, ctx: AppContext, ticket_id: int | None = None) -> RunbookScreen:
        """The screen for ``ticket_id`` (None: no ticket) with the run's store and cache."""
        return cls(ctx.store, ctx.config, ctx.clock, runbook_cache(ctx), ticket_id)

    # ---- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(self.config.sla)
        yield Static(id="runbook-header")
        with Horizontal(id="runbook-body"):
            with Vertical(id="runbook-side"):
                with Vertical(id="runbook-ticket"):
                    yield Static(id="runbook-ticket-meta")
                    yield Static(id="runbook-ticket-sla")
                yield Input(placeholder="search runbooks", id="runbook-search")
                yield RunbookList(id="runbook-list")
            with Vertical(id="runbook-main"):
                yield RunbookViewer(open_links=False, id="runbook-viewer")
                yield OptionList(id="runbook-steps")
        yield Footer(compact=True)

    @property
    def runbook_list(self) -> RunbookList:
        return self.query_one(RunbookList)

    @property
    def step_list(self) -> OptionList:
        return self.query_one("#runbook-steps", OptionList)

    @property
    def viewer(self) -> MarkdownViewer:
        return self.query_one(RunbookViewer)

    def on_mount(self) -> None:
        self.query_one("#runbook-list", RunbookList).border_title = "Runbooks"
        self.step_list.border_title = "Steps"
        self.step_list.border_subtitle = "space ticks · y copies"
        self.watch(self.app, "store_revision", self.reload, init=False)
        self.set_interval(1.0, self.tick)
        self._read_ticket()
        self.tick()
        if self.cache.result is None:
            self.runbook_list.set_options([Option(Text("Loading runbooks…"), disabled=True)])
            self.load_library()
        else:
            self._show_list()
        self.runbook_list.focus()

    # ---- loading -------------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="runbook",
        exit_on_error=False,
        description="Load runbooks",
    )
    def load_library(self) -> None:
        """Read the bundled and team runbooks (disk I/O: never on the UI thread)."""
        try:
            result = load_runbooks(self.cache.team_dir)
        except Exception as exc:  # a loader bug must not take the app down
            result = LoadResult([], [RunbookError("runbooks", f"cannot load runbooks: {exc}")])
        self.post_message(self.RunbooksLoaded(result))

    @on(RunbooksLoaded)
    def _loaded(self, event: RunbooksLoaded) -> None:
        self.cache.result = event.result
        if event.result.problems and not self.cache.reported:
            self.notify(
                problems_message(event.result.problems),
                title="Some runbooks were skipped",
                severity="warning",
                timeout=15,
                markup=False,
            )
        self.cache.reported = True
        self._read_progress()
        self._show_list()
        fresh = self.cache.by_slug().get(self.runbook.slug) if self.runbook else None
        if fresh is not None and fresh != self.runbook:  # F5 after editing the shown file
            self.runbook = fresh
            self._show_steps(reset=True)
            self._render_runbook()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group.startswith("runbook") and event.state == WorkerState.ERROR:
            self.notify(f"Runbooks: {event.worker.error}", severity="error", markup=False)

    def action_reload_runbooks(self) -> None:
        """Read the runbook files again (after editing a team runbook)."""
        self.cache.reported = False
        self.load_library()

    # ---- data ----------------------------------------------------------------------------

    @property
    def runbooks(self) -> list[Runbook]:
        return self.cache.result.runbooks if self.cache.result else []

    def _read_ticket(self) -> None:
        self.ticket = self.customer = None
        if self.ticket_id is not None:
            try:
                self.ticket = self.store.tickets.get_ticket(self.ticket_id)
            except LookupError:
                self.ticket = None
        if self.ticket is not None:
            self.customer = self.store.tickets.get_customer(self.ticket.customer_id)
        self.context = placeholder_context(self.ticket, self.customer) if self.ticket else {}
        self._read_progress()
        self._show_ticket()

    def _read_progress(self) -> None:
        self.suggestions = suggest(self.runbooks, self.ticket) if self.ticket else []
        self.progress = (
            self.store.tickets.runbook_progress(self.ticket.id) if self.ticket is not None else {}
        )

    def reload(self, *_: object) -> None:
        """Re-query the ticket and its progress (the store changed: a tick, a sync)."""
        if not self.is_attached:
            return
        self._read_ticket()
        self._show_list()
        if self.runbook is not None:
            self._show_steps()
            self._render_runbook()

    # ---- ticket summary ---------------------------------------------------------------------

    def _show_ticket(self) -> None:
        meta = self.query_one("#runbook-ticket-meta", Static)
        header = Text(" Runbooks", style="bold", no_wrap=True, overflow="ellipsis")
        ticket = self.ticket
        if ticket is None:
            note = "no ticket: browse only, progress is not recorded"
            meta.update(Text(note, style="italic"))
            header.append(f" · {note}", style="italic")
            self.query_one("#runbook-header", Static).update(header)
            return
        text = Text()
        text.append(ticket_title(ticket), style="bold")
        customer = self.customer
        if customer is not None:
            text.append("\n")
            text.append(customer.name)
            text.append(f" · {customer.codename or 'no codename'} · {customer.plan}")
        text.append(f"\n{ticket.priority} · {ticket.status} · {ticket.assignee or 'unassigned'}")
        text.append(f"\nLabels: {', '.join(ticket.labels) or '—'}")
        meta.update(text)
        header.append(" · ")
        header.append(ticket_title(ticket))
        if customer is not None:
            header.append(f" · {customer.name}")
        self.query_one("#runbook-header", Static).update(header)

    def tick(self) -> None:
        """Once a second: the status bar and the ticket's SLA countdown."""
        now = self.clock()
        self.query_one(StatusBar).now = now
        sla = self.query_one("#runbook-ticket-sla", Static)
        ticket = self.ticket
        if ticket is None:
            sla.display = False
            return
        state = sla_rules.ticket_state(ticket, now, self.config.sla)
        if ticket.first_response_at is not None:
            text = "SLA met: answered"
        elif ticket.sla_due is None or ticket.is_done:
            text = "SLA: no response target"
        else:
            left = sla_rules.countdown_text(ticket.sla_due, ticket.is_paused, now)
            text = f"SLA {left} · {state}"
        sla.display = True
        sla.update(Text(text))
        for name in SLA_CLASSES:
            sla.set_class(name == f"-{state}", name)

    # ---- list and search -----------------------------------------------------------------

    def _show_list(self) -> None:
        query = self.query_one("#runbook-search", Input).value
        self.runbook_list.show(self.runbooks, self.suggestions, query, self.progress)
        if not self.runbooks and self.cache.result is not None:
            self.runbook_list.set_options([Option(Text("No runbooks found."), disabled=True)])

    @on(Input.Changed, "#runbook-search")
    def _search_changed(self) -> None:
        self._show_list()

    @on(Input.Submitted, "#runbook-search")
    def _search_submitted(self) -> None:
        self.runbook_list.focus()

    @on(RunbookList.RunbookHighlighted)
    def _runbook_highlighted(self, event: RunbookList.RunbookHighlighted) -> None:
        if event.runbook is not None and event.runbook != self.runbook:
            self.runbook = event.runbook
            self._scroll_home = True
            self._show_steps(reset=True)
            self._render_runbook()

    @on(RunbookList.RunbookChosen)
    def _runbook_chosen(self) -> None:
        self.step_list.focus()

    def action_search(self) -> None:
        self.query_one("#runbook-search", Input).focus()

    # ---- steps ---------------------------------------------------------------------------

    @property
    def done(self) -> set[int]:
        """Ticked checklist items of the shown runbook for this ticket."""
        return self.progress.get(self.runbook.slug, set()) if self.runbook else set()

    @property
    def current_step(self) -> Step | None:
        index = self.step_list.highlighted
        if index is None or not 0 <= index < len(self.steps):
            return None
        return self.steps[index]

    def step_text(self, step: Step) -> str:
        """The step as copied: placeholders filled, no Markdown escaping."""
        return fill_placeholders(step.text, self.context)

    def _show_steps(self, *, reset: bool = False) -> None:
        step_list = self.step_list
        if self.runbook is None:
            step_list.clear_options()
            return
        if reset:
            self.steps = steps(self.runbook)
        done = self.done
        keys = [(s.checklist_index in done, self.step_text(s)) for s in self.steps]
        if reset:
            step_list.set_options(
                Option(step_prompt(s, self.context, key[0]), id=f"step-{s.index}")
                for s, key in zip(self.steps, keys, strict=True)
            )
            step_list.highlighted = 0 if self.steps else None
        else:  # a tick or a sync: redraw only the rows that changed
            for s, key, old in zip(self.steps, keys, self._step_keys, strict=True):
                if key != old:
                    step_list.replace_option_prompt_at_index(
                        s.index, step_prompt(s, self.context, key[0])
                    )
        self._step_keys = keys

    @on(OptionList.OptionHighlighted, "#runbook-steps")
    def _step_highlighted(self) -> None:
        if not self._rendering:
            self._mark_current_step(scroll=self.step_list.has_focus)

    def action_tick(self) -> None:
        """Tick or untick the selected checklist item, stored for this ticket."""
        step = self.current_step
        if self.ticket is None or self.runbook is None:
            self.notify("Open runbooks from a ticket (R) to keep a checklist.", severity="warning")
            return
        if step is None or step.checklist_index is None:
            self.notify("Only checklist items ([ ]) can be ticked.", severity="warning")
            return
        done = step.checklist_index not in self.done
        try:
            self.store.tickets.set_runbook_item(
                self.ticket.id, self.runbook.slug, step.checklist_index, done
            )
        except (sqlite3.Error, LookupError, ValueError) as exc:
            self.notify(f"Could not save the checklist: {exc}", severity="error", markup=False)
            return
        # Every screen re-queries on the bump: this one (watched in on_mount) and the
        # detail behind it, whose "Runbooks" progress lines change.
        self.app.store_revision += 1  # type: ignore[attr-defined]

    def action_copy_step(self) -> None:
        """Copy the selected step (or code block), placeholders filled."""
        step = self.current_step
        if step is None:
            self.notify("No step selected.", severity="warning")
            return
        text = self.step_text(step)
        self.app.copy_to_clipboard(text)
        what = "code block" if step.kind is StepKind.CODE else f"step {step.index + 1}"
        first = text.split("\n", 1)[0]
        self.notify(f"Copied {what}: {first}", markup=False, timeout=3)

    # ---- Markdown ---------------------------------------------------------------------------

    def runbook_markdown(self, runbook: Runbook) -> str:
        """The runbook as shown: title, summary, body with ticks and filled placeholders."""
        done = self.progress.get(runbook.slug, set())
        body = fill_placeholders(render_with_progress(runbook, done), self.context, markdown=True)
        return markdown_heading(runbook) + body

    def _render_runbook(self) -> None:
        if self.runbook is None:
            return
        self._wanted_markdown = self.runbook_markdown(self.runbook)
        if self._rendering:
            return  # the running render picks the new text up when it is done
        if self._wanted_markdown == self._shown_markdown:
            self._mark_current_step(scroll=self.step_list.has_focus)
            return
        self._rendering = True
        self.run_worker(
            self._render_markdown(),
            group="runbook-render",
            exit_on_error=False,
            description="Render runbook",
        )

    async def _render_markdown(self) -> None:
        """Update the Markdown until it shows the latest wanted text (no cancelled updates)."""
        viewer = self.viewer
        try:
            while self._shown_markdown != self._wanted_markdown:
                markdown = self._wanted_markdown
                await viewer.document.update(markdown)
                self._shown_markdown = markdown
            if self._scroll_home:
                self._scroll_home = False
                viewer.scroll_home(animate=False)
            self._mark_current_step(scroll=self.step_list.has_focus)
        finally:
            self._rendering = False

    def _mark_current_step(self, *, scroll: bool) -> None:
        """Highlight the Markdown block of the selected step (the innermost that holds it)."""
        document = self.viewer.document
        for block in document.query(".-current-step"):
            block.remove_class("-current-step")
        step = self.current_step
        if step is None:
            return
        assert self.runbook is not None  # a step is selected only while a runbook is shown
        line = step.line_no - 1 + markdown_heading(self.runbook).count("\n")
        best: MarkdownBlock | None = None
        best_span = 0
        for block in document.query(MarkdownBlock):
            start, end = block.source_range
            if start <= line < end and (best is None or end - start <= best_span):
                best, best_span = block, end - start
        if best is not None:
            best.add_class("-current-step")
            if scroll:
                best.scroll_visible(animate=False)

    # ---- leaving ---------------------------------------------------------------------------

    def action_back(self) -> None:
        """Escape in the search goes back to the list; otherwise leave the screen."""
        if isinstance(self.focused, Input):
            self.runbook_list.focus()
            return
        self.dismiss(None)
