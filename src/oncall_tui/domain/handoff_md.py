"""The handoff summary and the retro draft as Markdown that reads well in Slack and GitHub.

Tables for the numbers and compact bar charts (block characters in a code block, so they keep
their alignment everywhere). Customer text (subjects) is escaped for Markdown tables.
"""

from __future__ import annotations

from datetime import datetime

from oncall_tui.domain.handoff import Handoff, Item, attainment_by_plan
from oncall_tui.domain.sla import format_remaining

BAR = "█"


def _cell(text: str) -> str:
    """One line, pipes escaped, so customer text cannot break a table."""
    return " ".join(text.split()).replace("|", "\\|")


def _when(at: datetime | None) -> str:
    return "—" if at is None else at.strftime("%a %d %b %H:%M UTC")


def _dur(seconds: int | None) -> str:
    return "—" if seconds is None else format_remaining(seconds)


def bars(
    rows: list[tuple[str, float]], width: int = 20, unit: str = "", top: float | None = None
) -> list[str]:
    """Horizontal bars scaled to ``top`` (default: the largest value)."""
    top = top or max((v for _, v in rows), default=0) or 1
    label_w = max((len(k) for k, _ in rows), default=0)
    out = []
    for k, v in rows:
        n = round(width * v / top)
        shown = f"{v:.0f}{unit}" if isinstance(v, float) else f"{v}{unit}"
        out.append(f"{k.ljust(label_w)} {BAR * n}{' ' if n else ''}{shown}")
    return out


def _items(items: tuple[Item, ...], empty: str) -> list[str]:
    if not items:
        return [f"_{empty}_", ""]
    lines = ["| ticket | subject | why | holder |", "|---|---|---|---|"]
    for i in items:
        lines.append(
            f"| {i.ref} | {_cell(i.subject)} | {_cell(i.why)} | {_cell(i.assignee or '—')} |"
        )
    return [*lines, ""]


def handoff_markdown(h: Handoff) -> str:
    """The summary posted on Monday morning."""
    w = h.window
    s = h.sla
    out = [f"## On-call handoff: {_when(w.start)} → {_when(w.end)}", ""]
    out += [f"### Alarms ({len(h.alarms)})", ""]
    if h.alarms:
        out += ["| alert | opened | acknowledged after | target | |", "|---|---|---|---|---|"]
        for a in h.alarms:
            verdict = "late" if a.breached else ("open" if a.acknowledged_at is None else "met")
            out.append(
                f"| {a.ref} {_cell(a.subject)} | {_when(a.opened_at)} | "
                f"{_dur(a.seconds_to_ack)} | {a.target} | {verdict} |"
            )
        out.append("")
    else:
        out += ["_No alarms._", ""]
    out += [f"### Open issues with end-user impact ({len(h.impact)})", ""]
    out += _items(h.impact, "None.")
    out += [f"### Open issues without end-user impact ({len(h.no_impact)})", ""]
    out += _items(h.no_impact, "None.")
    out += [f"### Things to watch ({len(h.watch)})", ""]
    out += _items(h.watch, "Nothing.")
    out += ["### SLA for the week", ""]
    if s.attainment:
        out += [
            "| plan | priority | clock | met | total | attainment |",
            "|---|---|---|---|---|---|",
        ]
        for row in s.attainment:
            out.append(
                f"| {row.plan} | {row.priority} | {row.kind} reply | {row.met} | {row.total} | "
                f"{row.percent:.0f}% |"
            )
        out.append("")
    else:
        out += ["_No response was due this week._", ""]
    out.append(
        f"First reply: median {_dur(s.first_reply_median)}, p90 {_dur(s.first_reply_p90)} "
        f"over {len(s.first_reply_seconds)} tickets. Breaches: {len(s.breaches)}."
    )
    out.append("")
    out += ["```", "breaches per day"]
    out += bars([(d.strftime("%a %d"), n) for d, n in s.breaches_per_day])
    plans = attainment_by_plan(s)
    if plans:
        out += ["", "attainment by plan"]
        out += bars([(p, pct) for p, pct, _n in plans], unit="%", top=100)
    if s.breaches_by_holder:
        out += ["", "breaches by holder"]
        out += bars(list(s.breaches_by_holder))
    out += ["```", ""]
    return "\n".join(out)


def retro_markdown(h: Handoff) -> str:
    """The weekly retro's three questions, pre-filled with the week's facts to start from."""
    s = h.sla
    worst = max(s.breaches, key=lambda b: (b.late_seconds, -b.ticket_id), default=None)
    busiest = max(s.breaches_per_day, key=lambda dn: (dn[1], -dn[0].toordinal()), default=None)
    total = sum(a.total for a in s.attainment)
    met = sum(a.met for a in s.attainment)
    facts = [
        f"- {met} of {total} responses on time" + (f" ({100 * met / total:.0f}%)" if total else ""),
        f"- first reply: median {_dur(s.first_reply_median)}, p90 {_dur(s.first_reply_p90)}",
        f"- {len(h.alarms)} alarms, {sum(1 for a in h.alarms if a.breached)} acknowledged late",
    ]
    worse = []
    if worst is not None:
        worse.append(
            f"- worst breach: {worst.ref} ({worst.kind} reply), {_dur(worst.late_seconds)} "
            f"late, held by {worst.holder}"
        )
    if busiest is not None and busiest[1]:
        worse.append(f"- busiest day: {busiest[0].strftime('%A %d %b')}, {busiest[1]} breaches")
    if h.longest_investigation is not None:
        item, since = h.longest_investigation
        days = (h.window.end - since).days
        worse.append(
            f"- longest investigation: {item.ref} {_cell(item.subject)}, `~investigate` "
            f"since {_when(since)}" + (f" ({days} days)" if days >= 1 else "")
        )
    remember = [f"- keep an eye on {i.ref}: {_cell(i.why)}" for i in h.watch[:5]]
    out = [
        f"## On-call retro: week ending {h.window.end.strftime('%a %d %b %Y')}",
        "",
        "### What went well?",
        "",
        *facts,
        "",
        "### What could have gone better?",
        "",
        *(worse or ["- (nothing breached)"]),
        "",
        "### What to remember next time?",
        "",
        *(remember or ["-"]),
        "",
    ]
    return "\n".join(out)
