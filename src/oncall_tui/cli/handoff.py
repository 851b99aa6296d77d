"""``oncall-tui handoff``: the on-call week's summary, retro draft and breach forecast.

::

    oncall-tui handoff                      # since the last handoff posted, else 7 days
    oncall-tui handoff --since 3d --format json
    oncall-tui handoff --since 2026-11-23   # a date: its midnight in the SLA calendar's zone
    oncall-tui handoff --retro              # the retro draft (Markdown)
    oncall-tui handoff --offline 8          # what breaches in the next 8 hours

Read-only: it opens the cache, never the network. Every mistake is one line on stderr starting
``oncall-tui: error:`` and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import date, datetime, timedelta
from typing import Any, TextIO

from oncall_tui.domain.handoff import forecast, handoff_json
from oncall_tui.domain.handoff_md import handoff_markdown, retro_markdown
from oncall_tui.domain.handoff_post import default_start
from oncall_tui.domain.sla import SlaSettings

EXIT_OK = 0
EXIT_USAGE = 2
_SPAN = re.compile(r"^(\d{1,3})([dh])$")


class SinceError(ValueError):
    """A ``--since`` value we cannot use (the message is shown as is)."""


def add_handoff_subparser(subparsers: Any) -> None:
    """Register ``handoff``."""
    p = subparsers.add_parser(
        "handoff",
        help="the on-call week's summary from the local cache (Markdown or JSON)",
        description="Print the on-call handoff summary (alarms, open issues with and without "
        "end-user impact, things to watch, the week's SLA) from the local cache.",
    )
    p.add_argument(
        "--since",
        metavar="7d|DATE",
        help="window start: a span back from now (7d, 36h) or a date (YYYY-MM-DD, midnight "
        "in the SLA calendar's zone) or an ISO instant; default: the last handoff posted, "
        "else 7 days",
    )
    p.add_argument("--format", choices=("md", "json"), default="md", help="output (default md)")
    p.add_argument("--retro", action="store_true", help="print the retro draft instead")
    p.add_argument(
        "--offline",
        metavar="HOURS",
        help="breach forecast: the tickets whose clocks breach in the next HOURS",
    )
    p.add_argument(
        "--threshold",
        type=int,
        default=None,
        metavar="N",
        help="with --offline: more projected breaches than N call for a replacement "
        "(default [handoff] breach_threshold, else 2)",
    )


def parse_since(text: str, now: datetime, settings: SlaSettings) -> datetime:
    """``7d``/``36h`` back from ``now``, a date (its midnight in the calendar's zone) or an
    ISO-8601 instant with an offset.

    Raises:
        SinceError: anything else, or a start not before ``now``.
    """
    value = text.strip()
    m = _SPAN.match(value)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if n == 0:
            raise SinceError(f"--since {text!r}: the span must be at least 1{unit}")
        start = now - (timedelta(days=n) if unit == "d" else timedelta(hours=n))
    else:
        try:
            if len(value) == 10:
                day = date.fromisoformat(value)
                start = datetime.combine(day, datetime.min.time(), settings.calendar.tz)
            else:
                start = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise SinceError(
                f"--since {text!r}: expected a span like 7d or 36h, a date like 2026-11-23, "
                "or an ISO instant"
            ) from None
        if start.tzinfo is None:
            raise SinceError(f"--since {text!r}: the instant needs a UTC offset or Z")
    if start >= now:
        raise SinceError(f"--since {text!r}: the window must start before now")
    return start


def run_handoff(
    args: argparse.Namespace,
    store: Any,
    settings: SlaSettings,
    now: datetime,
    out: TextIO,
    err: TextIO,
    threshold: int = 2,
    next_shift_hours: int = 4,
) -> int:
    """Print the summary, the retro or the forecast; 2 on a bad value."""
    try:
        if args.since:
            start = parse_since(args.since, now, settings)
        else:
            start = default_start(store.handoff.last_handoff_at(), now)
        hours: float | None = None
        if args.offline is not None:
            try:
                hours = float(args.offline)
            except ValueError:
                hours = -1
            if not 0 < hours <= 24 * 14:
                raise SinceError(
                    f"--offline {args.offline!r}: expected hours, more than 0, at most 336"
                )
    except SinceError as exc:
        err.write(f"oncall-tui: error: {exc}\n")
        return EXIT_USAGE
    if hours is not None:
        limit = threshold if args.threshold is None else args.threshold
        fc = forecast(store.handoff.handoff_records(now, now), now, hours, settings, limit)
        if args.format == "json":
            payload = {
                "start": fc.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end": fc.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "threshold": fc.threshold,
                "needs_replacement": fc.needs_replacement,
                "already_late": fc.already,
                "breaches": [
                    {
                        "ref": i.ref,
                        "subject": i.subject,
                        "due": d.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "assignee": i.assignee,
                    }
                    for i, d in fc.items
                ],
            }
            out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
            return EXIT_OK
        out.write(
            f"{len(fc.items)} clocks breach before {fc.end:%a %d %b %H:%M} UTC "
            f"({fc.already} already late)\n"
        )
        for item, _due in fc.items:
            out.write(f"  {item.ref}  {item.why}  {' '.join(item.subject.split())}\n")
        if fc.needs_replacement:
            out.write(
                f"More than {fc.threshold} breaches projected: arrange a replacement "
                "(runbook: arrange-replacement).\n"
            )
        return EXIT_OK
    h = store.handoff.handoff_summary(start, now, settings, next_shift_hours)
    if args.retro:
        out.write(retro_markdown(h))
    elif args.format == "json":
        out.write(json.dumps(handoff_json(h), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(handoff_markdown(h))
    return EXIT_OK
