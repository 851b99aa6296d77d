"""`bug file --from FILE`: the form's rules and messages, search first, the guard, --yes."""

from __future__ import annotations

import json
from pathlib import Path

from oncall_tui.data.resources import default_form_schema
from oncall_tui.domain.bug_report import validate
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpKind
from oncall_tui.store import open_store
from tests.cli.conftest import NOW_DT

REPORT = {
    "title": "Live query hangs at 95% on large fleets",
    "codename": "ceres",
    "server_version": "4.57.1",
    "agent_kind": "fleetd",
    "agent_version": "1.27.0",
    "os": "macOS 14.5",
    "browser": "Chrome 126",
    "expected": "The query completes.",
    "actual": "It stops at 95%.",
    "steps": "1. Run a live query on all hosts",
}


def write_toml(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()))
    return path


def test_a_wrong_field_gets_the_forms_own_message_exit_2(demo, tmp_path: Path) -> None:
    values = {**REPORT, "codename": "Not A Codename", "server_version": ""}
    done = demo("bug", "file", "--from", str(write_toml(tmp_path / "r.toml", values)))
    assert done.returncode == 2, done.stderr
    expected = validate(default_form_schema(), values)
    assert len(expected) == 2
    for error in expected:
        assert f"({error.field_id}): {error.message}" in done.stderr
    unknown = demo("bug", "file", "--from", str(write_toml(tmp_path / "u.toml", {"titel": "x"})))
    assert unknown.returncode == 2 and "unknown field titel" in unknown.stderr
    broken = tmp_path / "b.json"
    broken.write_text("{nope")
    bad = demo("bug", "file", "--from", str(broken))
    assert bad.returncode == 2 and "not valid json" in bad.stderr and "Traceback" not in bad.stderr


def test_search_first_then_yes_queues_it_as_the_form_does(demo, demo_db: Path, tmp_path) -> None:
    report = write_toml(tmp_path / "r.toml", REPORT)
    checked = demo("bug", "file", "--from", str(report))
    assert checked.returncode == 0, checked.stderr
    assert "search first" in checked.stdout and "acme/product#1204" in checked.stdout
    assert "not filed" in checked.stdout
    store = open_store(demo_db, clock=FrozenClock(NOW_DT), migrate=False)
    assert store.outbox.ops() == []
    store.close()
    filed = demo(
        "bug", "file", "--from", str(report), "--ticket", "zendesk:41157", "--yes", "--json"
    )
    assert filed.returncode == 0, filed.stderr
    result = json.loads(filed.stdout)
    assert result["queued"] and result["similar"][0]["ref"] == "acme/product#1204"
    store = open_store(demo_db, clock=FrozenClock(NOW_DT), migrate=False)
    try:
        (op,) = store.outbox.ops()
        assert op.kind is OpKind.CREATE_ISSUE and op.id == result["outbox"]
        assert op.payload["title"] == REPORT["title"]
        assert "customer-ceres" in op.payload["labels"]
        (draft,) = store.drafts.all("bug_report")
        assert draft.state == "submitted" and draft.outbox_id == op.id
        assert draft.ticket_id == store.tickets.find_ticket("helpdesk", "41157").id  # type: ignore[union-attr]
    finally:
        store.close()


def test_the_guard_refuses_a_customer_name_exit_3(demo, demo_db: Path, tmp_path) -> None:
    values = {**REPORT, "actual": "Acme Logistics says it stops at 95%."}
    report = write_toml(tmp_path / "r.toml", values)
    done = demo("bug", "file", "--from", str(report), "--yes")
    assert done.returncode == 3 and "names Acme Logistics" in done.stderr
    store = open_store(demo_db, clock=FrozenClock(NOW_DT), migrate=False)
    assert store.outbox.ops() == []
    store.close()
    ok = demo("bug", "file", "--from", str(report), "--yes", "--override", "they agreed")
    assert ok.returncode == 0, ok.stderr
