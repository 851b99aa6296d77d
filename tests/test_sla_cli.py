"""``oncall-tui sla``: run through a parser built with add_sla_subparser."""

from __future__ import annotations

import argparse
import io
from datetime import datetime, timedelta
from typing import Any

import pytest

from oncall_tui.cli.sla import add_sla_subparser, run_sla
from oncall_tui.domain.sla import SlaSettings, sla_settings_from_dict

DEFAULT = SlaSettings.default()


def run(*argv: str, settings: SlaSettings = DEFAULT) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="oncall-tui")
    add_sla_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code = run_sla(args, settings, out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("argv", "stdout"),
    [
        # One hour Wednesday, Thanksgiving closed, three hours Friday.
        (
            ["--opened", "2026-11-25T15:00:00-08:00", "--business-hours", "4"],
            "2026-11-27T18:00:00Z",
        ),
        (["--opened", "2026-11-25T23:00:00Z", "--business-hours", "4"], "2026-11-27T18:00:00Z"),
        (
            ["--opened", "2026-11-25T15:00:00-08:00", "--business-hours", "1"],
            "2026-11-26T00:00:00Z",
        ),
        (
            ["--opened", "2026-11-23T07:00:00-08:00", "--business-hours", "0.25"],
            "2026-11-23T15:15:00Z",
        ),
        (
            ["--opened", "2026-11-23T07:00:00-08:00", "--business-hours", "0"],
            "2026-11-23T15:00:00Z",
        ),
        (
            ["--opened", "2026-11-25T15:00:00-08:00", "--calendar-hours", "4"],
            "2026-11-26T03:00:00Z",
        ),
        (
            ["--opened", "2026-11-25T15:00:00-08:00", "--calendar-hours", "1.5"],
            "2026-11-26T00:30:00Z",
        ),
        (
            ["--opened", "2026-11-25T15:00:00-08:00", "--plan", "premium", "--priority", "P1"],
            "2026-11-27T18:00:00Z",
        ),
        (
            ["--opened", "2026-11-21T10:00:00-08:00", "--plan", "Ultimate", "--priority", "p0"],
            "2026-11-21T20:00:00Z",
        ),
        (
            ["--opened", "2026-11-23T10:00:00-08:00", "--plan", "ultimate", "--priority", "P0"],
            "2026-11-23T19:00:00Z",
        ),
        (["--opened", "2026-11-23T10:00:00-08:00", "--channel", "chat"], "2026-11-24T18:00:00Z"),
        (["--opened", "2026-11-23T10:00:00-08:00", "--source", "chat"], "2026-11-24T18:00:00Z"),
        (["--opened", "2026-11-23T14:00:00-08:00", "--channel", "form"], "2026-11-24T17:00:00Z"),
        (["--opened", "2026-11-23T20:00:00-08:00", "--channel", "alert"], "2026-11-24T08:00:00Z"),
        (["--opened", "2026-11-23T10:00:00-08:00", "--plan", "free", "--priority", "P0"], "none"),
        (["--opened", "2026-11-23T10:00:00-08:00", "--source", "tracker"], "none"),
    ],
)
def test_due(argv: list[str], stdout: str) -> None:
    assert run("sla", "due", *argv) == (0, stdout + "\n", "")


@pytest.mark.parametrize(
    ("start", "end", "stdout"),
    [
        ("2026-11-25T15:00:00Z", "2026-11-30T18:00:00Z", "75600"),
        ("2026-11-30T18:00:00Z", "2026-11-25T15:00:00Z", "-75600"),
        ("2026-11-23T07:00:00-08:00", "2026-11-23T16:00:00-08:00", "32400"),
        ("2026-11-23T16:00:00-08:00", "2026-11-24T07:00:00-08:00", "0"),
    ],
)
def test_between(start: str, end: str, stdout: str) -> None:
    assert run("sla", "between", start, end) == (0, stdout + "\n", "")


def test_calendar() -> None:
    code, out, err = run("sla", "calendar", "--year", "2027")
    assert (code, err) == (0, "")
    assert out == (
        "2027-01-01  New Year's Day\n"
        "2027-01-18  Martin Luther King Jr. Day\n"
        "2027-02-15  Washington's Birthday\n"
        "2027-05-31  Memorial Day\n"
        "2027-06-18  Juneteenth National Independence Day (observed)\n"
        "2027-06-19  Juneteenth National Independence Day\n"
        "2027-07-04  Independence Day\n"
        "2027-07-05  Independence Day (observed)\n"
        "2027-09-06  Labor Day\n"
        "2027-10-11  Columbus Day\n"
        "2027-11-11  Veterans Day\n"
        "2027-11-25  Thanksgiving Day\n"
        "2027-12-24  Christmas Day (observed)\n"
        "2027-12-25  Christmas Day\n"
        "2027-12-31  New Year's Day (observed)\n"
    )


def test_calendar_includes_config_closures_and_uses_config() -> None:
    settings = sla_settings_from_dict(
        {
            "holidays": False,
            "closures": [
                {"date": "2027-12-23", "name": "Company day"},
                {"date": "2027-12-30", "from": "12:00", "name": "Half day"},
                {"start": "2027-08-02", "end": "2027-08-06", "name": "Offsite"},
            ],
        }
    )
    assert run("sla", "calendar", "--year", "2027", settings=settings) == (
        0,
        "2027-08-02  Offsite (to 2027-08-06)\n"
        "2027-12-23  Company day\n"
        "2027-12-30  Half day (from 12:00)\n",
        "",
    )
    # Wednesday 15:00 + 2 business hours: one on Wednesday, Thursday is the company day,
    # one on Friday from 07:00.
    assert run(
        "sla",
        "due",
        "--opened",
        "2027-12-22T15:00:00-08:00",
        "--business-hours",
        "2",
        settings=settings,
    ) == (0, "2027-12-24T16:00:00Z\n", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["due", "--opened", "yesterday", "--business-hours", "4"],
            "--opened: not an ISO 8601 instant: 'yesterday'",
        ),
        (
            ["due", "--opened", "2026-11-25T15:00:00", "--business-hours", "4"],
            "--opened: the instant '2026-11-25T15:00:00' needs a UTC offset or Z",
        ),
        (
            ["due", "--opened", "2026-11-25T15:00:00Z", "--business-hours", "-1"],
            "--business-hours: expected a non-negative number of hours, got '-1'",
        ),
        (
            ["due", "--opened", "2026-11-25T15:00:00Z", "--business-hours", "four"],
            "--business-hours: expected a number of hours, got 'four'",
        ),
        (
            ["due", "--opened", "2026-11-25T15:00:00Z", "--calendar-hours", "nan"],
            "--calendar-hours: expected a number of hours, got 'nan'",
        ),
        (
            ["due", "--opened", "2026-11-25T15:00:00Z", "--plan", "gold", "--priority", "P1"],
            "--plan: unknown plan 'gold' (known: free, premium, ultimate)",
        ),
        (
            ["due", "--opened", "2026-11-25T15:00:00Z", "--plan", "premium", "--priority", "P5"],
            "--priority: expected one of P0, P1, P2, P3, got 'P5'",
        ),
        (
            ["due", "--opened", "2026-11-25T15:00:00Z", "--plan", "premium"],
            "--plan needs --priority (P0, P1, P2 or P3)",
        ),
        (
            ["due", "--opened", "2026-11-25T15:00:00Z", "--channel", "fax"],
            "--channel: expected one of email, form, chat, alert, tracker, got 'fax'",
        ),
        (
            ["due", "--opened", "2026-11-25T15:00:00Z"],
            "give exactly one of --business-hours, --calendar-hours, or the policy options "
            "(--plan/--priority/--channel/--source)",
        ),
        (
            [
                "due",
                "--opened",
                "2026-11-25T15:00:00Z",
                "--business-hours",
                "1",
                "--calendar-hours",
                "1",
            ],
            "give exactly one of --business-hours, --calendar-hours, or the policy options "
            "(--plan/--priority/--channel/--source)",
        ),
        (
            ["between", "2026-11-25T15:00:00Z", "2026-11-30"],
            "END: the instant '2026-11-30' needs a UTC offset or Z",
        ),
        (["between", "now", "2026-11-30T00:00:00Z"], "START: not an ISO 8601 instant: 'now'"),
        (["calendar", "--year", "twenty"], "--year: expected a year like 2027, got 'twenty'"),
        (["calendar", "--year", "99999"], "--year: expected a year from 2 to 9998, got 99999"),
    ],
)
def test_bad_input(argv: list[str], message: str) -> None:
    assert run("sla", *argv) == (2, "", f"oncall-tui: error: {message}\n")


def test_argparse_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as info:
        run("sla", "due", "--business-hours", "4")  # --opened is required
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        run("sla")  # a subcommand is required
    assert info.value.code == 2


# -- sla explain --ticket -------------------------------------------------------------------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

LATE = {
    "plan": "premium",
    "priority": "P1",
    "channel": "email",
    "opened_at": "2026-11-23T15:00:00Z",  # Monday 07:00 LA
    "events": [
        {"at": "2026-11-23T16:00:00Z", "type": "automation_public"},
        {"at": "2026-11-23T17:00:00Z", "type": "agent_note"},
        {"at": "2026-11-25T17:00:00Z", "type": "agent_public"},  # late
        {"at": "2026-11-25T18:00:00Z", "type": "customer_comment"},
        {"at": "2026-11-25T19:00:00Z", "type": "status", "value": "pending"},
        {"at": "2026-11-25T20:00:00Z", "type": "customer_comment"},
    ],
}


def explain(
    tmp_path: Path, data: object, now: str = "2026-11-25T21:00:00Z"
) -> tuple[int, str, str]:
    path = tmp_path / "ticket.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return run("sla", "explain", "--ticket", str(path), "--now", now)


def test_explain_prints_the_contract(tmp_path: Path) -> None:
    code, out, err = explain(tmp_path, LATE)
    assert code == 0 and err == ""
    assert json.loads(out) == {
        "metrics": [
            {
                "metric": "first_reply",
                "activated_at": "2026-11-23T15:00:00Z",
                "target": {"kind": "business", "hours": 4},
                "state": "breached",
                "paused": False,
                "due_at": None,
                "breached_at": "2026-11-23T19:00:00Z",
                "fulfilled_at": "2026-11-25T17:00:00Z",
            },
            {
                "metric": "next_reply",
                "activated_at": "2026-11-25T18:00:00Z",
                "target": {"kind": "business", "hours": 4},
                "state": "active",
                "paused": False,
                # 10:00-11:00 ran, 11:00-12:00 pending, resumed 12:00 with 3 h left.
                "due_at": "2026-11-25T23:00:00Z",
                "breached_at": None,
                "fulfilled_at": None,
            },
        ]
    }


def test_explain_free_plan_has_no_metrics_and_days_are_hours(tmp_path: Path) -> None:
    free = {**LATE, "plan": "free"}
    assert json.loads(explain(tmp_path, free)[1]) == {"metrics": []}
    p2 = {**LATE, "priority": "P2", "events": []}
    (m,) = json.loads(explain(tmp_path, p2, "2026-11-23T16:00:00Z")[1])["metrics"]
    assert m["target"] == {"kind": "business", "hours": 9}
    assert m["due_at"] == "2026-11-24T00:00:00Z"  # Monday 16:00 LA: one full window


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "not valid JSON"),
        ([], "expected a JSON object"),
        ({**LATE, "opened_at": "2026-11-23T15:00:00"}, "opened_at: the instant"),
        ({k: v for k, v in LATE.items() if k != "opened_at"}, "opened_at: missing"),
        ({**LATE, "priority": "P9"}, "priority: expected one of P0, P1, P2, P3"),
        ({**LATE, "plan": "gold"}, "plan: unknown plan 'gold'"),
        ({**LATE, "channel": "fax"}, "channel: expected one of"),
        ({**LATE, "events": {}}, "events: expected a list"),
        ({**LATE, "events": [{"at": "2026-11-23T15:00:00Z", "type": "wave"}]}, "events[0].type"),
        ({**LATE, "events": [{"type": "agent_public"}]}, "events[0].at: missing"),
        ({**LATE, "events": [{"at": "x", "type": "agent_public"}]}, "events[0].at: not an ISO"),
        (
            {**LATE, "events": [{"at": "2026-11-23T15:00:00Z", "type": "status", "value": "x"}]},
            "events[0].value: expected one of new, open",
        ),
        (
            {**LATE, "events": [{"at": "2026-11-23T15:00:00Z", "type": "label_add"}]},
            "events[0].label: expected a label",
        ),
    ],
)
def test_explain_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, data: object, message: str
) -> None:
    code, out, err = explain(tmp_path, data)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("oncall-tui: error: ")
    assert message in err


def test_explain_bad_now_and_missing_file(tmp_path: Path) -> None:
    code, _, err = explain(tmp_path, LATE, now="tomorrow")
    assert code == 2 and "--now" in err
    code, _, err = run(
        "sla", "explain", "--ticket", str(tmp_path / "nope.json"), "--now", "2026-11-23T15:00:00Z"
    )
    assert code == 2 and "cannot read" in err and err.count("\n") == 1


def test_explain_ref_reads_a_cached_ticket(tmp_path: Path) -> None:
    from datetime import datetime

    from oncall_tui.demo.seed import make_demo_data, seed_store
    from oncall_tui.domain.clock import FrozenClock
    from oncall_tui.store import open_store

    now = datetime.fromisoformat("2026-11-23T18:30:00+00:00")
    path = tmp_path / "demo.db"
    store = open_store(path, clock=FrozenClock(now))
    seed_store(store, make_demo_data(now, seed=1))
    row = store.db.execute(
        "SELECT remote_id FROM tickets WHERE subject LIKE 'Fleet server returns 502%'"
    ).fetchone()
    store.close()
    parser = argparse.ArgumentParser(prog="oncall-tui")
    add_sla_subparser(parser.add_subparsers(dest="command"))

    def go(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = run_sla(parser.parse_args(argv), DEFAULT, out, err, lambda: open_store(path))
        return code, out.getvalue(), err.getvalue()

    code, out, _ = go("sla", "explain", f"zendesk:{row[0]}", "--now", "2026-11-23T18:30:00Z")
    assert code == 0
    assert "target: premium P0: 4 calendar hours" in out and "answered 2d 11h late" in out
    assert "1h 20m calendar time left" in out
    code, out, _ = go(
        "sla", "explain", f"zendesk:{row[0]}", "--json", "--now", "2026-11-23T18:30:00Z"
    )
    metrics = json.loads(out)["metrics"]
    assert [m["state"] for m in metrics] == ["breached", "active"]
    assert metrics[1]["due_at"] == "2026-11-23T19:50:00Z"
    code, _, err = go("sla", "explain", "zendesk:1", "--now", "2026-11-23T18:30:00Z")
    assert code == 2 and "no cached ticket" in err
    code, _, err = go("sla", "explain", "nonsense", "--now", "2026-11-23T18:30:00Z")
    assert code == 2 and err.count("\n") == 1


def _explain_cached(tmp_path: Path, build: Any, now: str) -> list[str]:
    """``sla explain zendesk:41165`` (prose) on a store ``build`` filled; its lines."""
    from tests.store.test_sla_store import T0, seeded

    store, clock, tid = seeded(tmp_path, T0 + timedelta(hours=1))
    build(store, clock, tid, T0)
    store.close()
    from oncall_tui.store import open_store

    parser = argparse.ArgumentParser(prog="oncall-tui")
    add_sla_subparser(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    argv = ["sla", "explain", "zendesk:41165", "--now", now]
    code = run_sla(
        parser.parse_args(argv), DEFAULT, out, err, lambda: open_store(tmp_path / "sla.db")
    )
    assert code == 0, err.getvalue()
    return out.getvalue().splitlines()


def test_explain_ref_tells_rule_pauses_due_sum_and_outcome(tmp_path: Path) -> None:
    """Premium P1 opened Monday 07:00 (4 business hours), pending from 08:00 until the
    customer wrote at 17:00, after the close: 9 hours waiting, 8 of them business time. Its
    due is 07:00 + 4 business hours + those 8: Tuesday 10:00."""
    from oncall_tui.domain.remote import Page
    from oncall_tui.domain.tickets import Status
    from tests.store.test_sla_store import rc

    def build(store: Any, clock: Any, tid: int, t0: datetime) -> None:
        store.tickets.set_status(tid, Status.PENDING)  # 08:00
        clock.set(t0 + timedelta(hours=10))
        back = rc(1, t0 + timedelta(hours=10), role="customer", author="rita@globex.io")
        store.remote.apply_page("zendesk", Page(comments=(back,)))  # 17:00

    lines = _explain_cached(tmp_path, build, "2026-11-24T02:00:00Z")  # Mon 18:00 PST
    assert lines[1:] == [
        "First reply: 3h 00m business time left · due Tue 10:00 PST",
        "  started Mon 2026-11-23 07:00 PST: the ticket opened",
        "  target: premium P1: 4 business hours",
        "  paused Mon 2026-11-23 08:00 PST until Mon 2026-11-23 17:00 PST "
        "(9h 00m; 8h 00m of business time): pending",
        "  due Tue 2026-11-24 10:00 PST = started Mon 07:00 + 4 business hours + 8h 00m "
        "paused (1 pause, in business time), counting business hours only",
        "  used: 1h 00m of business time (pauses excluded)",
    ]


def test_explain_ref_tells_a_retarget_a_met_clock_and_a_breach(tmp_path: Path) -> None:
    from oncall_tui.domain.remote import Page
    from oncall_tui.domain.tickets import Priority, Status
    from tests.store.test_sla_store import rc

    def build(store: Any, clock: Any, tid: int, t0: datetime) -> None:
        store.tickets.set_status(tid, Status.PENDING)  # 08:00
        clock.set(t0 + timedelta(hours=2))
        back = rc(1, t0 + timedelta(hours=2), role="customer", author="rita@globex.io")
        store.remote.apply_page("zendesk", Page(comments=(back,)))  # 09:00
        clock.set(t0 + timedelta(hours=2, minutes=30))
        store.tickets.set_priority(tid, Priority.P0)  # 09:30: premium P0 is 4 calendar hours
        clock.set(t0 + timedelta(hours=3))
        store.tickets.add_comment(tid, "Fixed in 4.2.1", public=True, author="me")  # 10:00
        again = rc(2, t0 + timedelta(hours=8), role="customer", author="rita@globex.io")
        store.remote.apply_page("zendesk", Page(comments=(again,)))  # 15:00, never answered

    lines = _explain_cached(tmp_path, build, "2026-11-24T18:00:00Z")
    first = lines[1 : lines.index("Next reply: breached 15h 00m ago")]
    assert first == [
        "First reply: met 2h 00m early",
        "  started Mon 2026-11-23 07:00 PST: the ticket opened",
        "  target at its start: premium P1: 4 business hours",
        "  priority P0 at Mon 2026-11-23 09:30 PST: premium P0: 4 calendar hours, measured "
        "from the start",
        "  paused Mon 2026-11-23 08:00 PST until Mon 2026-11-23 09:00 PST (1h 00m): pending",
        "  was due Mon 2026-11-23 12:00 PST = started Mon 07:00 + 4 calendar hours + 1h 00m "
        "paused (1 pause, in calendar time)",
        "  fulfilled Mon 2026-11-23 10:00 PST by a public reply by our staff, with 2h 00m of "
        "calendar time left",
        "  used: 2h 00m of calendar time (pauses excluded)",
    ]
    assert lines[lines.index("Next reply: breached 15h 00m ago") + 1 :] == [
        "  started Mon 2026-11-23 15:00 PST: the customer wrote after our answer",
        "  target: premium P0: 4 calendar hours",
        "  breached Mon 2026-11-23 19:00 PST = started Mon 15:00 + 4 calendar hours (no pause)",
        "  not answered yet: the breach stays, whatever comes next",
        "  used: 19h 00m of calendar time",
    ]
