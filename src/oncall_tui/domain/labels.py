"""The escalation label state machine of a suspected customer bug.

The stages and their labels (defaults from the support handbook; every name is configurable
through :class:`LabelScheme`)::

    NEW             bug, :reproduce, :incoming          filed, waiting for QA triage
      | suspect_customer_impact
      v
    INVESTIGATING   bug, ~investigate, :help-customers  support is on it (daily stand-up)
      | mark_reproduced                  | mark_not_reproduced
      v                                  v
    REPRODUCED      bug, :product, ...   NOT_REPRODUCED  bug, :incoming, :reproduce,
                                                         :help-customers (back to QA)

``NOT_REPRODUCED`` can go back to ``INVESTIGATING`` (a customer is hit again) or on to
``REPRODUCED`` (QA reproduced it after all). ``:help-customers`` stays on once set: it is what
tells a re-triaged bug from a fresh one.

Transitions return a :class:`LabelChange` computed against the issue's current labels, holding
only what actually changes, so the outbox sends no no-op requests. Labels compare
case-insensitively (GitHub treats label names that way); removals use the issue's own spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from oncall_tui.domain.errors import ConfigValueError


class Stage(StrEnum):
    """Where a bug report stands in the escalation process."""

    NEW = "new"
    INVESTIGATING = "investigating"
    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "not_reproduced"
    NONE = "none"  # not a bug report this process knows (no stage labels)


class TransitionError(ValueError):
    """A label transition that makes no sense from the issue's current stage.

    Attributes:
        stage: the stage the issue is in.
        action: the transition that was refused, e.g. ``mark_reproduced``.
    """

    def __init__(self, stage: Stage, action: str, message: str) -> None:
        self.stage = stage
        self.action = action
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class LabelScheme:
    """The label names a team uses for the escalation process."""

    bug: str = "bug"
    """Every bug report carries it."""
    reproduce: str = ":reproduce"
    """QA is asked to reproduce the bug."""
    incoming: str = ":incoming"
    """Waiting in QA's incoming triage."""
    investigate: str = "~investigate"
    """Support is investigating customer impact; reviewed at the daily stand-up."""
    help_customers: str = ":help-customers"
    """Customers are (suspected to be) hit by the bug."""
    product: str = ":product"
    """Reproduced: on the product team's drafting board."""
    customer_prefix: str = "customer-"
    """Prefix of the customer codename label, e.g. ``customer-vesta``."""

    def customer_label(self, codename: str) -> str | None:
        """The codename label, e.g. ``customer-vesta``; None for a blank codename."""
        name = codename.strip().lower()
        return f"{self.customer_prefix}{name}" if name else None

    def new_issue_labels(self, codename: str | None = None) -> tuple[str, ...]:
        """Labels of a freshly filed bug report, with the customer label if there is one."""
        label = self.customer_label(codename) if codename else None
        base = (self.bug, self.reproduce, self.incoming)
        return (*base, label) if label else base


DEFAULT_SCHEME = LabelScheme()

_SCHEME_KEYS = tuple(f.name for f in fields(LabelScheme))


def parse_label_scheme(d: Mapping[str, Any], key: str = "labels") -> LabelScheme:
    """Build a :class:`LabelScheme` from a config table; missing keys keep their defaults.

    Args:
        d: e.g. ``{"investigate": "~investigating", "product": "product-board"}``.
        key: dotted path of ``d`` in the config, used in error messages.

    Raises:
        ConfigValueError: for unknown keys, non-string or blank names, or two stages
            sharing a label.
    """
    values: dict[str, str] = {}
    for name, value in d.items():
        path = f"{key}.{name}" if key else name
        if name not in _SCHEME_KEYS:
            raise ConfigValueError(path, f"one of {', '.join(_SCHEME_KEYS)}")
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise ConfigValueError(path, "a non-empty label name without surrounding spaces", value)
        values[name] = value
    scheme = LabelScheme(**values)
    seen: dict[str, str] = {}
    for name in _SCHEME_KEYS:
        if name == "customer_prefix":
            continue
        label = getattr(scheme, name).casefold()
        if label in seen:
            path = f"{key}.{name}" if key else name
            raise ConfigValueError(path, f"a label different from {seen[label]}'s", label)
        seen[label] = name
    return scheme


@dataclass(frozen=True, slots=True)
class LabelChange:
    """Labels to add to and remove from an issue; both empty means nothing to do."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)

    def apply(self, labels: Iterable[str]) -> tuple[str, ...]:
        """The label set after the change (order kept, additions last)."""
        gone = {x.casefold() for x in self.remove}
        kept = [x for x in labels if x.casefold() not in gone]
        have = {x.casefold() for x in kept}
        return (*kept, *(x for x in self.add if x.casefold() not in have))


def _has(labels: Iterable[str], name: str) -> bool:
    folded = name.casefold()
    return any(x.casefold() == folded for x in labels)


def stage_of(labels: Iterable[str], scheme: LabelScheme = DEFAULT_SCHEME) -> Stage:
    """The escalation stage an issue's labels say it is in.

    The most advanced stage wins when labels disagree (e.g. ``:product`` with a stale
    ``~investigate`` is REPRODUCED).
    """
    labels = tuple(labels)
    if _has(labels, scheme.product):
        return Stage.REPRODUCED
    if _has(labels, scheme.investigate):
        return Stage.INVESTIGATING
    if _has(labels, scheme.incoming) or _has(labels, scheme.reproduce):
        return Stage.NOT_REPRODUCED if _has(labels, scheme.help_customers) else Stage.NEW
    if _has(labels, scheme.bug):
        return Stage.NEW
    return Stage.NONE


def _change(labels: tuple[str, ...], add: Iterable[str], remove: Iterable[str]) -> LabelChange:
    to_add = tuple(x for x in add if not _has(labels, x))
    folded = {x.casefold() for x in remove}
    to_remove = tuple(x for x in labels if x.casefold() in folded)
    return LabelChange(add=to_add, remove=to_remove)


def _allowed_from(
    labels: Iterable[str], scheme: LabelScheme, action: str, allowed: tuple[Stage, ...]
) -> tuple[str, ...]:
    """The labels, once their stage is one ``action`` may start from (else TransitionError)."""
    labels = tuple(labels)
    stage = stage_of(labels, scheme)
    if stage not in allowed:
        raise _refuse(stage, action, allowed)
    return labels


def _refuse(stage: Stage, action: str, allowed: Iterable[Stage]) -> TransitionError:
    why = {
        Stage.NEW: "the bug is still waiting in QA's incoming triage",
        Stage.INVESTIGATING: "the bug is already under investigation",
        Stage.REPRODUCED: "the bug was already reproduced and is on the product board",
        Stage.NOT_REPRODUCED: "the bug was not reproduced and went back to QA",
        Stage.NONE: "the issue carries none of the bug-report labels",
    }[stage]
    wanted = " or ".join(s.value.replace("_", " ") for s in allowed)
    return TransitionError(
        stage, action, f"Cannot {action.replace('_', ' ')}: {why} (needs: {wanted})."
    )


def suspect_customer_impact(
    labels: Iterable[str], scheme: LabelScheme = DEFAULT_SCHEME
) -> LabelChange:
    """Support suspects a customer is hit: move to INVESTIGATING.

    Allowed from NEW and NOT_REPRODUCED. Removes ``:incoming`` and ``:reproduce``, adds
    ``~investigate`` and ``:help-customers`` (and ``bug`` if it was missing).

    Raises:
        TransitionError: from INVESTIGATING, REPRODUCED or an issue with no bug labels.
    """
    labels = _allowed_from(
        labels, scheme, "suspect_customer_impact", (Stage.NEW, Stage.NOT_REPRODUCED)
    )
    return _change(
        labels,
        add=(scheme.bug, scheme.investigate, scheme.help_customers),
        remove=(scheme.incoming, scheme.reproduce),
    )


def mark_reproduced(labels: Iterable[str], scheme: LabelScheme = DEFAULT_SCHEME) -> LabelChange:
    """The investigation reproduced the bug: hand it to the product team (REPRODUCED).

    Allowed from INVESTIGATING and NOT_REPRODUCED. Removes ``~investigate``, ``:incoming``
    and ``:reproduce``; adds ``:product``.

    Raises:
        TransitionError: from NEW (investigate first), REPRODUCED or no bug labels.
    """
    labels = _allowed_from(
        labels, scheme, "mark_reproduced", (Stage.INVESTIGATING, Stage.NOT_REPRODUCED)
    )
    return _change(
        labels,
        add=(scheme.product,),
        remove=(scheme.investigate, scheme.incoming, scheme.reproduce),
    )


def mark_not_reproduced(labels: Iterable[str], scheme: LabelScheme = DEFAULT_SCHEME) -> LabelChange:
    """The investigation could not reproduce the bug: back to QA (NOT_REPRODUCED).

    Allowed from INVESTIGATING only. Removes ``~investigate``; puts ``:incoming`` and
    ``:reproduce`` back on. ``:help-customers`` stays.

    Raises:
        TransitionError: from any other stage.
    """
    labels = _allowed_from(labels, scheme, "mark_not_reproduced", (Stage.INVESTIGATING,))
    return _change(
        labels,
        add=(scheme.incoming, scheme.reproduce),
        remove=(scheme.investigate,),
    )


def needs_second_day_review(
    labels: Iterable[str],
    investigating_since: datetime,
    now: datetime,
    business_days_between: Callable[[datetime, datetime], float],
    scheme: LabelScheme = DEFAULT_SCHEME,
    *,
    after_days: float = 1.0,
) -> bool:
    """True when an investigated bug is "still there on a second business day".

    The handbook then wants ``~investigate`` off and the issue updated with logs, steps and
    details, ending in :func:`mark_reproduced` or :func:`mark_not_reproduced`.

    We read "a second business day" as: at least ``after_days`` (default one) full business
    day of the team's calendar has elapsed since the label went on, so a bug labelled at
    15:00 is flagged at 15:00 on the next business day, not at 07:00.

    Args:
        labels: the issue's current labels.
        investigating_since: when ``~investigate`` was added.
        now: the current instant (time is a parameter in the domain).
        business_days_between: the calendar, e.g. ``calendar.business_days_between``;
            returns elapsed business days (fractional) from its first to its second argument.
        scheme: the team's label names.
        after_days: business days after which the review is due.
    """
    if stage_of(labels, scheme) is not Stage.INVESTIGATING or now <= investigating_since:
        return False
    return business_days_between(investigating_since, now) >= after_days
