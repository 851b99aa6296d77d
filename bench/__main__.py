"""``python -m bench [NAME ...] [--quick] [--strict] [--n N] [--seed S] [--repeats R]``.

Runs the named benchmarks (all by default), prints a table per benchmark and a summary, and
writes ``bench/results/<name>-<timestamp>.json``. Exit status: 0 (report, don't gate), unless
``--strict`` and a target failed in a full run; 2 if a benchmark crashed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

from bench.common import DEFAULT_N, DEFAULT_SEED, QUICK_N, Options, Report, fmt, stamp

#: name -> (module, the measure's number in the issue)
BENCHMARKS = {
    "startup": ("bench.startup", 1),
    "keys": ("bench.keys", 2),
    "tick": ("bench.tick", 3),
    "idle": ("bench.idle", 4),
    "sync": ("bench.sync", 5),
    "sla": ("bench.sla", 6),
    "rss": ("bench.rss", 7),
    "team": ("bench.team", 8),
    "terminal": ("bench.terminal", 9),
}


def _resolve(names: list[str]) -> list[str]:
    by_number = {str(num): name for name, (_m, num) in BENCHMARKS.items()}
    out = []
    for name in names or list(BENCHMARKS):
        name = by_number.get(name, name)
        if name not in BENCHMARKS:
            raise SystemExit(
                f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)} (or 1-9)"
            )
        out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run: {', '.join(BENCHMARKS)} or 1-9 (default all)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_N:,} tickets, 1-2 repeats, targets not enforced",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 if a target fails (full runs only)"
    )
    parser.add_argument("--n", type=int, help=f"tickets (default {DEFAULT_N:,}; quick {QUICK_N:,})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--repeats", type=int, help="override every benchmark's repeat count")
    parser.add_argument("--tag", help="add TAG to the result file names (e.g. a patch's name)")
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="do not profile the product side of missed targets",
    )
    args = parser.parse_args(argv)
    names = _resolve(args.names)
    opts = Options(
        quick=args.quick,
        strict=args.strict,
        n=args.n or (QUICK_N if args.quick else DEFAULT_N),
        seed=args.seed,
        repeats=args.repeats,
        profile=not args.no_profile,
    )
    when = stamp() + (f"-{args.tag}" if args.tag else "")
    mode = "quick (targets reported, not enforced)" if opts.quick else "full"
    print(f"oncall-tui benchmarks, {mode}: {', '.join(names)}; N = {opts.n:,}, seed {opts.seed}")
    reports: list[Report] = []
    crashed: list[str] = []
    started = time.perf_counter()
    for name in names:
        module_name, number = BENCHMARKS[name]
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(module_name)
            report: Report = module.run(opts)
        except Exception:
            crashed.append(name)
            print(f"\n== {name}: CRASHED", file=sys.stderr)
            traceback.print_exc()
            continue
        report.meta.setdefault("measure", number)
        report.meta["bench_seconds"] = round(time.perf_counter() - t0, 1)
        report.print(opts.quick)
        path = report.write(opts, when)
        print(f"  -> {path.relative_to(path.parents[2])} ({time.perf_counter() - t0:.1f} s)")
        reports.append(report)
    print(f"\n== summary ({time.perf_counter() - started:.0f} s)")
    failed = 0
    for report in reports:
        for t in report.targets:
            verdict = t.verdict
            if verdict == "FAIL":
                failed += 1
            shown = f"({verdict})" if opts.quick and verdict != "N/A" else verdict
            print(
                f"  {shown:<7} {report.name}: {t.name}: {fmt(t.value, t.unit)} "
                f"{t.margin()}".rstrip()
            )
    if crashed:
        print(f"  crashed: {', '.join(crashed)}")
        return 2
    if opts.strict and not opts.quick and failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
