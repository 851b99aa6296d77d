"""The ``oncall-tui`` console script: the collector rests while the app loads
(:mod:`oncall_tui.startup`), then :func:`oncall_tui.cli.main.main` runs."""

from __future__ import annotations

from oncall_tui.startup import pause_collector, resume_collector


def main() -> int:
    pause_collector()  # before the first import of the app's modules
    try:
        from oncall_tui.cli.main import main as run

        return run()
    finally:
        resume_collector()
