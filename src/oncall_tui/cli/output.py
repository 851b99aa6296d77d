"""What the scripting commands print: the documented ticket object, its SLA clocks, the table
that fits the terminal, CSV and JSON, every string made inert first.

Output that is data never carries a terminal escape from customer text: every string goes
through the UI's inert rule (:func:`oncall_tui.domain.text.clean_text`) before it is printed,
in JSON too (JSON escapes C0 controls but not C1 ones, which some terminals obey).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from oncall_tui.domain.text import clean_line, clean_text
from oncall_tui.domain.tickets import BACKEND_NAMES, Source, Ticket

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
PREFIX = "oncall-tui: error: "


class CliProblem(Exception):
    """A bad REF, view, field...: one line on stderr, with ``code`` as the exit status."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def ref_of(ticket: Ticket) -> str:
    """How a script names a ticket: ``zendesk:41165``, ``acme/product#1204``,
    ``slack:C0123:1700000000.000100``; a ticket no backend has confirmed yet ``local:ID``."""
    if not ticket.remote_id:
        return f"local:{ticket.id}"
    if ticket.source is Source.TRACKER:
        return ticket.remote_id
    return f"{BACKEND_NAMES[ticket.source]}:{ticket.remote_id}"


def utc_text(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sla_clocks(ticket: Ticket, now: datetime, critical_seconds: int) -> list[dict[str, Any]]:
    """Every SLA clock of ``ticket`` at ``now``, the one that orders the queue first.

    The one place the CLI reads SLA values (the stored due, warning instant and target the
    queue uses): when a ticket keeps several clocks, they are listed here.
    """
    from oncall_tui.domain import sla as sla_rules

    is_open = not ticket.is_done
    # As the queue stores them: a running clock has a due (a breached one: when it breached,
    # which stays so while it waits), a paused one a target and no due.
    running = is_open and ticket.sla_target is not None and ticket.sla_due is not None
    paused = is_open and ticket.sla_target is not None and ticket.sla_due is None
    state = sla_rules.SlaStateName.NONE
    if paused:
        state = sla_rules.SlaStateName.PAUSED
    elif running:
        state = sla_rules.state_at(ticket.sla_due, ticket.sla_warn_at, False, now, critical_seconds)
    left = None
    if running and ticket.sla_due is not None:
        left = int((ticket.sla_due - now).total_seconds() // 1)
    return [
        {
            "name": "reply",
            "state": str(state),
            "target": ticket.sla_target,
            "due": utc_text(ticket.sla_due) if is_open else None,
            "warn_at": utc_text(ticket.sla_warn_at) if is_open else None,
            "paused": paused,
            "seconds_left": left,
            "countdown": "—"
            if str(state) == "none"
            else "paused"
            if paused
            else sla_rules.countdown_text(ticket.sla_due, False, now),
        }
    ]


def inert(value: Any) -> Any:
    """``value`` with every string made inert (control characters shown, never obeyed)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_line(str(k)): inert(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [inert(v) for v in value]
    return value


def ticket_object(store: Any, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """The documented JSON object of one ticket (README, "Scripting")."""
    customer = store.tickets.get_customer(ticket.customer_id)
    clocks = sla_clocks(ticket, now, store.sla.critical_seconds)
    return {
        "ref": ref_of(ticket),
        "source": str(ticket.source),
        "backend": BACKEND_NAMES[ticket.source],
        "remote_id": ticket.remote_id,
        "url": ticket.url,
        "subject": ticket.subject,
        "status": str(ticket.status),
        "priority": str(ticket.priority),
        "channel": str(ticket.channel),
        "assignee": ticket.assignee,
        "requester": ticket.requester,
        "customer": customer.name if customer else None,
        "codename": customer.codename if customer else None,
        "plan": customer.plan if customer else None,
        "labels": list(ticket.labels),
        "opened_at": utc_text(ticket.opened_at),
        "updated_at": utc_text(ticket.updated_at),
        "first_response_at": utc_text(ticket.first_response_at),
        "unsent": ticket.pending_ops,
        "conflict": ticket.conflict,
        "sla": clocks[0],
        "clocks": clocks,
    }


#: Flat fields for the table and CSV: name → how to read it from a ticket object.
FLAT_FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "sla": lambda o: o["sla"]["countdown"],
    "sla_state": lambda o: o["sla"]["state"],
    "sla_due": lambda o: o["sla"]["due"],
    "sla_seconds_left": lambda o: o["sla"]["seconds_left"],
    "sla_target": lambda o: o["sla"]["target"],
    "priority": lambda o: o["priority"],
    "ref": lambda o: o["ref"],
    "subject": lambda o: ("↻" if o["unsent"] else "⚠" if o["conflict"] else "") + o["subject"],
    "status": lambda o: o["status"],
    "assignee": lambda o: (o["assignee"] or "—").split("@")[0],
    "customer": lambda o: " ".join(x for x in (o["codename"], o["customer"]) if x) or "—",
    "plan": lambda o: o["plan"] or "—",
    "labels": lambda o: ";".join(o["labels"]),
    "source": lambda o: o["source"],
    "opened_at": lambda o: o["opened_at"],
    "updated_at": lambda o: o["updated_at"],
    "requester": lambda o: o["requester"] or "",
    "url": lambda o: o["url"] or "",
    "unsent": lambda o: o["unsent"],
}
DEFAULT_TABLE = ("sla", "priority", "ref", "subject", "status", "assignee", "customer")
CSV_FIELDS = (
    "ref",
    "source",
    "subject",
    "status",
    "priority",
    "assignee",
    "customer",
    "plan",
    "labels",
    "opened_at",
    "updated_at",
    "sla_state",
    "sla_due",
    "sla_seconds_left",
    "sla_target",
    "url",
)
#: Longest width of a column (what is longer is cut with …) and the narrowest it may shrink to.
_WIDTHS = {"sla": (8, 8), "priority": (3, 3), "ref": (40, 14), "status": (7, 7)}
_WIDTHS |= {"assignee": (12, 6), "customer": (26, 6), "plan": (10, 4), "labels": (30, 8)}
_HEADS = {"priority": "PRI", "sla_seconds_left": "LEFT S"}


def pick_fields(text: str | None, default: Sequence[str], known: Iterable[str]) -> list[str]:
    if not text:
        return list(default)
    wanted = [f.strip() for f in text.split(",") if f.strip()]
    allowed = list(known)
    bad = [f for f in wanted if f not in allowed]
    if bad or not wanted:
        raise CliProblem(
            f"--fields: unknown {', '.join(bad) or 'nothing'}; known: {', '.join(allowed)}"
        )
    return wanted


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def write_table(rows: list[dict[str, Any]], fields: list[str], out: TextIO, width: int) -> None:
    """Rows as aligned columns fitting ``width``: the subject (or the last column) takes what
    is left, after the customer, the reference and the assignee gave way down to a minimum."""

    def cell(o: dict[str, Any], f: str) -> str:
        value = FLAT_FIELDS[f](o)
        return clean_line("—" if value is None or value == "" else str(value))

    cells = [[cell(o, f) for f in fields] for o in rows]
    heads = [_HEADS.get(f, f.upper().replace("_", " ")) for f in fields]
    natural = [max([len(heads[i])] + [len(r[i]) for r in cells]) for i in range(len(fields))]
    widths = [min(n, _WIDTHS.get(f, (n, n))[0]) for f, n in zip(fields, natural, strict=True)]
    flex = fields.index("subject") if "subject" in fields else len(fields) - 1
    gaps = 2 * (len(fields) - 1)

    def room() -> int:
        return width - gaps - sum(w for i, w in enumerate(widths) if i != flex)

    for name in ("customer", "labels", "ref", "assignee", "plan"):
        if name in fields and fields.index(name) != flex and room() < min(natural[flex], 30):
            i = fields.index(name)
            widths[i] = max(_WIDTHS[name][1], widths[i] - (min(natural[flex], 30) - room()))
    widths[flex] = max(min(natural[flex], room()), 8)
    for line in [heads, *cells]:
        parts = [_cut(c, widths[i]).ljust(widths[i]) for i, c in enumerate(line)]
        out.write(_cut("  ".join(parts).rstrip(), width) + "\n")


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (OWASP: a leading ' for =, +, -, @)."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return "" if value is None else value


def write_csv(rows: list[dict[str, Any]], fields: list[str], out: TextIO) -> None:
    """Rows as CSV with a header; cells inert and safe to open in a spreadsheet."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for o in rows:
        writer.writerow([_spreadsheet_safe(inert(FLAT_FIELDS[f](o))) for f in fields])


def dump_json(value: Any, out: TextIO, *, indent: int | None = 2) -> None:
    out.write(json.dumps(inert(value), ensure_ascii=False, indent=indent) + "\n")


TICKET_KEYS = (
    "ref source backend remote_id url subject status priority channel assignee requester "
    "customer codename plan labels opened_at updated_at first_response_at unsent conflict sla "
    "clocks"
).split()
