"""The app on its demo in a real terminal, with a clock that runs FACTOR times real time from
the demo's frozen instant (0: frozen). ``python -m tests.terminal._child DB FACTOR``."""

from __future__ import annotations

import sys
import time
from datetime import timedelta

import oncall_tui.cli.main as cli
from oncall_tui.ui.app import OncallApp

NOW = "2026-11-23T18:30:00Z"


class _Sped:
    def __init__(self, start, factor: float) -> None:  # type: ignore[no-untyped-def]
        self.start, self.factor, self.t0 = start, factor, time.monotonic()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.factor)


def main() -> None:
    db, factor = sys.argv[1], float(sys.argv[2])
    ctx = cli.open_app_context(cli.build_parser().parse_args(["--demo", "--db", db, "--now", NOW]))
    ctx.engine_factory = None  # nothing but the clock changes the screen
    if factor:
        clock = _Sped(ctx.clock(), factor)
        ctx.clock = clock
        ctx.store.clock = clock
    OncallApp(ctx).run()


if __name__ == "__main__":
    main()
