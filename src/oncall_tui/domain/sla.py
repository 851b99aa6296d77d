"""First-response SLA: targets, due instants, countdown states and the ``[sla]`` config.

This module is the public face of four parts, re-exporting their names (import from here):
:mod:`~oncall_tui.domain.sla_policy` (the targets, the rules that pick one, the settings),
:mod:`~oncall_tui.domain.sla_due` (the calendar arithmetic of a target's due and warning
instants), :mod:`~oncall_tui.domain.sla_lifecycle` (the clock's state, countdown, pauses) and
:mod:`~oncall_tui.domain.sla_config` (the ``[sla]`` table read into settings).

Two speeds, on purpose:

1. :func:`compute_due` walks the business calendar. Call it when a ticket changes and store
   the result on the ticket (``sla_due``, ``sla_warn_at``, ``sla_target``), so sorting by
   urgency is an index scan.
2. :func:`state_at` and :func:`countdown_text` are O(1) on those stored instants: the queue's
   once-a-second tick uses only them. :func:`evaluate` does the full job for one ticket (detail
   views, tests, the CLI).

Which target applies (first match wins):

* A ticket with a first response, or solved/closed, has no countdown (``evaluate`` reports
  ``met``).
* Channel rules: chat threads (``Source.CHAT`` or ``Channel.CHAT``) 24 calendar hours; tracker
  issues (``Source.TRACKER`` or ``Channel.TRACKER``) none; contact form (``Channel.FORM``)
  4 business hours; on-call alerts (``Channel.ALERT``) 1 hour if opened in business hours,
  else 4 hours. A channel rule wins over the customer's plan.
* Otherwise the plan x priority table (plan names are case-insensitive; unknown plan or no
  plan: no target). Rules with two values pick by whether the ticket was *opened* in business
  hours (opened exactly at the close counts as outside).

Targets are written ``<number><unit>``: ``m``/``h``/``d`` are calendar minutes, hours and
24-hour days; ``bm``/``bh``/``bd`` are business minutes, hours and days. One business day is
``business_day_hours`` if set, else the calendar's longest weekday (9 h by default), so "1bd"
is one full day's window. Fractions are allowed ("0.25h"); amounts round to whole seconds.

Pauses: a ticket is paused while its status is pending/hold or it carries a label starting
with "+". :func:`update_pauses` records those spans in ``Ticket.pauses``; they are excluded
from consumed time (for business targets only their business seconds count), so on resume
the remaining time carries on. While a ticket is paused its stored due is what it would be
if it resumed at the pause's start; the state is ``paused`` until it resumes and the due is
recomputed.

States: ``breached`` from the due instant on (nothing left; the countdown goes negative);
``critical`` while at most ``critical_minutes`` are left; ``warning`` from ``warn_at``, the
instant 1 - ``warning_fraction`` of the target (in the target's own units) is consumed; else
``ok``. ``paused`` and ``none`` (no target) win over all of them.

The ``[sla]`` table of the config file (every key optional; the values shown are the
defaults, except the closures and Wednesday's split day, which are examples)::

    [sla]
    timezone = "America/Los_Angeles"  # IANA zone of the hours and closures
    holidays = "US"               # public holidays on observed days; a country code or false
    warning_fraction = 0.25       # warning once at most this share of the target is left
    critical_minutes = 15         # critical once at most this many minutes are left
    business_day_hours = 9        # length of "1bd"; default: the longest weekday's hours

    [sla.hours]                   # replaces the whole week; a day left out is closed
    monday = ["07:00-16:00"]
    tuesday = ["07:00-16:00"]
    wednesday = ["09:00-12:00", "13:00-17:00"]  # several windows a day are fine
    thursday = ["07:00-16:00"]
    friday = ["07:00-16:00"]

    [[sla.closures]]              # whole day
    date = 2026-12-24             # TOML date or "2026-12-24"
    name = "Company day"

    [[sla.closures]]              # half day: closes at 12:00 (`to` alone: opens late)
    date = 2026-12-31
    from = "12:00"
    name = "New Year's Eve"

    [[sla.closures]]              # several whole days, both ends included
    start = 2027-08-02
    end = 2027-08-06
    name = "Offsite"

    [[sla.closures]]              # one-off span; local wall time, or with an offset
    start = 2027-03-10T13:00:00
    end = 2027-03-11T10:30:00
    name = "Office move"

    [sla.targets]                 # plan -> priority -> target; "none" = no target
    free = "none"

    [sla.targets.premium]
    P0 = "4h"
    P1 = "4bh"
    P2 = "1bd"
    P3 = "2bd"

    [sla.targets.ultimate]
    P0 = { in_hours = "1h", out_of_hours = "2h" }
    P1 = { in_hours = "2h", out_of_hours = "4h" }
    P2 = "1bd"
    P3 = "1bd"

    [sla.next_reply.premium]      # example; by default next replies use the first-reply targets
    P3 = "3bd"

    [sla.customer_reply.zendesk]  # who ends the waiting when a customer writes (below)
    reopens = true                # Zendesk itself turns pending (and solved) into open
    removes_waiting_labels = false  # true if a trigger or bot takes "+" tags off itself

    [sla.customer_reply.github]
    removes_waiting_labels = false  # true if a workflow takes "+" labels off itself

    [sla.channels]                # "plan" = no channel rule, use the plan table
    chat = "24h"
    form = "4bh"
    alert = { in_hours = "1h", out_of_hours = "4h" }
    tracker = "none"

A customer's public message ends the waiting at once: pending (and solved) becomes open,
``+`` labels come off, on hold stays on hold. The cached ticket shows it at once; what the
backend does not do by itself is queued to it (one outbox entry per triggering message).
``[sla.customer_reply.<backend>]`` says what the backend does by itself: by default Zendesk
reopens (its own rule for a requester's reply) and nothing removes ``+`` labels, so their
removal is queued (removing a label already gone is harmless, a label left on is not).

Merging with the defaults: top-level keys, channels and each plan's priorities override
one by one (a priority left out of a built-in plan keeps its default; of a new plan, none);
``[sla.hours]`` and ``[[sla.closures]]`` replace the defaults as a whole.
"""

from __future__ import annotations

from oncall_tui.domain.sla_config import sla_settings_from_dict
from oncall_tui.domain.sla_due import (
    compute_due,
    due_for_target,
    pause_spans,
)
from oncall_tui.domain.sla_lifecycle import (
    countdown_changes_at,
    countdown_text,
    evaluate,
    format_remaining,
    remaining_text_steps,
    state_at,
    state_changes_at,
    ticket_state,
    time_left,
    update_pauses,
    with_due,
)
from oncall_tui.domain.sla_policy import (
    DEFAULT_WAIT_END,
    MAX_CRITICAL_MINUTES,
    MAX_SPAN,
    NO_COUNTDOWN,
    PRIORITIES,
    WAIT_END_KEYS,
    DueInfo,
    PlanTargets,
    SlaSettings,
    SlaState,
    SlaStateName,
    SlaTarget,
    SpanUnit,
    TargetRule,
    TargetSpan,
    TicketKind,
    WaitEnd,
    clock_target,
    default_channels,
    default_plans,
    resolve_target,
    ticket_kind,
    warn_amount,
)

__all__ = [
    "DEFAULT_WAIT_END",
    "DueInfo",
    "MAX_CRITICAL_MINUTES",
    "MAX_SPAN",
    "NO_COUNTDOWN",
    "PRIORITIES",
    "PlanTargets",
    "SlaSettings",
    "SlaState",
    "SlaStateName",
    "SlaTarget",
    "SpanUnit",
    "TargetRule",
    "TargetSpan",
    "TicketKind",
    "WAIT_END_KEYS",
    "WaitEnd",
    "clock_target",
    "compute_due",
    "countdown_changes_at",
    "countdown_text",
    "default_channels",
    "default_plans",
    "due_for_target",
    "evaluate",
    "format_remaining",
    "pause_spans",
    "remaining_text_steps",
    "resolve_target",
    "sla_settings_from_dict",
    "state_at",
    "state_changes_at",
    "ticket_kind",
    "ticket_state",
    "time_left",
    "update_pauses",
    "warn_amount",
    "with_due",
]
