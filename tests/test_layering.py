"""Importing any module but the UI's leaves Textual unimported (the start-up cost it saves).

The layer rules themselves (imports point down only; the domain does no I/O; only the UI
imports Textual; only the store speaks SQL) are import-linter contracts in pyproject.toml,
checked by ``lint-imports`` in .ci/run. It reads imports statically, those inside functions
too; this test checks what it cannot: what a module imports when it is itself imported.
"""

from __future__ import annotations

import subprocess
import sys


def test_textual_stays_out_of_everything_but_the_ui() -> None:
    code = (
        "import sys, pkgutil, importlib, oncall_tui\n"
        "for m in pkgutil.walk_packages(oncall_tui.__path__, 'oncall_tui.'):\n"
        "    if '.ui' in m.name or m.name.endswith('__main__'):\n"
        "        continue\n"
        "    importlib.import_module(m.name)\n"
        "import oncall_tui.cli.main\n"
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]\n"
        "assert not bad, bad[:5]\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
