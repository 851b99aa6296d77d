"""Imports point down only: ui → sync → store → domain; only ui/ imports Textual."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "oncall_tui"
LAYERS = {"domain": 0, "store": 1, "sync": 2, "ui": 3}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_a_layer_never_imports_the_ones_above(layer: str) -> None:
    above = [name for name, rank in LAYERS.items() if rank > LAYERS[layer]]
    for path in (SRC / layer).rglob("*.py"):
        for module in imports_of(path):
            for other in above:
                assert not module.startswith(f"oncall_tui.{other}"), (
                    f"{path.relative_to(SRC)} imports {module}"
                )


def test_domain_does_no_io() -> None:
    forbidden = (
        "sqlite3",
        "sqlite_utils",
        "httpx",
        "textual",
        "keyring",
        "platformdirs",
        "socket",
        "subprocess",
    )
    for path in (SRC / "domain").rglob("*.py"):
        for module in imports_of(path):
            assert not module.startswith(forbidden), f"{path.name} imports {module}"


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
