"""The escalation loop's pure rules: business-day ages, the day-two decision, time-box texts,
outage reminders and link-back states, on the default (Los Angeles, US holidays) calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.escalation import (
    DEFAULT_SETTINGS,
    Affected,
    IssueState,
    Nudge,
    ack_comment,
    business_days_of,
    format_left,
    issue_state,
    link_text,
    next_reminder,
    nudge_text,
    outage_body,
    outage_title,
    parse_escalation_settings,
    standup_item,
    standup_order,
)
from oncall_tui.domain.sla import SlaSettings

LA = ZoneInfo("America/Los_Angeles")
INVESTIGATING = ("bug", "~investigate", ":help-customers")


def la(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LA)


@pytest.fixture(scope="module")
def days():  # type: ignore[no-untyped-def]
    sla = SlaSettings.default()
    return business_days_of(sla.calendar, sla.business_day_seconds)


@pytest.mark.parametrize(
    ("since", "now", "day", "due"),
    [
        # Monday 10:00: the first business day until Tuesday 10:00
        ("2026-11-23T10:00", "2026-11-23T15:59", 1, False),
        ("2026-11-23T10:00", "2026-11-24T09:59", 1, False),
        ("2026-11-24T10:00", "2026-11-25T10:00", 2, True),
        # Wednesday 15:00, Thursday is Thanksgiving (closed): day two starts Friday 15:00
        ("2026-11-25T15:00", "2026-11-26T15:00", 1, False),
        ("2026-11-25T15:00", "2026-11-27T14:59", 1, False),
        ("2026-11-25T15:00", "2026-11-27T15:00", 2, True),
        # Friday 10:00: the weekend does not count
        ("2026-11-27T10:00", "2026-11-30T09:59", 1, False),
        ("2026-11-27T10:00", "2026-11-30T10:00", 2, True),
        ("2026-11-27T10:00", "2026-12-01T10:00", 3, True),
        # labelled at night (closed): the first day starts at the next opening
        ("2026-11-23T22:00", "2026-11-24T15:59", 1, False),
        ("2026-11-23T22:00", "2026-11-24T16:00", 2, True),
    ],
)
def test_age_in_business_days_and_the_decision(days, since, now, day, due) -> None:  # type: ignore[no-untyped-def]
    item = standup_item(7, "t", INVESTIGATING, la(since), la(now), days)
    assert item is not None
    assert item.day == day
    assert item.decision_due is due


def test_not_under_investigation_is_not_on_the_standup(days) -> None:  # type: ignore[no-untyped-def]
    now = la("2026-11-30T10:00")
    for labels in (("bug", ":product"), ("bug", ":incoming", ":reproduce"), ()):
        assert standup_item(1, "t", labels, now - timedelta(days=9), now, days) is None


def test_a_clock_before_the_label_is_day_one_not_a_decision(days) -> None:  # type: ignore[no-untyped-def]
    since = la("2026-11-30T10:00")
    item = standup_item(1, "t", INVESTIGATING, since, since - timedelta(hours=3), days)
    assert item is not None and item.day == 1 and not item.decision_due and item.age_days == 0


def test_decision_after_is_configurable(days) -> None:  # type: ignore[no-untyped-def]
    settings = parse_escalation_settings({"decision_after_days": 2})
    since, now = la("2026-11-23T10:00"), la("2026-11-24T10:00")
    item = standup_item(1, "t", INVESTIGATING, since, now, days, settings=settings)
    assert item is not None and item.day == 2 and not item.decision_due


def test_standup_order_and_customers(days) -> None:  # type: ignore[no-untyped-def]
    now = la("2026-11-25T10:00")
    a = standup_item(1, "a", INVESTIGATING, la("2026-11-24T12:00"), now, days)
    b = standup_item(
        2,
        "b",
        INVESTIGATING,
        la("2026-11-23T08:00"),
        now,
        days,
        customers=[Affected("Acme", "premium"), Affected("Acme", "premium")],
    )
    c = standup_item(3, "c", INVESTIGATING, la("2026-11-24T09:00"), now, days)
    assert a and b and c
    assert [i.ticket_id for i in standup_order([a, b, c])] == [2, 3, 1]
    assert b.customers == (Affected("Acme", "premium"),)


def test_ack_comment_names_the_day(days) -> None:  # type: ignore[no-untyped-def]
    item = standup_item(1, "t", INVESTIGATING, la("2026-11-23T10:00"), la("2026-11-24T11:00"), days)
    assert item is not None
    text = ack_comment(DEFAULT_SETTINGS, item, date(2026, 11, 24))
    assert "2026-11-24" in text and "business day 2" in text
    custom = parse_escalation_settings({"ack_comment": "Seen {date}, day {day}."})
    assert ack_comment(custom, item, date(2026, 11, 24)) == "Seen 2026-11-24, day 2."


def test_format_left() -> None:
    assert format_left(timedelta(minutes=42, seconds=5)) == "42:05"
    assert format_left(timedelta(hours=1)) == "1:00:00"
    assert format_left(timedelta(seconds=-190)) == "over by 3:10"


def test_nudge_texts_use_the_channel_and_alias() -> None:
    settings = parse_escalation_settings({"oncall_alias": "@dev-oncall", "help_channel": "#eng"})
    text = nudge_text(Nudge.ONCALL, settings, {"ref": "zendesk #7", "ticket_url": "https://z/7"})
    # posted in the channel itself: it starts with the mention, not "... in #eng:"
    assert text.startswith("@dev-oncall could you help with zendesk #7 (https://z/7)?")
    assert "#eng" not in text and "60 minutes" in text
    logs = nudge_text(Nudge.LOGS, settings, {"requester": "Rita", "agent": "alex"})
    assert "Hi Rita" in logs and "logs" in logs and logs.endswith("alex")


def test_outage_title_body_and_reminders() -> None:
    assert outage_title(date(2026, 12, 2)) == "Suspected outage: 2026-12-02"
    body = outage_body([("zendesk #1", "https://z/1"), ("slack C1 thread 2", None)])
    assert "- zendesk #1 (https://z/1)" in body and "- slack C1 thread 2\n" in body
    due = datetime(2026, 12, 2, 10, tzinfo=UTC)
    hour = timedelta(hours=1)
    assert next_reminder(due, due - hour, hour) == due
    assert next_reminder(due, due, hour) == due + hour
    # asleep for five and a half hours: one reminder, the next on the hour grid
    assert next_reminder(due, due + timedelta(hours=5, minutes=30), hour) == due + 6 * hour


@pytest.mark.parametrize(
    ("labels", "closed", "state"),
    [
        (("bug", ":incoming"), False, IssueState.LINKED),
        (INVESTIGATING, False, IssueState.LINKED),
        (("bug", ":product"), False, IssueState.REPRODUCED),
        (("bug", ":product"), True, IssueState.CLOSED),
        (("bug", ":product", ":Released"), True, IssueState.RELEASED),
    ],
)
def test_issue_state(labels, closed, state) -> None:  # type: ignore[no-untyped-def]
    assert issue_state(labels, closed) is state


def test_link_texts() -> None:
    url = "https://github.com/acme/product/issues/9"
    assert url in link_text(IssueState.LINKED, DEFAULT_SETTINGS, url)
    assert "reproduced" in link_text(IssueState.REPRODUCED, DEFAULT_SETTINGS, url)
    custom = parse_escalation_settings({"link_back": "See {issue_url}."})
    assert link_text(IssueState.LINKED, custom, url) == f"See {url}."


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"timebox_minutes": 0}, "escalation.timebox_minutes"),
        ({"timebox_minutes": True}, "escalation.timebox_minutes"),
        ({"outage_labels": "#outage"}, "escalation.outage_labels"),
        ({"outage_labels": [" x"]}, "escalation.outage_labels"),
        ({"help_channel": ""}, "escalation.help_channel"),
        ({"nope": 1}, "escalation.nope"),
    ],
)
def test_bad_settings(table, key) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigValueError) as err:
        parse_escalation_settings(table)
    assert key in str(err.value)


def test_outage_guard_reads_our_repositories_as_ours_and_the_rest_as_published() -> None:
    from oncall_tui.domain.escalation import outage_guard_hits
    from oncall_tui.domain.tickets import Customer

    acme = Customer(id=1, name="Acme Logistics", plan="ultimate", domains=("acme-logistics.com",))
    title = "Suspected outage: 2026-11-23"
    issue = ("acme/product#2", "https://github.com/acme/product/issues/2")
    assert outage_guard_hits(title, [issue], [acme]) == []  # the demo's own tracker
    (hit,) = outage_guard_hits(
        title,
        [issue, ("zendesk #41165", "https://acme.zendesk.example/agent/tickets/41165")],
        [acme],
    )
    assert hit.customer == "Acme Logistics" and hit.term.lower() == "acme"
    (hit,) = outage_guard_hits(
        title, [("zendesk #1", "https://x.example/acme-logistics.com")], [acme]
    )
    assert hit.term == "acme-logistics.com"
    # an affected issue's repository is ours whatever its name; another repository is not
    assert outage_guard_hits(title, [issue, ("acme-logistics/app#3", None)], [acme]) == []
    assert outage_guard_hits(title, [("zendesk #2", "https://github.com/acme/other/x")], [acme])


def test_help_channel_id_and_group_id_are_checked_with_a_clear_message() -> None:
    import pytest

    from oncall_tui.domain import escalation as esc
    from oncall_tui.domain.errors import ConfigValueError

    ok = esc.parse_escalation_settings(
        {"help_channel_id": "C0123ABCD", "oncall_group_id": "S0123ABCD"}
    )
    assert (ok.help_channel_id, ok.oncall_group_id, ok.help_channel) == (
        "C0123ABCD",
        "S0123ABCD",
        "#help-engineering",
    )
    assert esc.parse_escalation_settings({}).help_channel_id is None
    for bad in ("#help-engineering", "c0123abcd", "C0123ABCD:1.2", "", 12, " C0123ABCD"):
        with pytest.raises(
            ConfigValueError,
            match=r"escalation\.help_channel_id: expected a Slack channel id like C0123ABCD",
        ):
            esc.parse_escalation_settings({"help_channel_id": bad})
    with pytest.raises(ConfigValueError, match=r"oncall_group_id: expected a Slack user group id"):
        esc.parse_escalation_settings({"oncall_group_id": "@oncall"})


def test_oncall_text_starts_with_the_mention_and_the_group_id_makes_it_notify() -> None:
    from oncall_tui.domain import escalation as esc

    plain = esc.EscalationSettings()
    text = esc.nudge_text(esc.Nudge.ONCALL, plain, {"ref": "zendesk #1", "ticket_url": "u"})
    assert text.startswith("@oncall could you help with zendesk #1 (u)?")
    assert "#help-engineering" not in text
    assert esc.channel_text(text, plain) == text  # plain text: nobody is notified
    group = esc.EscalationSettings(oncall_group_id="S0ONCALL")
    sent = esc.channel_text(text + " cc @oncall-dev, @oncall.", group)
    assert sent.startswith("<!subteam^S0ONCALL> could you help")
    assert sent.endswith("cc @oncall-dev, <!subteam^S0ONCALL>.")  # @oncall-dev is another handle
