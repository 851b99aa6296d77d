"""The child process of the whole-process benchmarks (cold start, idle CPU, peak RSS).

``python -m bench.runner bare`` runs a bare Textual app that paints one label;
``python -m bench.runner app --db PATH --config PATH --now ISO`` builds the app exactly as
``oncall-tui --db PATH --config PATH --now ISO`` does (the collector paused as in
``cli/launch.py``, ``cli.build_parser`` + ``cli.open_app_context`` + ``OncallApp(ctx)``) and
runs it headless at 120×40.

The child prints ``MARK first_paint <seconds since its own start>`` on stdout the moment the
first frame with content is composed: for the app, the first frame in which ``TicketTable``
rendered a line holding a ticket; for the bare app, the first frame in which the label
rendered. The parent times the whole process from spawn to reading that line. Then, as asked:

* ``--settle S``: keep running S seconds (real per-second ticks), then report memory
  (``INFO {"rss": …}``: VmHWM/VmRSS from /proc, or ru_maxrss);
* ``--idle S``: after the settle, measure CPU time (getrusage, all threads) over S seconds;
* ``--ticking``: the clock runs (from ``--now``, in real time) instead of being frozen, so
  countdowns change and the per-second SLA-crossing query runs, as in real use;
* ``--profile PATH``: cProfile the child from start to first paint, text report to PATH;
* ``--profile-idle PATH``: cProfile the idle window instead.

and prints ``DONE``. Keep the imports at the top of this file minimal: they are timed.
"""

from __future__ import annotations

import os
import sys
import time

_START = time.perf_counter()


def _emit(line: str) -> None:
    os.write(_OUT, (line + "\n").encode())


_OUT = os.dup(1)  # Textual may redirect sys.stdout; marks go to the original pipe


def _memory() -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    out[key] = int(rest.split()[0]) / 1024
    except OSError:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["VmHWM"] = rss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return out


def _cpu() -> float:
    """CPU seconds of this process and of its children (the integrity check runs in one):
    those that ended and were waited for (``RUSAGE_CHILDREN``), and those still running (from
    /proc, on Linux)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime + _live_children_cpu()


def _live_children_cpu() -> float:
    """utime + stime of this process's running children (0 where /proc is missing)."""
    from pathlib import Path

    me, total, tick = os.getpid(), 0.0, os.sysconf("SC_CLK_TCK")
    proc = Path("/proc")
    if not proc.is_dir():
        return 0.0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me and fields[0] != "Z":  # a zombie's time is not counted yet
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class _Plan:
    def __init__(self, argv: list[str]) -> None:
        self.kind = argv[0] if argv else "bare"
        opts = dict(zip(argv[1::2], argv[2::2], strict=False))
        self.db = opts.get("--db")
        self.config = opts.get("--config")
        self.now = opts.get("--now")
        self.settle = float(opts.get("--settle", "0"))
        self.idle = float(opts.get("--idle", "0"))
        self.profile = opts.get("--profile")
        self.profile_idle = opts.get("--profile-idle")
        self.ticking = opts.get("--ticking", "0") == "1"
        self.width = int(opts.get("--width", "120"))
        self.height = int(opts.get("--height", "40"))


def _after_first_paint(app, plan: _Plan) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    loop = asyncio.get_running_loop()
    info: dict[str, object] = {"rss_first_paint": _memory()}

    def finish() -> None:
        import json

        info["rss"] = _memory()
        _emit("INFO " + json.dumps(info))
        app.exit()

    def start_idle() -> None:
        info["rss_settled"] = _memory()
        profiler = None
        if plan.profile_idle:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu0, wall0 = _cpu(), time.perf_counter()

        def end_idle() -> None:
            info["idle_cpu_s"] = _cpu() - cpu0
            info["idle_wall_s"] = time.perf_counter() - wall0
            if profiler is not None:
                profiler.disable()
                _dump_profile(profiler, plan.profile_idle)
            finish()

        loop.call_later(plan.idle, end_idle)

    if plan.idle:
        loop.call_later(plan.settle, start_idle)
    else:
        loop.call_later(plan.settle, finish)


def _install_spy(app, widget_class, plan: _Plan, profiler) -> None:  # type: ignore[no-untyped-def]
    """Mark the first composed frame in which ``widget_class`` rendered content."""
    state = {"content": False, "done": False}
    original_line = widget_class.render_line

    def render_line(self, y):  # type: ignore[no-untyped-def]
        strip = original_line(self, y)
        if not state["content"] and _has_content(self, y):
            state["content"] = True
        return strip

    widget_class.render_line = render_line
    original_display = app._display

    def display(screen, renderable):  # type: ignore[no-untyped-def]
        original_display(screen, renderable)
        if renderable is not None and state["content"] and not state["done"]:
            state["done"] = True
            widget_class.render_line = original_line
            if profiler is not None:
                profiler.disable()
            _emit(f"MARK first_paint {time.perf_counter() - _START:.6f}")
            if profiler is not None:
                _dump_profile(profiler, plan.profile)
            _after_first_paint(app, plan)

    app._display = display


def _has_content(widget, y: int) -> bool:  # type: ignore[no-untyped-def]
    row_at = getattr(widget, "row_at", None)
    if row_at is None:  # the bare app's label
        return True
    return row_at(int(widget.scroll_y) + y) is not None


def _dump_profile(profiler, path: str | None) -> None:  # type: ignore[no-untyped-def]
    import io
    import pstats

    if not path:
        return
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.dump_stats(path + ".prof")
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)
    with open(path, "w") as fh:
        fh.write(out.getvalue())


class _RunningClock:
    """Starts at ``start`` and runs in real time (countdowns move, as in real use)."""

    def __init__(self, start) -> None:  # type: ignore[no-untyped-def]
        self.start = start
        self.t0 = time.monotonic()

    def __call__(self):  # type: ignore[no-untyped-def]
        from datetime import timedelta

        return self.start + timedelta(seconds=time.monotonic() - self.t0)


def main(argv: list[str]) -> int:
    plan = _Plan(argv)
    profiler = None
    if plan.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    size = (plan.width, plan.height)
    if plan.kind == "bare":
        from textual.app import App, ComposeResult
        from textual.widgets import Label

        class MarkLabel(Label):
            pass

        class BareApp(App[None]):
            def compose(self) -> ComposeResult:
                yield MarkLabel("oncall-tui benchmark floor: one label")

        app = BareApp()
        _install_spy(app, MarkLabel, plan, profiler)
        app.run(headless=True, size=size)
    elif plan.kind == "app":
        from oncall_tui.startup import pause_collector

        pause_collector()  # first thing, as the console script does (oncall_tui/cli/launch.py)
        import oncall_tui.cli.main as cli

        cli_args = ["--db", str(plan.db)]
        if plan.config:
            cli_args += ["--config", plan.config]
        if plan.now:
            cli_args += ["--now", plan.now]
        args = cli.build_parser().parse_args(cli_args)
        ctx = cli.open_app_context(args)
        if plan.ticking:
            clock = _RunningClock(ctx.clock())
            ctx.clock = clock
            ctx.store.clock = clock
        from oncall_tui.ui.app import OncallApp
        from oncall_tui.ui.widgets.ticket_table import TicketTable

        app = OncallApp(ctx)
        _install_spy(app, TicketTable, plan, profiler)
        try:
            app.run(headless=True, size=size)
        finally:
            ctx.store.close()
    else:
        print(f"unknown kind {plan.kind!r}", file=sys.stderr)
        return 2
    _emit("DONE")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
