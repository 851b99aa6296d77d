"""ForecastScreen: "before I go offline for N hours", the clocks that breach meanwhile.

Business hours, holidays and pauses are the SLA engine's (``domain.handoff.forecast``). Each
row takes the ticket actions of the queue (`a` assign me, `r` reply) and `g` hands it to a
colleague. `A` acknowledges it in one key, as the handbook's on-call does ("acknowledging is
enough: gather facts, then research or escalate"): the ticket is taken (assigned to you) and
the on-call acknowledgement template is queued as a public reply, which answers its clock; both
wait out the undo window (`u`). When the acknowledgement cannot go as it is (a placeholder not
known, or the confidentiality guard holds it in a public thread) the reply dialog opens with it
instead. More breaches than
``[handoff] breach_threshold`` says so and offers the runbook for arranging a replacement.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from oncall_tui.domain.handoff import Forecast, forecast
from oncall_tui.settings.paths import styles_dir
from oncall_tui.ui.screens.label_actions import public_hits
from oncall_tui.ui.screens.prompt_screen import PromptScreen
from oncall_tui.ui.screens.reply_actions import open_compose_on, template_context
from oncall_tui.ui.screens.ticket_actions import TicketActions

#: The reply template ``A`` queues (``[templates.oncall-ack]``; a config may replace it).
ACK_TEMPLATE = "oncall-ack"
#: Finds the bundled runbook for handing the week over (its incoming steps: a replacement).
REPLACEMENT_SEARCH = "handoff"
STEPS = (1, 2, 4, 8, 12, 24, 48, 72)


def _cut(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class ForecastScreen(TicketActions, Screen[None]):
    """The tickets whose clocks breach before ``now + hours``."""

    CSS_PATH: ClassVar = [styles_dir() / "handoff.tcss"]
    BINDINGS: ClassVar = [
        Binding("escape,q", "back", "Back", id="forecast-back"),
        Binding("plus,equals_sign", "longer", "Longer", id="forecast-longer"),
        Binding("minus", "shorter", "Shorter", id="forecast-shorter"),
        Binding("a", "assign_me", "Assign me", id="forecast-assign-me"),
        Binding("g", "reassign", "Reassign", id="forecast-reassign"),
        Binding("A", "acknowledge", "Acknowledge", id="forecast-acknowledge"),
        Binding("r", "reply", "Reply", id="forecast-reply"),
        Binding("R", "replacement", "Replacement runbook", id="forecast-runbook"),
    ]

    def __init__(self, ctx: Any) -> None:
        super().__init__()
        self.ctx = ctx
        self.store = ctx.store
        self.config = ctx.config
        self.clock = ctx.clock
        self.templates: list[Any] = []
        self.hours = ctx.config.handoff.offline_hours
        self.result: Forecast | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="forecast-title")
        yield Label(id="forecast-warning")
        yield OptionList(id="forecast-list")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.templates = self.app._templates()
        self.watch(self.app, "store_revision", self.reload, init=False)
        self.reload()

    def reload(self, *_: object) -> None:
        """Recompute the forecast for the current number of hours."""
        now = self.clock()
        records = self.store.handoff.handoff_records(now, now)
        cfg = self.config.handoff
        fc = self.result = forecast(records, now, self.hours, self.config.sla, cfg.breach_threshold)
        tz = self.config.tz
        self.query_one("#forecast-title", Label).update(
            Text(
                f"Offline for {self.hours:g} h (until {fc.end.astimezone(tz):%a %d %b %H:%M}): "
                f"{len(fc.items)} clocks breach ({fc.already} already late)",
                style="bold",
            )
        )
        warning = self.query_one("#forecast-warning", Label)
        if fc.needs_replacement:
            warning.update(
                Text(
                    f"More than {fc.threshold} breaches projected: arrange a replacement "
                    "(R opens the runbook).",
                    style="bold",
                )
            )
            warning.add_class("-warning")
        else:
            warning.update(Text(f"Within the threshold ({fc.threshold})."))
            warning.remove_class("-warning")
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        rows = []
        for item, due in fc.items:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f"{item.ref:<18} ")
            line.append(f"{item.why:<22} ", style="bold")
            line.append(f"{due.astimezone(tz):%a %H:%M}  {(item.assignee or '—'):<24} ")
            line.append(_cut(item.subject, 40))
            rows.append(Option(line, id=str(item.ticket_id)))
        options.add_options(
            rows or [Option(Text("no clock breaches in this window"), disabled=True)]
        )
        if rows:
            options.highlighted = min(highlighted or 0, len(rows) - 1)
        options.focus()

    def current_id(self) -> int | None:
        options = self.query_one(OptionList)
        if options.highlighted is None or self.result is None or not self.result.items:
            return None
        option = options.get_option_at_index(options.highlighted)
        return int(option.id) if option.id else None

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_longer(self) -> None:
        self.hours = next((h for h in STEPS if h > self.hours), self.hours)
        self.reload()

    def action_shorter(self) -> None:
        self.hours = next((h for h in reversed(STEPS) if h < self.hours), self.hours)
        self.reload()

    def action_acknowledge(self) -> None:
        """Take the highlighted ticket and queue the on-call acknowledgement reply."""
        from oncall_tui.domain import guard
        from oncall_tui.domain.ops import OpKind
        from oncall_tui.domain.templates import render

        tid = self.current_id()
        if tid is None:
            return
        template = next((t for t in self.templates if t.id == ACK_TEMPLATE), None)
        name = self._ticket_name(tid, subject=False)
        if template is None:
            self.notify(
                f"No [templates.{ACK_TEMPLATE}] to acknowledge with: r replies with another.",
                severity="error",
                markup=False,
            )
            return
        ticket = self.store.tickets.get_ticket(tid)
        rendered = render(template, template_context(self, tid))
        public = guard.needs_guard(ticket.source, OpKind.REPLY)
        hits = public_hits(self, ticket, {"body": rendered.text}) if public else []
        if ticket.assignee != self.config.user:
            if (
                self._guard(
                    self.store.tickets.assign, tid, self.config.user, message=f"{name} taken"
                )
                is None
            ):
                return
        if rendered.missing or hits:
            why = (
                "fill in " + ", ".join("{" + n + "}" for n in rendered.missing)
                if rendered.missing
                else "the confidentiality guard holds it"
            )
            self.notify(
                f"{name} is yours; the acknowledgement needs a look ({why}): edit and queue it.",
                severity="warning",
                markup=False,
                timeout=6,
            )
            open_compose_on(self, tid, "reply", rendered.text, template=ACK_TEMPLATE)
            return
        self._guard(
            lambda: self.store.tickets.add_comment(
                tid, rendered.text, public=True, author=self.config.user
            ),
            message=f"{name} acknowledged: taken, the on-call acknowledgement queued (u undoes)",
        )

    def action_reassign(self) -> None:
        tid = self.current_id()
        if tid is None:
            return
        name = self._ticket_name(tid)

        def done(who: str | None) -> None:
            if who and who.strip():
                self._guard(
                    self.store.tickets.assign, tid, who.strip(), message=f"{name} assigned to {who}"
                )

        self.app.push_screen(PromptScreen(f"Hand {name} to (help-desk identity)"), done)

    def action_replacement(self) -> None:
        from textual.widgets import Input

        from oncall_tui.ui.screens.runbook_screen import RunbookScreen

        screen = RunbookScreen.from_context(self.ctx)

        def narrow() -> None:  # the runbook list filtered to the hand-over runbook
            screen.query_one("#runbook-search", Input).value = REPLACEMENT_SEARCH

        self.app.push_screen(screen)
        screen.call_after_refresh(narrow)
