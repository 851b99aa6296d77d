"""HandoffScreen: the on-call week as charts and lists; post it, draft the retro, forecast.

The numbers come from :func:`oncall_tui.domain.handoff.build_handoff` over the store's
``handoff_records``; the screen only draws them (textual-plotext charts: breaches per day, the
first-reply time distribution, attainment by plan) and hands edits to the store.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static, TextArea
from textual_plotext import PlotextPlot

from oncall_tui.domain.guard import describe as describe_hit
from oncall_tui.domain.handoff import Handoff, attainment_by_plan
from oncall_tui.domain.handoff_md import handoff_markdown, retro_markdown
from oncall_tui.domain.handoff_post import default_start, guard_hits, handoff_op, post_title
from oncall_tui.domain.sla import format_remaining
from oncall_tui.settings.paths import styles_dir
from oncall_tui.store.handoff import HANDOFF_DRAFT


def _stable_plotext() -> None:
    """plotext de-duplicates ticks through a ``set``, so where tick labels land depends on
    the interpreter's hash seed (one column left or right from one run to the next). Its own
    commented-out alternative keeps the order: use that, so a chart is the same every run."""
    import plotext._utility as plotext_utility

    def no_duplicates(data: Any) -> list[Any]:
        return list(dict.fromkeys(data))

    plotext_utility.no_duplicates = no_duplicates


_stable_plotext()


def _dur(seconds: int | None) -> str:
    return "—" if seconds is None else format_remaining(seconds)


class HandoffScreen(Screen[None]):
    """The week: `p` edits and posts the summary, `t` the retro, `f` the breach forecast."""

    CSS_PATH: ClassVar = [styles_dir() / "handoff.tcss"]
    BINDINGS: ClassVar = [
        Binding("escape,q", "back", "Back", id="handoff-back"),
        Binding("p", "post", "Edit & post", id="handoff-post"),
        Binding("t", "retro", "Retro", id="handoff-retro"),
        Binding("f", "forecast", "Forecast", id="handoff-forecast"),
    ]

    def __init__(self, ctx: Any) -> None:
        super().__init__()
        self.ctx = ctx
        self.handoff: Handoff | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="handoff-title")
        with Horizontal(id="handoff-charts"):
            yield PlotextPlot(id="chart-breaches")
            yield PlotextPlot(id="chart-first-reply")
            yield PlotextPlot(id="chart-attainment")
        with VerticalScroll(id="handoff-lists"):
            yield Static(id="handoff-numbers")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.watch(self.app, "store_revision", self.reload, init=False)
        self.reload()

    def compute(self) -> Handoff:
        """The week up to now, from the last handoff posted (else 7 days)."""
        store, cfg = self.ctx.store, self.ctx.config
        now = self.ctx.clock()
        start = default_start(store.handoff.last_handoff_at(), now)
        result: Handoff = store.handoff.handoff_summary(
            start, now, cfg.sla, cfg.handoff.next_shift_hours
        )
        return result

    def reload(self, *_: object) -> None:
        """Recompute the week and redraw."""
        h = self.handoff = self.compute()
        s = h.sla
        tz = self.ctx.config.tz
        self.query_one("#handoff-title", Label).update(
            Text(
                f"On-call week {h.window.start.astimezone(tz):%a %d %b %H:%M} → "
                f"{h.window.end.astimezone(tz):%a %d %b %H:%M}: {len(h.alarms)} alarms, "
                f"{len(s.breaches)} breaches, first reply median {_dur(s.first_reply_median)}"
                f" · p90 {_dur(s.first_reply_p90)}",
                style="bold",
            )
        )
        days = [d.strftime("%a") for d, _n in s.breaches_per_day]
        plot = self.query_one("#chart-breaches", PlotextPlot)
        plot.plt.clear_figure()
        # Numeric positions and explicit ticks: plotext places text labels differently from
        # one build to the next (the pictures must not change between runs).
        positions = [float(i) for i in range(1, len(days) + 1)]
        plot.plt.bar(positions, [n for _d, n in s.breaches_per_day])
        plot.plt.xticks(positions, days)
        plot.plt.title("Breaches per day")
        plot.refresh()
        hours = [x / 3600 for x in s.first_reply_seconds]
        plot = self.query_one("#chart-first-reply", PlotextPlot)
        plot.plt.clear_figure()
        if hours:
            plot.plt.hist(hours, bins=12)
        plot.plt.title("First reply (hours)")
        plot.refresh()
        plans = attainment_by_plan(s)
        plot = self.query_one("#chart-attainment", PlotextPlot)
        plot.plt.clear_figure()
        if plans:
            ticks = [float(i) for i in range(1, len(plans) + 1)]
            plot.plt.bar(ticks, [round(pct) for _p, pct, _n in plans])
            plot.plt.xticks(ticks, [p for p, _pct, _n in plans])
            plot.plt.ylim(0, 100)
        plot.plt.title("Attainment by plan (%)")
        plot.refresh()
        self.query_one("#handoff-numbers", Static).update(self._lists(h))

    def _lists(self, h: Handoff) -> Text:
        """Alarms, impact, watch as plain text (customer text is data, never markup)."""
        out = Text(no_wrap=True, overflow="ellipsis")
        sections = [
            (
                f"Alarms ({len(h.alarms)})",
                [
                    f"{a.ref}  ack {_dur(a.seconds_to_ack)} / {a.target}"
                    f"{'  LATE' if a.breached else ''}  {a.subject}"
                    for a in h.alarms
                ],
            ),
            (
                f"With end-user impact ({len(h.impact)})",
                [f"{i.ref}  {i.why}  {i.subject}" for i in h.impact],
            ),
            (
                f"Without end-user impact ({len(h.no_impact)})",
                [f"{i.ref}  {i.subject}" for i in h.no_impact],
            ),
            (f"To watch ({len(h.watch)})", [f"{i.ref}  {i.why}  {i.subject}" for i in h.watch]),
        ]
        for title, lines in sections:
            out.append(title + "\n", style="bold")
            for line in lines or ["—"]:
                flat = " ".join(line.split())
                out.append("  " + (flat if len(flat) <= 74 else flat[:73] + "…") + "\n")
        return out

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_post(self) -> None:
        """Edit the summary (kept as a draft) and post it through the outbox."""
        h = self.handoff or self.compute()
        store = self.ctx.store
        found = store.drafts.all(HANDOFF_DRAFT)
        open_drafts = [d for d in found if d.state == "draft"]
        if open_drafts:
            draft_id, body = open_drafts[0].id, open_drafts[0].fields.get("body", "")
        else:
            body = handoff_markdown(h)
            draft_id = store.drafts.create_draft(HANDOFF_DRAFT, None, {"body": body})
        self.app.push_screen(HandoffPostScreen(self.ctx, h, draft_id, body))

    def action_retro(self) -> None:
        """The retro draft, pre-filled with the week's facts; export it as Markdown."""
        h = self.handoff or self.compute()
        self.app.push_screen(RetroScreen(self.ctx, retro_markdown(h), h))

    def action_forecast(self) -> None:
        """What breaches while I am offline."""
        from oncall_tui.ui.screens.forecast_screen import ForecastScreen

        self.app.push_screen(ForecastScreen(self.ctx))


class HandoffPostScreen(Screen[None]):
    """The summary in an editor: a draft until `ctrl+s` posts it (after the guard)."""

    CSS_PATH: ClassVar = [styles_dir() / "handoff.tcss"]
    BINDINGS: ClassVar = [
        Binding("ctrl+s", "send", "Post", id="handoff-send", priority=True),
        Binding("escape", "back", "Back (keeps the draft)", id="handoff-post-back"),
    ]

    def __init__(self, ctx: Any, handoff: Handoff, draft_id: int, body: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.handoff = handoff
        self.draft_id = draft_id
        self.body = body

    def compose(self) -> ComposeResult:
        dest = self.ctx.config.handoff.post_to
        where = dest.describe() if dest else "nowhere yet: set [handoff] post_to in the config"
        with Vertical(id="handoff-post"):
            yield Label(Text(f"Posts to {where}. A draft until sent."), id="handoff-dest")
            yield Label(id="handoff-guard")
            yield TextArea(self.body, id="handoff-editor", soft_wrap=True)
        yield Footer(compact=True)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.body = event.text_area.text
        self.ctx.store.drafts.save_draft(self.draft_id, {"body": self.body})

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_send(self) -> None:
        cfg, store = self.ctx.config, self.ctx.store
        dest = cfg.handoff.post_to
        if dest is None:
            self.notify(
                "Nowhere to post: set [handoff] post_to (github:OWNER/REPO, slack:CHANNEL "
                "or slack:CHANNEL:THREAD_TS); the draft is kept.",
                severity="warning",
                markup=False,
            )
            return
        hits = guard_hits(self.body, store.tickets.customers())
        if hits:
            first = describe_hit(hits[0])
            more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
            self.query_one("#handoff-guard", Label).update(
                Text(f"Not posted: {first}{more}. Edit it out (codenames are fine).")
            )
            self.notify(f"Not posted: {first}{more}", severity="error", markup=False)
            return
        now = self.ctx.clock()
        op = handoff_op(dest, post_title(self.handoff.window.end), self.body, str(uuid.uuid4()))
        store.handoff.queue_handoff_post(self.draft_id, self.body, op, now)
        self.app.after_edit(  # type: ignore[attr-defined]
            f"Handoff queued: it goes to {dest.describe()} on the next sync"
        )
        self.app.pop_screen()


class RetroScreen(Screen[None]):
    """The retro's three questions with the week's facts; `ctrl+s` exports Markdown."""

    CSS_PATH: ClassVar = [styles_dir() / "handoff.tcss"]
    BINDINGS: ClassVar = [
        Binding("ctrl+s", "export", "Export .md", id="retro-export", priority=True),
        Binding("escape", "back", "Back", id="retro-back"),
    ]

    def __init__(self, ctx: Any, text: str, handoff: Handoff) -> None:
        super().__init__()
        self.ctx = ctx
        self.text = text
        self.handoff = handoff

    def compose(self) -> ComposeResult:
        yield Label(Text("Retro draft: edit, then export it as Markdown."), id="retro-title")
        yield TextArea(self.text, id="retro-editor", soft_wrap=True)
        yield Footer(compact=True)

    def export_path(self) -> Path:
        """``<data dir>/retros/retro-YYYY-MM-DD.md``."""
        end = self.handoff.window.end - timedelta(seconds=1)
        return Path(self.ctx.paths.data_dir) / "retros" / f"retro-{end:%Y-%m-%d}.md"

    def action_export(self) -> None:
        path = self.export_path()
        text = self.query_one(TextArea).text
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"Could not write {path}: {exc.strerror}", severity="error", markup=False)
            return
        self.notify(f"Retro saved to {path}", markup=False)

    def action_back(self) -> None:
        self.app.pop_screen()
