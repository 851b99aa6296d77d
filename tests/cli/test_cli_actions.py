"""The ticket actions as real processes: the outbox, the undo window, the guard, exit codes;
an action made here is seen by a running app (another process) and sent once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import FrozenClock, SystemClock
from oncall_tui.domain.ops import OpState
from oncall_tui.store import open_store
from tests.cli.conftest import NOW_DT, run
from tests.fakes import remote_ticket


def read(db: Path):  # type: ignore[no-untyped-def]
    return open_store(db, clock=FrozenClock(NOW_DT), migrate=False)


def test_each_action_queues_what_the_key_queues_with_its_undo_window(small) -> None:
    db, call = small
    steps = [
        (("ticket", "assign", "zendesk:501", "me"), "assign", {"assignee": "alex@support.example"}),
        (("ticket", "status", "zendesk:501", "on-hold"), "set_status", {"status": "hold"}),
        (("ticket", "priority", "zendesk:501", "1"), "set_priority", {"priority": "P1"}),
        (
            ("ticket", "label", "zendesk:501", "+waiting on logs"),
            "add_labels",
            {"labels": ["+waiting on logs"]},
        ),
        (
            ("ticket", "label", "zendesk:501", "--remove", "+waiting on logs"),
            "remove_labels",
            {"labels": ["+waiting on logs"]},
        ),
        (
            ("ticket", "note", "zendesk:501", "--text", "Seen in 4.2"),
            "note",
            {"body": "Seen in 4.2"},
        ),
    ]
    for args, kind, payload in steps:
        done = call(*args)
        assert done.returncode == 0, (args, done.stderr)
        assert "queued (outbox" in done.stdout and "sent after 10 s" in done.stdout
        store = read(db)
        try:
            op = store.outbox.ops()[-1]
            assert (op.kind, op.payload) == (kind, payload)
            assert op.id in store.outbox.waiting_op_ids(NOW_DT)  # the undo window, as for a key
        finally:
            store.close()
    store = read(db)
    try:
        ticket = store.tickets.find_ticket("helpdesk", "501")
        assert ticket is not None
        assert (ticket.assignee, ticket.status, ticket.priority) == (
            "alex@support.example",
            "hold",
            "P1",
        )
        assert ticket.labels == () and ticket.pending_ops == 6
        assert store.tickets.comments(ticket.id)[-1].body == "Seen in 4.2"
        # The app's u takes back the CLI's change like its own.
        undone = store.outbox.undo_last(NOW_DT)
        assert undone is not None and undone.kind == "note"
    finally:
        store.close()


def test_bad_values_and_impossible_actions_are_one_line_exit_2(small) -> None:
    db, call = small
    for args, words in (
        (("ticket", "status", "zendesk:501", "done"), "expected new, open"),
        (("ticket", "priority", "zendesk:501", "P7"), "expected P0"),
        (("ticket", "note", "slack:C0123:1700000000.000100", "--text", "x"), "is public"),
        (("ticket", "reply", "zendesk:501"), "nothing to send"),
        (("ticket", "reply", "zendesk:501", "no-such-template"), "no such template"),
        (("ticket", "assign", "zendesk:9", "me"), "no such ticket"),
    ):
        done = call(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr, done.stderr
    store = read(db)
    assert store.outbox.ops() == []
    store.close()


def test_a_placeholder_left_refuses_the_reply_exit_4(small) -> None:
    db, call = small
    done = call("ticket", "reply", "zendesk:501", "bug-filed")  # {issue_url}: nothing linked
    assert done.returncode == 4, done.stderr
    assert "{issue_url}" in done.stderr
    store = read(db)
    tid = store.tickets.find_ticket("helpdesk", "501").id  # type: ignore[union-attr]
    store.tickets.link(tid, "https://github.com/acme/product/issues/77", "Live query stalls")
    store.close()
    done = call("ticket", "reply", "zendesk:501", "bug-filed")
    assert done.returncode == 0, done.stderr
    store = read(db)
    body = store.outbox.ops()[-1].payload["body"]
    store.close()
    assert "https://github.com/acme/product/issues/77" in body and "{" not in body


def test_the_guard_refuses_public_text_naming_a_customer_exit_3(small) -> None:
    db, call = small
    reply = call("ticket", "reply", "acme/product#77", "--text", "Globex Health sees this too")
    assert reply.returncode == 3, reply.stderr
    assert "names a customer" in reply.stderr and "Globex Health" in reply.stderr
    label = call("ticket", "label", "acme/product#77", "Acme Logistics")
    assert label.returncode == 3 and "names Acme Logistics" in label.stderr
    store = read(db)
    assert store.outbox.ops() == []
    store.close()
    # The same text to the customer privately (the help desk) is not guarded.
    assert call("ticket", "reply", "zendesk:501", "--text", "Acme Logistics: fixed").returncode == 0
    # An override with a reason publishes it, and the reason goes to the sync log.
    ok = call(
        "ticket",
        "reply",
        "acme/product#77",
        "--text",
        "Globex Health sees this too",
        "--override",
        "Globex agreed to be named",
    )
    assert ok.returncode == 0, ok.stderr
    store = read(db)
    try:
        assert store.outbox.ops()[-1].payload["body"] == "Globex Health sees this too"
        assert any("Globex agreed to be named" in e[3] for e in store.sync_state.log_entries())
    finally:
        store.close()


def test_public_references_are_made_inert_unless_kept(small) -> None:
    db, call = small
    assert (
        call("ticket", "reply", "acme/product#77", "--text", "cc @alice, see #12").returncode == 0
    )
    assert (
        call(
            "ticket", "reply", "acme/product#77", "--text", "cc @bob", "--keep-references"
        ).returncode
        == 0
    )
    store = read(db)
    bodies = [op.payload["body"] for op in store.outbox.ops()]
    store.close()
    assert bodies == ["cc `@alice`, see `#12`", "cc @bob"]


def test_edit_opens_the_editor_and_a_refused_text_is_kept_as_a_draft(small, tmp_path) -> None:
    db, call = small
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Hi {requester}, see {issue_url}" > "$1"\n')
    editor.chmod(0o755)
    done = call("ticket", "reply", "zendesk:501", "--edit", env={"EDITOR": str(editor)})
    assert done.returncode == 4, done.stderr
    drafts = json.loads(call("drafts", "--json").stdout)
    assert [d["fields"]["body"] for d in drafts] == ["Hi {requester}, see {issue_url}"]
    editor.write_text('#!/bin/sh\necho "Fixed in 4.2.1" >> "$1"\n')
    done = call(
        "ticket", "note", "zendesk:501", "--text", "Draft:", "--edit", env={"EDITOR": str(editor)}
    )
    assert done.returncode == 0, done.stderr
    store = read(db)
    assert store.outbox.ops()[-1].payload["body"] == "Draft:\nFixed in 4.2.1"
    store.close()


def test_send_now_on_the_demo_sends_through_its_fakes(demo, demo_db: Path) -> None:
    first = demo("ticket", "priority", "zendesk:41165", "P1")
    assert first.returncode == 0, first.stderr
    done = demo("ticket", "reply", "zendesk:41165", "--text", "On it.", "--send-now")
    assert done.returncode == 0, done.stderr
    assert "reply sent" in done.stdout and "1 earlier change(s)" in done.stderr
    store = read(demo_db)
    try:
        ops = store.outbox.ops(tuple(OpState))
        assert [(o.kind, o.state) for o in ops] == [("set_priority", "done"), ("reply", "done")]
    finally:
        store.close()


def test_a_cli_reply_is_seen_by_a_running_app_and_sent_once(tmp_path: Path) -> None:
    clock = SystemClock()
    now = clock()
    fake = ZendeskFake(
        tickets=[
            remote_ticket(i, remote_id=str(200 + i), opened_at=now, updated_at=now)
            for i in range(1, 3)
        ],
        clock=clock,
        export_lag=0,
        export_rate_per_minute=None,
    )
    url, stop_server = serve_on_loopback(fake)
    config = tmp_path / "config.toml"
    config.write_text(
        f'user = "alex@support.example"\nundo_seconds = 6\n[backends.zendesk]\nurl = "{url}"\n'
    )
    db, stop = tmp_path / "cache.db", tmp_path / "stop"
    env = {**os.environ, "ONCALL_TUI_ZENDESK_TOKEN": DEFAULT_TOKEN}
    first = run("sync", "--once", "--config", str(config), "--db", str(db), env=env)
    assert first.returncode == 0, first.stderr
    app = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("_app.py")),
            str(config),
            str(db),
            "helpdesk",
            "201",
            str(stop),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert app.stdout is not None
        assert json.loads(app.stdout.readline())["thread"] == []
        queued_at = time.time()
        done = run(
            "ticket",
            "reply",
            "zendesk:201",
            "--text",
            "Restarting the workers",
            "--config",
            str(config),
            "--db",
            str(db),
            env=env,
        )
        assert done.returncode == 0, done.stderr
        seen = json.loads(app.stdout.readline())  # the app's own connection shows it...
        assert seen["thread"] == [["Restarting the workers", False]]
        assert fake.mutations["add_comment"] == 0  # ...waiting out its undo window
        sent = json.loads(app.stdout.readline())
        assert sent["thread"] == [["Restarting the workers", True]]
        assert sent["at"] - queued_at >= 5  # the window: 6 s, kept to the second
        time.sleep(0.6)  # more passes of the app's engine
        again = run("sync", "--once", "--config", str(config), "--db", str(db), env=env)
        assert again.returncode == 0, again.stderr
        assert fake.mutations["add_comment"] == 1
        assert [c["body"] for c in fake.comments[201]].count("Restarting the workers") == 1
    finally:
        stop.touch()
        try:
            app.wait(20)
        finally:
            if app.poll() is None:
                app.kill()
            stop_server()
