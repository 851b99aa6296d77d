"""``recompute_sla`` leaves solved and closed tickets to SQL (issue 13, the 100k bench): they
are counted, their clock columns are cleared where stale, their ``paused`` stays, and an open
ticket beside them is still replayed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from oncall_tui.domain.remote import Page
from tests.store.test_sla_store import DUE, T0, rt, seeded

STALE = "UPDATE tickets SET is_open = 1, sla_bucket = 0, sla_due = 'x', sla_warn_at = 'x', "


def test_solved_tickets_are_counted_and_cleared_without_a_replay(tmp_path: Path) -> None:
    store, _, open_id = seeded(tmp_path, T0 + timedelta(hours=1))
    solved = rt(remote_id="41166", status="solved", updated_at=T0 + timedelta(minutes=5))
    store.remote.apply_page("zendesk", Page(tickets=(solved,), cursor="2"))
    found = store.tickets.find_ticket("helpdesk", "41166")
    assert found is not None
    done_id = found.id
    cols = "SELECT paused, is_open, sla_bucket, sla_due, sla_warn_at, sla_target FROM tickets "
    assert store.db.execute(cols + "WHERE id = ?", [done_id]).fetchone() == (
        0,
        0,
        2,
        None,
        None,
        None,
    )
    store.db.execute(STALE + "sla_target = 'x', paused = 1 WHERE id = ?", [done_id])
    store.db.execute(STALE + "sla_target = 'x' WHERE id = ?", [open_id])
    assert store.tickets.recompute_sla([open_id, done_id]) == 2
    assert store.db.execute(cols + "WHERE id = ?", [done_id]).fetchone() == (
        1,
        0,
        2,
        None,
        None,
        None,
    )
    due = store.db.execute(cols + "WHERE id = ?", [open_id]).fetchone()
    assert due[1:4] == (1, 0, "2026-11-23T19:00:00Z") and DUE.hour == 19
    # every open ticket (the default): a solved one still marked open is counted and cleared
    store.db.execute(STALE + "sla_target = 'x' WHERE id = ?", [done_id])
    assert store.tickets.recompute_sla() == 2
    assert store.db.execute(cols + "WHERE id = ?", [done_id]).fetchone()[1:] == (
        0,
        2,
        None,
        None,
        None,
    )
    assert store.tickets.recompute_sla() == 1  # only the open one is left to look at
    store.close()
