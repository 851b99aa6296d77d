"""`tickets`, `ticket show`, `drafts`, `export` and the global options, as real processes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from oncall_tui.demo.seed import DEMO_USER
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.query import parse_query
from oncall_tui.settings.config import DEFAULT_VIEWS
from oncall_tui.store import open_store
from tests.cli.conftest import HOSTILE, NOW_DT, run
from tests.cli.schemas import DRAFT, SHOW, STATES, TICKET, check

CONTROL = [chr(c) for c in range(0x20) if c not in (0x0A,)] + [chr(c) for c in range(0x7F, 0xA0)]


def no_controls(text: str) -> None:
    bad = sorted({repr(c) for c in text if c in CONTROL})
    assert not bad, f"control characters in the output: {bad}"


def queue_ids(db: Path, query: str, me: str = DEMO_USER, limit: int = 1000) -> list[int]:
    store = open_store(db, clock=FrozenClock(NOW_DT), migrate=False)
    try:
        return [r.id for r in store.queue.open_queue(parse_query(query), limit=limit, me=me)]
    finally:
        store.close()


def refs_to_ids(db: Path, objects: list[dict]) -> list[int]:
    store = open_store(db, clock=FrozenClock(NOW_DT), migrate=False)
    try:
        out = []
        for o in objects:
            ticket = store.tickets.find_ticket(o["source"], o["remote_id"])
            assert ticket is not None, o["ref"]
            out.append(ticket.id)
        return out
    finally:
        store.close()


# ---- global options --------------------------------------------------------------------------


def test_global_options_work_before_and_after_the_command(demo, demo_db: Path) -> None:
    after = demo("tickets", "--json", "--limit", "5")
    before = run(
        "--demo",
        "--db",
        str(demo_db),
        "--now",
        "2026-11-30T18:00:00Z",
        "tickets",
        "--json",
        "--limit",
        "5",
    )
    assert after.returncode == before.returncode == 0, after.stderr + before.stderr
    assert json.loads(after.stdout) == json.loads(before.stdout) != []


def test_sync_once_takes_config_after_the_command(tmp_path: Path) -> None:
    done = run(
        "sync", "--once", "--db", str(tmp_path / "x.db"), "--config", str(tmp_path / "missing.toml")
    )
    assert done.returncode == 2
    assert "missing.toml: no such config file" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_an_option_after_the_command_overrides_the_one_before(tmp_path: Path, small) -> None:
    db, call = small
    done = run(
        "--db",
        str(tmp_path / "other.db"),
        "tickets",
        "--json",
        "--db",
        str(db),
        "--now",
        "2026-11-30T18:00:00Z",
    )
    assert done.returncode == 0, done.stderr
    assert {o["ref"] for o in json.loads(done.stdout)} >= {"zendesk:501", "acme/product#77"}


# ---- tickets ---------------------------------------------------------------------------------


def test_tickets_json_is_the_queue_in_order_and_fits_the_schema(demo, demo_db: Path) -> None:
    done = demo("tickets", "--json", "--all")
    assert done.returncode == 0, done.stderr
    objects = json.loads(done.stdout)
    assert len(objects) > 20
    for o in objects:
        check(o, TICKET)
        assert o["sla"] == o["clocks"][0] and o["sla"]["state"] in STATES
    assert refs_to_ids(demo_db, objects) == queue_ids(demo_db, "")
    states = {o["sla"]["state"] for o in objects}
    assert "breached" in states and len(states) >= 3


def test_every_view_is_the_apps_view(demo, demo_db: Path) -> None:
    for number, view in enumerate(DEFAULT_VIEWS, 1):
        by_name = demo("tickets", "--view", view.name.upper(), "--json", "--all")
        by_number = demo("tickets", "--view", str(number), "--json", "--all")
        assert by_name.returncode == 0, by_name.stderr
        assert json.loads(by_name.stdout) == json.loads(by_number.stdout)
        assert refs_to_ids(demo_db, json.loads(by_name.stdout)) == queue_ids(demo_db, view.query)


def test_a_query_narrows_a_view_and_limit_and_sort_apply(demo, demo_db: Path) -> None:
    done = demo("tickets", "--view", "All open", "priority:P0,P1", "--json", "--all")
    objects = json.loads(done.stdout)
    assert objects and all(o["priority"] in ("P0", "P1") for o in objects)
    assert refs_to_ids(demo_db, objects) == queue_ids(demo_db, "is:open priority:P0,P1")
    limited = json.loads(demo("tickets", "--json", "--limit", "3").stdout)
    assert refs_to_ids(demo_db, limited) == queue_ids(demo_db, "")[:3]
    newest = json.loads(demo("tickets", "--json", "--sort", "updated", "--limit", "4").stdout)
    stamps = [o["updated_at"] for o in json.loads(demo("tickets", "--json", "--all").stdout)]
    assert [o["updated_at"] for o in newest] == sorted(stamps, reverse=True)[:4]


def test_a_bad_query_view_or_field_is_one_line(demo) -> None:
    for args, words in (
        (("tickets", "priorty:P0"), "did you mean priority"),
        (("tickets", "--view", "nope"), "no such view"),
        (("tickets", "--fields", "ref,colour"), "unknown colour"),
        (("tickets", "--limit", "0"), "at least 1"),
        (("ticket", "show", "zendesk:999999"), "no such ticket"),
        (("ticket", "show", "what"), "not a ticket reference"),
    ):
        done = demo(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr


def test_the_table_fits_the_terminal(demo) -> None:
    for width in (60, 80, 132):
        done = demo("tickets", "--limit", "30", env={"COLUMNS": str(width)})
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert len(lines) == 31 and lines[0].startswith("SLA")
        assert max(len(x) for x in lines) <= width
    wide = demo("tickets", "--limit", "30", env={"COLUMNS": "200"}).stdout
    assert "Production instance unreachable, MySQL connection errors" in wide  # not cut


def test_csv_has_a_header_and_one_row_per_ticket(demo) -> None:
    done = demo("tickets", "--csv", "--all", "--fields", "ref,sla_state,labels,subject")
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["ref", "sla_state", "labels", "subject"]
    objects = json.loads(demo("tickets", "--json", "--all").stdout)
    assert [r[0] for r in rows[1:]] == [o["ref"] for o in objects]


def test_customer_escapes_never_reach_the_output(small) -> None:
    db, call = small
    outputs = [
        call("tickets", "--all").stdout,
        call("tickets", "--all", "--json").stdout,
        call("tickets", "--all", "--csv").stdout,
        call("ticket", "show", "zendesk:502").stdout,
        call("ticket", "show", "zendesk:502", "--json").stdout,
        call("export", "--since", "2026-01-01", "--format", "jsonl").stdout,
        call("export", "--since", "2026-01-01", "--format", "csv").stdout,
    ]
    for text in outputs:
        assert "pwned" in text or "Printer" in text, text
        no_controls(text)
        assert "\\u001b" not in text and "\\u009b" not in text
    shown = json.loads(outputs[4])["subject"]
    assert shown != HOSTILE and "␛]0;pwned␇" in shown


def test_csv_cells_are_not_formulas(small) -> None:
    db, call = small
    store = open_store(db, clock=FrozenClock(NOW_DT), migrate=False)
    store.db.execute(
        "UPDATE tickets SET subject = '=HYPERLINK(\"http://x\")' WHERE remote_id = '501'"
    )
    store.close()
    rows = list(csv.DictReader(io.StringIO(call("tickets", "--csv").stdout)))
    assert any(r["subject"] == '\'=HYPERLINK("http://x")' for r in rows)


# ---- ticket show -----------------------------------------------------------------------------


def test_show_names_tickets_as_the_ui_does(small) -> None:
    db, call = small
    for ref in (
        "zendesk:501",
        "acme/product#77",
        "slack:C0123:1700000000.000100",
        "zendesk #501",
        "#501",
        "github:acme/product#77",
    ):
        done = call("ticket", "show", ref, "--json")
        assert done.returncode == 0, (ref, done.stderr)
        data = json.loads(done.stdout)
        check(data, SHOW)
    store = open_store(db, clock=FrozenClock(NOW_DT), migrate=False)
    tid = store.tickets.find_ticket("helpdesk", "501").id  # type: ignore[union-attr]
    store.tickets.link(tid, "https://github.com/acme/product/issues/77", "Live query stalls")
    store.close()
    desk = json.loads(call("ticket", "show", "zendesk:501", "--json").stdout)
    assert desk["links"] == [
        {"url": "https://github.com/acme/product/issues/77", "title": "Live query stalls"}
    ]
    assert [c["body"] for c in desk["thread"]] == ["Any news?"]
    assert desk["customer"] == "Acme Logistics" and desk["plan"] == "premium"
    text = call("ticket", "show", "zendesk:501").stdout
    assert "zendesk:501  Login fails after upgrade" in text and "SLA reply:" in text
    assert "    Every time." in text


def test_show_on_the_demo_has_the_thread_and_outbox(demo, demo_db: Path) -> None:
    objects = json.loads(demo("tickets", "--json", "--all").stdout)
    one_of_each = {o["source"]: o for o in objects}
    assert len(one_of_each) == 3
    for o in one_of_each.values():
        data = json.loads(demo("ticket", "show", o["ref"], "--json").stdout)
        check(data, SHOW)
        assert {k: data[k] for k in o} == o
    queued = demo("ticket", "note", "zendesk:41165", "--text", "Checking the pool size")
    assert queued.returncode == 0, queued.stderr
    data = json.loads(demo("ticket", "show", "zendesk:41165", "--json").stdout)
    check(data, SHOW)
    assert data["outbox"][-1]["kind"] == "note" and data["outbox"][-1]["in_undo_window"]
    assert data["thread"][-1] == {
        "author": DEMO_USER,
        "created_at": "2026-11-30T18:00:00Z",
        "public": False,
        "body": "Checking the pool size",
        "sent": False,
    }
    assert data["unsent"] == 1


# ---- drafts and export -----------------------------------------------------------------------


def test_drafts_lists_every_draft(small) -> None:
    db, call = small
    store = open_store(db, clock=FrozenClock(NOW_DT), migrate=False)
    tid = store.tickets.find_ticket("helpdesk", "501").id  # type: ignore[union-attr]
    store.drafts.create_draft("reply", tid, {"body": "Half a reply", "title": "Half a reply"})
    store.close()
    done = call("drafts", "--json")
    drafts = json.loads(done.stdout)
    assert len(drafts) == 1
    check(drafts[0], DRAFT)
    assert drafts[0]["ticket"] == "zendesk:501" and drafts[0]["fields"]["body"] == "Half a reply"
    assert "zendesk:501  Half a reply" in call("drafts").stdout


def test_export_since_a_date_as_jsonl_and_csv(small, demo) -> None:
    db, call = small
    lines = call("export", "--since", "2026-11-30", "--format", "jsonl").stdout.splitlines()
    objects = [json.loads(x) for x in lines]
    for o in objects:
        check(o, TICKET)
    assert {o["ref"] for o in objects} == {
        "zendesk:501",
        "acme/product#77",
        "slack:C0123:1700000000.000100",
    }  # 502 is older
    assert [o["updated_at"] for o in objects] == sorted(o["updated_at"] for o in objects)
    rows = list(
        csv.DictReader(
            io.StringIO(call("export", "--since", "2026-11-30T00:00:00Z", "--format", "csv").stdout)
        )
    )
    assert {r["ref"] for r in rows} == {o["ref"] for o in objects}
    assert all(r["sla_state"] in STATES for r in rows)
    assert demo("export", "--since", "2026-01-01").returncode == 0
    bad = call("export", "--since", "last week")
    assert bad.returncode == 2 and "--since" in bad.stderr
