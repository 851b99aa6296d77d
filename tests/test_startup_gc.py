"""Start-up: the cyclic collector rests while the modules load, and only then
(``oncall_tui/startup.py``): ~95 collections, ~12 ms before the first frame, found nothing.

What must hold: the console script pauses it before the app's modules load; the app and every
subcommand run with it on again; a collector someone else turned off stays off.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from oncall_tui import startup


@pytest.fixture(autouse=True)
def collector_on_afterwards() -> Iterator[None]:
    yield
    startup._paused = False
    gc.enable()


def test_resume_undoes_only_our_own_pause() -> None:
    startup.pause_collector()
    assert not gc.isenabled()
    startup.resume_collector()
    assert gc.isenabled()
    gc.disable()  # someone else's choice (a profiler, an embedding program)
    startup.pause_collector()
    startup.resume_collector()
    assert not gc.isenabled()


def test_a_subcommand_runs_with_the_collector_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import oncall_tui.cli.completion as completion
    from oncall_tui.cli.main import main

    seen: list[bool] = []

    def run_completion(args: Any, out: Any) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(completion, "run_completion", run_completion)
    startup.pause_collector()
    assert main(["completion", "bash"]) == 0
    assert seen == [True]


def test_the_app_runs_with_the_collector_on(make_app: Any) -> None:
    startup.pause_collector()
    make_app()  # building the app freezes what start-up made, then resumes
    assert gc.isenabled()


def test_the_console_script_pauses_it_before_the_app_loads() -> None:
    code = textwrap.dedent(
        """
        import gc, sys
        from importlib.abc import MetaPathFinder

        seen = {}

        class Spy(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name in ("oncall_tui.cli.main", "textual"):
                    seen.setdefault(name, gc.isenabled())
                return None

        sys.meta_path.insert(0, Spy())
        from oncall_tui.cli.launch import main

        sys.argv = ["oncall-tui", "--version"]
        try:
            main()
        except SystemExit:
            pass
        assert seen == {"oncall_tui.cli.main": False}, seen
        assert gc.isenabled(), "still paused after the command"
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
