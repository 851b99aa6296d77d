"""The escalation label state machine: stages, transitions, refusals, second-day review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.labels import (
    LabelChange,
    LabelScheme,
    Stage,
    TransitionError,
    mark_not_reproduced,
    mark_reproduced,
    needs_second_day_review,
    parse_label_scheme,
    stage_of,
    suspect_customer_impact,
)

Transition = Callable[[tuple[str, ...]], LabelChange]

NEW = ("bug", ":reproduce", ":incoming", "customer-vesta")
INVESTIGATING = ("bug", "customer-vesta", "~investigate", ":help-customers")
REPRODUCED = ("bug", "customer-vesta", ":help-customers", ":product")
NOT_REPRODUCED = ("bug", "customer-vesta", ":help-customers", ":incoming", ":reproduce")


@pytest.mark.parametrize(
    ("labels", "stage"),
    [
        (NEW, Stage.NEW),
        (("bug",), Stage.NEW),
        ((":incoming",), Stage.NEW),
        (INVESTIGATING, Stage.INVESTIGATING),
        (("~investigate",), Stage.INVESTIGATING),
        (REPRODUCED, Stage.REPRODUCED),
        (("bug", ":product", "~investigate"), Stage.REPRODUCED),  # most advanced wins
        (NOT_REPRODUCED, Stage.NOT_REPRODUCED),
        (("BUG", ":Incoming"), Stage.NEW),  # labels compare case-insensitively
        ((), Stage.NONE),
        (("enhancement", "customer-vesta"), Stage.NONE),
    ],
)
def test_stage_of(labels: tuple[str, ...], stage: Stage) -> None:
    assert stage_of(labels) is stage


@pytest.mark.parametrize(
    ("transition", "labels", "add", "remove", "after"),
    [
        (
            suspect_customer_impact,
            NEW,
            ("~investigate", ":help-customers"),
            (":reproduce", ":incoming"),
            Stage.INVESTIGATING,
        ),
        (  # a customer is hit again after QA could not reproduce: :help-customers is on
            suspect_customer_impact,
            NOT_REPRODUCED,
            ("~investigate",),
            (":incoming", ":reproduce"),
            Stage.INVESTIGATING,
        ),
        (
            suspect_customer_impact,
            (":incoming",),
            ("bug", "~investigate", ":help-customers"),
            (":incoming",),
            Stage.INVESTIGATING,
        ),
        (mark_reproduced, INVESTIGATING, (":product",), ("~investigate",), Stage.REPRODUCED),
        (
            mark_reproduced,
            NOT_REPRODUCED,
            (":product",),
            (":incoming", ":reproduce"),
            Stage.REPRODUCED,
        ),
        (
            mark_not_reproduced,
            INVESTIGATING,
            (":incoming", ":reproduce"),
            ("~investigate",),
            Stage.NOT_REPRODUCED,
        ),
        (  # only what actually changes: :reproduce is already there
            mark_not_reproduced,
            ("bug", "~investigate", ":help-customers", ":reproduce"),
            (":incoming",),
            ("~investigate",),
            Stage.NOT_REPRODUCED,
        ),
    ],
)
def test_transitions(
    transition: Transition,
    labels: tuple[str, ...],
    add: tuple[str, ...],
    remove: tuple[str, ...],
    after: Stage,
) -> None:
    change = transition(labels)
    assert change == LabelChange(add=add, remove=remove)
    assert stage_of(change.apply(labels)) is after


def test_full_escalation_walk() -> None:
    labels: tuple[str, ...] = ("bug", ":reproduce", ":incoming", "customer-vesta")
    labels = suspect_customer_impact(labels).apply(labels)
    assert set(labels) == {"bug", "customer-vesta", "~investigate", ":help-customers"}
    labels = mark_not_reproduced(labels).apply(labels)
    assert set(labels) == {"bug", "customer-vesta", ":help-customers", ":incoming", ":reproduce"}
    labels = mark_reproduced(labels).apply(labels)
    assert set(labels) == {"bug", "customer-vesta", ":help-customers", ":product"}


def test_removal_uses_the_issues_own_spelling() -> None:
    change = suspect_customer_impact(("Bug", ":Incoming", ":REPRODUCE"))
    assert change.remove == (":Incoming", ":REPRODUCE")
    assert change.add == ("~investigate", ":help-customers")


@pytest.mark.parametrize(
    ("transition", "labels", "stage", "words"),
    [
        (
            suspect_customer_impact,
            INVESTIGATING,
            Stage.INVESTIGATING,
            "already under investigation",
        ),
        (suspect_customer_impact, REPRODUCED, Stage.REPRODUCED, "already reproduced"),
        (suspect_customer_impact, ("enhancement",), Stage.NONE, "none of the bug-report labels"),
        (mark_reproduced, NEW, Stage.NEW, "incoming triage"),
        (mark_reproduced, REPRODUCED, Stage.REPRODUCED, "already reproduced"),
        (mark_reproduced, (), Stage.NONE, "none of the bug-report labels"),
        (mark_not_reproduced, NEW, Stage.NEW, "incoming triage"),
        (mark_not_reproduced, REPRODUCED, Stage.REPRODUCED, "already reproduced"),
        (mark_not_reproduced, NOT_REPRODUCED, Stage.NOT_REPRODUCED, "went back to QA"),
    ],
)
def test_refused_transitions(
    transition: Transition, labels: tuple[str, ...], stage: Stage, words: str
) -> None:
    with pytest.raises(TransitionError, match=words) as info:
        transition(labels)
    assert info.value.stage is stage
    assert info.value.action == transition.__name__
    assert str(info.value).startswith("Cannot ")


def test_custom_scheme() -> None:
    scheme = LabelScheme(investigate="status:investigating", product="product-board")
    labels: tuple[str, ...] = ("bug", ":reproduce", ":incoming")
    change = suspect_customer_impact(labels, scheme)
    assert change.add == ("status:investigating", ":help-customers")
    labels = change.apply(labels)
    assert stage_of(labels, scheme) is Stage.INVESTIGATING
    assert mark_reproduced(labels, scheme) == LabelChange(
        add=("product-board",), remove=("status:investigating",)
    )


def test_new_issue_labels_and_customer_label() -> None:
    scheme = LabelScheme()
    assert scheme.new_issue_labels(" Vesta ") == (
        "bug",
        ":reproduce",
        ":incoming",
        "customer-vesta",
    )
    assert scheme.new_issue_labels("") == ("bug", ":reproduce", ":incoming")
    assert scheme.new_issue_labels(None) == ("bug", ":reproduce", ":incoming")
    assert LabelScheme(customer_prefix="cust:").customer_label("eros") == "cust:eros"


def test_label_change_truthiness_and_apply_keeps_order() -> None:
    assert not LabelChange()
    assert LabelChange(add=("x",))
    assert LabelChange(add=("c",), remove=("A",)).apply(("a", "b")) == ("b", "c")


def test_parse_label_scheme() -> None:
    scheme = parse_label_scheme({"investigate": "~investigating", "customer_prefix": "cust-"})
    assert scheme.investigate == "~investigating"
    assert scheme.customer_prefix == "cust-"
    assert scheme.bug == "bug"


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"investigation": "x"}, "bug_report.labels.investigation"),
        ({"bug": ""}, "bug_report.labels.bug"),
        ({"bug": 3}, "bug_report.labels.bug"),
        ({"bug": " bug"}, "bug_report.labels.bug"),
        ({"product": ":incoming"}, "bug_report.labels.product"),
    ],
)
def test_parse_label_scheme_errors(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigValueError) as info:
        parse_label_scheme(table, key="bug_report.labels")
    assert info.value.key == key


T0 = datetime(2024, 7, 1, 15, 0, tzinfo=UTC)


def _days(start: datetime, end: datetime) -> float:
    """A fake calendar: every 24 hours is one business day."""
    return (end - start) / timedelta(days=1)


@pytest.mark.parametrize(
    ("labels", "elapsed", "expected"),
    [
        (INVESTIGATING, timedelta(hours=23), False),
        (INVESTIGATING, timedelta(days=1), True),
        (INVESTIGATING, timedelta(days=3), True),
        (INVESTIGATING, timedelta(0), False),
        (INVESTIGATING, -timedelta(days=2), False),  # clock skew: not due
        (NEW, timedelta(days=3), False),
        (REPRODUCED, timedelta(days=3), False),
    ],
)
def test_needs_second_day_review(
    labels: tuple[str, ...], elapsed: timedelta, expected: bool
) -> None:
    assert needs_second_day_review(labels, T0, T0 + elapsed, _days) is expected


def test_second_day_review_uses_the_calendar_passed_in() -> None:
    weekend = lambda a, b: 0.0  # noqa: E731 - a calendar where no business time passes
    assert not needs_second_day_review(INVESTIGATING, T0, T0 + timedelta(days=2), weekend)
