"""``oncall-tui sla``: business-time arithmetic from the command line.

::

    oncall-tui sla due --opened 2026-11-25T15:00:00-08:00 --business-hours 4
    2026-11-27T18:00:00Z
    oncall-tui sla due --opened 2026-11-25T15:00:00Z --plan premium --priority P1
    oncall-tui sla between 2026-11-25T15:00:00Z 2026-11-30T18:00:00Z
    75600
    oncall-tui sla calendar --year 2027
    2027-01-01  New Year's Day
    ...

The top-level parser (``cli.py``) calls :func:`add_sla_subparser` and, for ``sla``,
:func:`run_sla` with the configured :class:`SlaSettings`. Values are checked here rather than
by argparse types, so each mistake gets one line on ``err`` starting ``oncall-tui: error:``
and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, TextIO

from oncall_tui.domain.calendars import MAX_YEAR, MIN_YEAR, from_epoch, to_epoch
from oncall_tui.domain.sla import SlaSettings, compute_due
from oncall_tui.domain.sla_clocks import run_clocks
from oncall_tui.domain.sla_explain import (
    ExplainInputError,
    clocks_json,
    explain_text,
    parse_ticket,
)
from oncall_tui.domain.sla_history import clocks_of
from oncall_tui.domain.tickets import Channel, Priority, Source, Ticket, ticket_title

EXIT_OK = 0
EXIT_USAGE = 2
_PREFIX = "oncall-tui: error: "


class _BadValue(Exception):
    """A value the user typed that we cannot use; the message is shown as is."""


BadValue = _BadValue


def add_sla_subparser(subparsers: Any) -> None:
    """Register ``sla`` with its ``due``, ``between`` and ``calendar`` subcommands.

    Args:
        subparsers: the object returned by the top-level parser's ``add_subparsers()``.
    """
    sla = subparsers.add_parser(
        "sla",
        help="business-hours arithmetic with the configured SLA calendar",
        description="Business-hours arithmetic with the configured SLA calendar and targets.",
    )
    sub = sla.add_subparsers(dest="sla_command", metavar="SUBCOMMAND", required=True)

    due = sub.add_parser(
        "due",
        help="when a response is due",
        description="Print the instant (UTC) a response is due, given when the ticket opened "
        "and either an amount of time or the plan/priority/channel the policy decides on; "
        'prints "none" when no target applies (e.g. the free plan).',
    )
    due.add_argument(
        "--opened",
        required=True,
        metavar="INSTANT",
        help="when the ticket opened, ISO 8601 with offset or Z",
    )
    due.add_argument("--business-hours", metavar="H", help="business hours to add (e.g. 4, 0.25)")
    due.add_argument("--calendar-hours", metavar="H", help="calendar hours to add")
    due.add_argument("--plan", help="customer plan (e.g. premium); the policy picks the target")
    due.add_argument("--priority", help="P0, P1, P2 or P3 (with --plan)")
    due.add_argument("--channel", help="email, form, chat, alert or tracker")
    due.add_argument("--source", help="helpdesk, chat or tracker")

    between = sub.add_parser(
        "between",
        help="business seconds between two instants",
        description="Print the business seconds in [START, END) as an integer "
        "(negative if END is before START).",
    )
    between.add_argument("start", metavar="START", help="ISO 8601 instant with offset or Z")
    between.add_argument("end", metavar="END", help="ISO 8601 instant with offset or Z")

    calendar = sub.add_parser(
        "calendar",
        help="list a year's closures",
        description="List the holidays (observed days included) and configured closures "
        "of a year, one per line.",
    )
    calendar.add_argument("--year", required=True, help="the year, e.g. 2027")

    explain = sub.add_parser(
        "explain",
        help="every reply clock of a ticket, and why",
        description="Replay a ticket's history with the app's SLA engine and the configured "
        "calendar: each reply clock (first reply, next replies) with its target, state, due, "
        "breach and fulfilment. --ticket FILE reads the history as JSON (see the README) and "
        "prints JSON; REF explains a cached ticket (e.g. zendesk:41165), as prose or --json.",
    )
    explain.add_argument(
        "ref", nargs="?", metavar="REF", help="a cached ticket, e.g. zendesk:41165"
    )
    explain.add_argument("--ticket", metavar="FILE", help="a ticket's history as JSON ('-': stdin)")
    explain.add_argument("--now", metavar="INSTANT", help="evaluate at this instant (default: now)")
    explain.add_argument("--json", action="store_true", help="print JSON (always with --ticket)")


def run_sla(
    args: argparse.Namespace,
    settings: SlaSettings,
    out: TextIO,
    err: TextIO,
    open_cache: Callable[[], Any] | None = None,
) -> int:
    """Run the parsed ``sla`` subcommand; returns the exit status (0, or 2 for bad input).

    ``open_cache`` opens the cached database (a ``Store``) for ``sla explain REF``.
    """
    try:
        match args.sla_command:
            case "due":
                out.write(_due(args, settings) + "\n")
            case "between":
                start = _instant(args.start, "START")
                end = _instant(args.end, "END")
                out.write(f"{settings.calendar.business_seconds_between(start, end)}\n")
            case "calendar":
                year = _year(args.year)
                for closure in settings.calendar.closures_in_year(year):
                    out.write(closure.describe() + "\n")
            case "explain":
                if args.ticket is not None and args.ref is not None:
                    raise _BadValue("explain: give either REF or --ticket FILE, not both")
                now = _now(args.now)
                if args.ticket is not None:
                    out.write(explain_file(args.ticket, settings, now) + "\n")
                elif args.ref is None:
                    raise _BadValue("explain: give --ticket FILE, or REF for a cached ticket")
                elif open_cache is None:
                    raise _BadValue("explain REF: no cached database here")
                else:
                    out.write(explain_ref(args.ref, open_cache, settings, now, args.json) + "\n")
            case other:
                raise _BadValue(f"unknown sla subcommand {other!r}")
    except _BadValue as exc:
        err.write(f"{_PREFIX}{exc}\n")
        return EXIT_USAGE
    except OverflowError as exc:
        err.write(f"{_PREFIX}{exc}\n")
        return EXIT_USAGE
    return EXIT_OK


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    return _instant(text, "--now")


def explain_file(path: str, settings: SlaSettings, now: datetime) -> str:
    """The ``sla explain --ticket`` JSON for the history in ``path`` ('-': stdin)."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
    except OSError as exc:
        raise _BadValue(f"--ticket: cannot read {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _BadValue(f"--ticket: {path!r} is not UTF-8 text") from None
    try:
        inputs = parse_ticket(text, settings)
        report = run_clocks(inputs, settings, now)
    except ExplainInputError as exc:
        raise _BadValue(f"--ticket {path}: {exc}") from None
    return json.dumps(clocks_json(report), indent=2)


_BACKENDS = {"zendesk": Source.HELPDESK, "slack": Source.CHAT, "github": Source.TRACKER}


def explain_ref(
    ref: str, open_cache: Callable[[], Any], settings: SlaSettings, now: datetime, as_json: bool
) -> str:
    """``sla explain zendesk:41165``: a cached ticket's clocks, as prose or JSON."""
    backend, sep, remote_id = ref.strip().partition(":")
    remote_id = remote_id.strip().lstrip("#")
    if not sep or backend.lower() not in _BACKENDS or not remote_id:
        raise _BadValue(
            f"REF: expected zendesk:NUMBER, github:OWNER/REPO#N or slack:CHANNEL:TS, got {ref!r}"
        )
    store = open_cache()
    try:
        ticket = store.tickets.find_ticket(str(_BACKENDS[backend.lower()]), remote_id)
        if ticket is None:
            raise _BadValue(f"REF: no cached ticket {ref!r} (sync first, or check the number)")
        report = clocks_of(ticket, store.tickets.plan_of(ticket.customer_id), settings, now)
    finally:
        store.close()
    if as_json:
        return json.dumps(clocks_json(report), indent=2)
    head = (
        f"{ticket_title(ticket.source, ticket.remote_id, ticket.subject)} at {format_instant(now)}"
    )
    return "\n".join([head, *explain_text(report, settings)])


def format_instant(at: datetime) -> str:
    """``2026-11-27T18:00:00Z``: UTC, whole seconds."""
    return from_epoch(to_epoch(at)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: str, what: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _BadValue(f"{what}: not an ISO 8601 instant: {text!r}") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise _BadValue(f"{what}: the instant {text!r} needs a UTC offset or Z")
    return at


def _hours(text: str, what: str) -> int:
    """Seconds in ``text`` hours (exact; rounded to the nearest second)."""
    try:
        hours = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise _BadValue(f"{what}: expected a number of hours, got {text!r}") from None
    if hours < 0:
        raise _BadValue(f"{what}: expected a non-negative number of hours, got {text!r}")
    return math.floor(hours * 3600 + Fraction(1, 2))


def _year(text: str) -> int:
    try:
        year = int(text.strip())
    except ValueError:
        raise _BadValue(f"--year: expected a year like 2027, got {text!r}") from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _BadValue(f"--year: expected a year from {MIN_YEAR} to {MAX_YEAR}, got {year}")
    return year


def _enum(value: str, enum: type[Priority] | type[Channel] | type[Source], what: str) -> Any:
    try:
        return enum(value.strip().upper() if enum is Priority else value.strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise _BadValue(f"{what}: expected one of {allowed}, got {value!r}") from None


def _due(args: argparse.Namespace, settings: SlaSettings) -> str:
    opened = _instant(args.opened, "--opened")
    policy = any(v is not None for v in (args.plan, args.priority, args.channel, args.source))
    modes = [args.business_hours is not None, args.calendar_hours is not None, policy]
    if sum(modes) != 1:
        raise _BadValue(
            "give exactly one of --business-hours, --calendar-hours, "
            "or the policy options (--plan/--priority/--channel/--source)"
        )
    if args.business_hours is not None:
        seconds = _hours(args.business_hours, "--business-hours")
        return format_instant(settings.calendar.add_business_seconds(opened, seconds))
    if args.calendar_hours is not None:
        seconds = _hours(args.calendar_hours, "--calendar-hours")
        return format_instant(from_epoch(to_epoch(opened) + seconds))

    source = _enum(args.source, Source, "--source") if args.source else Source.HELPDESK
    channel = _enum(args.channel, Channel, "--channel") if args.channel else Channel.EMAIL
    if args.plan is not None and settings.plan(args.plan) is None:
        known = ", ".join(p.name for p in settings.plans)
        raise _BadValue(f"--plan: unknown plan {args.plan!r} (known: {known})")
    if args.plan is not None and args.priority is None:
        raise _BadValue("--plan needs --priority (P0, P1, P2 or P3)")
    priority = _enum(args.priority, Priority, "--priority") if args.priority else Priority.P3
    ticket = Ticket(
        id=0,
        source=source,
        subject="",
        opened_at=opened,
        updated_at=opened,
        priority=priority,
        channel=channel,
    )
    info = compute_due(ticket, settings, args.plan)
    return "none" if info is None else format_instant(info.due)
