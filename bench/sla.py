"""Measure 6: SLA state for every ticket from scratch.

On a private copy of the cached database, ``Store.tickets.recompute_sla(ids)`` with every
ticket's id (what a calendar, policy or holiday change costs in the worst case): read each
ticket, walk the business calendar for its due and warning instants, write the stored
columns. Also the product's default, ``recompute_sla()`` (open tickets only), for reference.

Target: all tickets ≤ 1 s (median).
"""

from __future__ import annotations

import cProfile
import time

from bench.common import CACHE_DIR, NOW, PROFILES_DIR, Options, Report, profile_to, stamp
from bench.generate import cached_db, fresh_copy

LIMIT_S = 1.0


def run(opts: Options) -> Report:
    from oncall_tui.domain.clock import FrozenClock
    from oncall_tui.store import StoreError, open_store

    report = Report("sla", "SLA due instants for every ticket from scratch (recompute_sla)")
    copy = fresh_copy(cached_db(opts.n, opts.seed), CACHE_DIR / "work")
    try:
        store = open_store(copy, clock=FrozenClock(NOW))
    except StoreError as exc:  # e.g. a child running newer code migrated the cache mid-run
        raise RuntimeError(f"cannot open the cached database ({exc}); run again") from None
    reps = opts.reps(5, 2)
    try:
        ids = [int(r[0]) for r in store.db.execute("SELECT id FROM tickets ORDER BY id")]
        store.tickets.recompute_sla(ids)  # warm: page cache, holiday tables
        every: list[float] = []
        open_only: list[float] = []
        counts = {}
        for _ in range(reps):
            t0 = time.perf_counter()
            counts["all"] = store.tickets.recompute_sla(ids)
            every.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            counts["open"] = store.tickets.recompute_sla()
            open_only.append(time.perf_counter() - t0)
        report.meta.update(counts)
        row = report.row("all", f"recompute_sla(every id): {counts['all']:,} tickets", "s", every)
        report.row("open", f"recompute_sla(): {counts['open']:,} open tickets", "s", open_only)
        report.row(
            "rate", "tickets per second (every id)", "/s", [counts["all"] / x for x in every]
        )
        t = report.target(
            f"{counts['all']:,} tickets ≤ {LIMIT_S:.0f} s",
            row.median,
            LIMIT_S,
            "<=",
            "s",
            f"{row.median / counts['all'] * 1e6:.1f} µs per ticket",
        )
        if t.passed is False and opts.profile and not opts.quick:
            prof = cProfile.Profile()
            prof.enable()
            store.tickets.recompute_sla(ids)
            prof.disable()
            path = PROFILES_DIR / f"sla-{stamp()}.txt"
            report.meta["profile"] = profile_to(path, prof, "recompute_sla(every id)")
            report.notes.append(f"profile of one recompute_sla(every id): {path}")
    finally:
        store.close()
    return report
