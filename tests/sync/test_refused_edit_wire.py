"""An edit Zendesk refuses for good stops pausing the SLA clock, over the wire fake on
loopback (issue 13): the user sets a ticket pending (the clock pauses at once, offline
first); Zendesk answers 422 (the ticket was closed there, not yet pulled); the entry fails
and the stored clock runs again to the due it had, as if the edit never happened."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from oncall_tui.cli.backends import SyncSetup
from oncall_tui.cli.sync import run_sync_once
from oncall_tui.demo.fakes import DEFAULT_TOKEN
from oncall_tui.demo.fakes.loopback import serve_on_loopback
from oncall_tui.demo.fakes.zendesk import ZendeskFake
from oncall_tui.domain.clock import FrozenClock
from oncall_tui.domain.ops import OpState
from oncall_tui.domain.remote import RemoteCustomer
from oncall_tui.domain.tickets import Status
from oncall_tui.settings.config import BackendConfig, Config
from oncall_tui.settings.paths import Paths
from oncall_tui.settings.secrets import Credential, MemorySecretStore, Secret
from oncall_tui.store import open_store
from tests.conftest import FROZEN_NOW
from tests.fakes import remote_ticket
from tests.sync.spec_check import problems_in_log


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_NOW)


@pytest.fixture
def zendesk(clock: FrozenClock) -> Iterator[tuple[ZendeskFake, str]]:
    fake = ZendeskFake(
        organizations=[RemoteCustomer("77", "Globex Health", "premium", ("globexhealth.io",))],
        tickets=[
            remote_ticket(
                1,
                remote_id="201",
                customer_remote_id="77",
                opened_at=FROZEN_NOW,
                updated_at=FROZEN_NOW,
            )
        ],
        clock=clock,
        export_lag=0,
        export_rate_per_minute=None,
    )
    url, stop = serve_on_loopback(fake)
    yield fake, url
    stop()


def sla_row(db: Path, clock: FrozenClock) -> tuple[int, int, str | None, int]:
    store = open_store(db, clock=clock)
    try:
        ticket = store.tickets.find_ticket("helpdesk", "201")
        assert ticket is not None
        row = store.db.execute(
            "SELECT id, sla_bucket, sla_due, paused FROM tickets WHERE id = ?", [ticket.id]
        ).fetchone()
        return row[0], row[1], row[2], row[3]
    finally:
        store.close()


@pytest.mark.parametrize("edit", ["pending", "plus_label"], ids=["set pending", "add a + label"])
def test_a_refused_edit_no_longer_pauses_the_clock(
    tmp_path: Path, clock: FrozenClock, zendesk: tuple[ZendeskFake, str], edit: str
) -> None:
    fake, url = zendesk
    config = Config(backends={"zendesk": BackendConfig("zendesk", url)})
    secrets = MemorySecretStore({"zendesk": Credential("oauth", Secret(DEFAULT_TOKEN))})
    paths = Paths(config=tmp_path / "c.toml", db=tmp_path / "db.sqlite", data_dir=tmp_path)
    err = io.StringIO()
    assert run_sync_once(SyncSetup(config, paths, secrets, clock, io.StringIO(), err)) == 0, (
        err.getvalue()
    )
    tid, bucket, due, paused = sla_row(paths.db, clock)
    assert (bucket, paused) == (0, 0) and due is not None  # the first reply clock runs

    clock.advance(60)
    store = open_store(paths.db, clock=clock)
    try:
        if edit == "pending":
            store.tickets.set_status(tid, Status.PENDING)
        else:
            store.tickets.add_labels(tid, ["+more info please"])
    finally:
        store.close()
    assert sla_row(paths.db, clock)[1:] == (1, None, 1)  # paused at once
    # closed in Zendesk meanwhile (not pulled yet: its export time stays): updates are refused
    fake.tickets[201]["status"] = "closed"
    clock.advance(60)
    out = io.StringIO()
    rc = run_sync_once(SyncSetup(config, paths, secrets, clock, out, err))
    assert rc == 1, out.getvalue() + err.getvalue()  # a refused entry is worth an exit status
    assert "failed 1" in out.getvalue()
    assert problems_in_log("zendesk", fake.log) == []
    puts = [e for e in fake.log if e.method == "PUT"]
    assert len(puts) == 1 and puts[0].status == 422
    store = open_store(paths.db, clock=clock)
    try:
        (op,) = store.outbox.ops(tuple(OpState), ticket_id=tid)
        assert op.state is OpState.FAILED
        types = [(e.type.value, e.value) for e in store.tickets.get_ticket(tid).sla_events]
        assert not {("status", "pending"), ("label_add", "+more info please")} & set(types)
    finally:
        store.close()
    # the refused edit did not happen: the clock runs to the due it had before
    assert sla_row(paths.db, clock)[1:] == (0, due, 0)
