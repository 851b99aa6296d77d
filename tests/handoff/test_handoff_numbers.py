"""Every number of the handoff summary against a direct count over the database's rows."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oncall_tui.cli.main import main
from oncall_tui.domain.handoff import Window, build_handoff, handoff_json
from oncall_tui.domain.sla import SlaSettings
from tests.handoff.week import NOW, START, make_week

LA = ZoneInfo("America/Los_Angeles")


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def direct_clocks(db_path: Path) -> list[dict]:
    """Clocks recounted from raw rows: first reply, then customer follow-up → staff answer."""
    import sqlite3

    con = sqlite3.connect(db_path)
    out = []
    for tid, source, opened, first, status, updated, requester, assignee in con.execute(
        "SELECT id, source, opened_at, first_response_at, status, updated_at, requester, "
        "assignee FROM tickets"
    ):
        target = {"helpdesk": timedelta(hours=4), "chat": timedelta(hours=24)}[source]
        o, f = _at(opened), _at(first)
        stop = f if f is not None else (_at(updated) if status in ("solved", "closed") else None)
        out.append(
            dict(t=tid, kind="first", due=o + target, stop=stop, who=assignee or "unassigned")
        )
        if f is None:
            continue
        running = None
        for author, created, public in con.execute(
            "SELECT author, created_at, public FROM comments WHERE ticket_id = ? "
            "ORDER BY created_at, id",
            [tid],
        ):
            c = _at(created)
            if not public or c <= f:
                continue
            if author == requester and running is None:
                running = c
            elif author != requester and running is not None:
                out.append(
                    dict(
                        t=tid,
                        kind="next",
                        due=running + target,
                        stop=c,
                        who=assignee or "unassigned",
                    )
                )
                running = None
        if running is not None:
            out.append(
                dict(
                    t=tid,
                    kind="next",
                    due=running + target,
                    stop=None,
                    who=assignee or "unassigned",
                )
            )
    con.close()
    return out


@pytest.fixture
def week(tmp_path: Path):
    store = make_week(tmp_path / "week.db")
    yield store, tmp_path / "week.db"
    store.close()


def test_every_sla_number_matches_a_direct_count(week) -> None:
    store, path = week
    h = build_handoff(
        store.handoff.handoff_records(START, NOW), Window(START, NOW), SlaSettings.default()
    )
    clocks = direct_clocks(path)
    breached = [
        c
        for c in clocks
        if START <= c["due"] < NOW and (c["stop"] > c["due"] if c["stop"] else NOW >= c["due"])
    ]
    met = [
        c
        for c in clocks
        if c["stop"] is not None and c["stop"] <= c["due"] and START <= c["stop"] < NOW
    ]
    assert len(breached) > 5 and len(met) > 5  # the week is worth looking at
    assert len(h.sla.breaches) == len(breached)
    assert sum(a.total for a in h.sla.attainment) == len(breached) + len(met)
    assert sum(a.met for a in h.sla.attainment) == len(met)
    got = Counter()
    for a in h.sla.attainment:
        assert a.plan == "premium"
        got[(str(a.kind), a.priority)] += a.met
    import sqlite3

    con = sqlite3.connect(path)
    prio = dict(con.execute("SELECT id, priority FROM tickets"))
    want = Counter((c["kind"], prio[c["t"]]) for c in met)
    assert got == want
    totals = Counter()
    for a in h.sla.attainment:
        totals[(str(a.kind), a.priority)] += a.total
    assert totals == want + Counter((c["kind"], prio[c["t"]]) for c in breached)
    # breaches per day (local dates of the calendar) and by holder
    per_day = Counter(c["due"].astimezone(LA).date() for c in breached)
    assert dict(h.sla.breaches_per_day) == {
        d: per_day.get(d, 0) for d, _n in h.sla.breaches_per_day
    }
    assert sum(n for _d, n in h.sla.breaches_per_day) == len(breached)
    assert len(h.sla.breaches_per_day) == 8  # Mon 23 (local) .. Mon 30
    assert dict(h.sla.breaches_by_holder) == dict(Counter(c["who"] for c in breached))
    # first-reply times: every first response inside the window, nearest-rank percentiles
    rows = con.execute(
        "SELECT (julianday(first_response_at) - julianday(opened_at)) * 86400 FROM tickets "
        "WHERE first_response_at >= ? AND first_response_at < ?",
        ["2026-11-23T18:00:00Z", "2026-11-30T18:00:00Z"],
    ).fetchall()
    secs = sorted(round(r[0]) for r in rows)
    con.close()
    assert list(h.sla.first_reply_seconds) == secs
    assert h.sla.first_reply_median == secs[math.ceil(len(secs) / 2) - 1]
    assert h.sla.first_reply_p90 == secs[math.ceil(len(secs) * 0.9) - 1]


def test_the_json_has_the_documented_keys_and_the_same_numbers(week, capsys) -> None:
    store, path = week
    code = main(
        [
            "--db",
            str(path),
            "--now",
            "2026-11-30T18:00:00Z",
            "handoff",
            "--format",
            "json",
            "--since",
            "7d",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"window", "alarms", "impact", "no_impact", "watch", "sla"}
    assert data["window"] == {"start": "2026-11-23T18:00:00Z", "end": "2026-11-30T18:00:00Z"}
    h = build_handoff(
        store.handoff.handoff_records(START, NOW), Window(START, NOW), SlaSettings.default()
    )
    assert data == json.loads(json.dumps(handoff_json(h)))
    assert sum(data["sla"]["breaches_per_day"].values()) == len(h.sla.breaches)
    # open P0 tickets are the ones with end-user impact here
    import sqlite3

    con = sqlite3.connect(path)
    (open_p0,) = con.execute(
        "SELECT count(*) FROM tickets WHERE status NOT IN ('solved', 'closed') "
        "AND priority IN ('P0', 'P1')"
    ).fetchone()
    con.close()
    assert len(data["impact"]) == open_p0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "soon"], "expected a span like 7d"),
        (["--since", "0d"], "at least 1d"),
        (["--since", "2027-01-01"], "must start before now"),
        (["--offline", "many"], "expected hours"),
    ],
)
def test_bad_values_get_one_line(week, capsys, args, message) -> None:
    _store, path = week
    code = main(["--db", str(path), "--now", "2026-11-30T18:00:00Z", "handoff", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err and err.startswith("oncall-tui: error:")
