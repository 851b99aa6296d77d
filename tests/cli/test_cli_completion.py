"""Shell completion (argcomplete) and the --help examples of every new command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import run


def complete(line: str, tmp_path: Path) -> list[str]:
    out = tmp_path / "completions"
    done = run(
        env={
            "_ARGCOMPLETE": "1",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_IFS": "\n",
            "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
        }
    )
    assert done.returncode == 0, done.stderr
    return [x.strip() for x in out.read_text().split("\n") if x.strip()]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_for_each_shell(shell: str) -> None:
    done = run("completion", shell)
    assert done.returncode == 0, done.stderr
    assert "oncall-tui" in done.stdout and "_ARGCOMPLETE" in done.stdout


def test_completion_answers_from_the_real_parser(tmp_path: Path) -> None:
    assert complete("oncall-tui tic", tmp_path) == ["tickets", "ticket"]
    assert "assign" in complete("oncall-tui ticket ", tmp_path)
    assert "--send-now" in complete("oncall-tui ticket reply --s", tmp_path)
    # the global options after a command, as the parser takes them
    assert {"--db", "--demo"} <= set(complete("oncall-tui sync --once --d", tmp_path))
    assert complete("oncall-tui export --format ", tmp_path) == ["jsonl", "csv"]


@pytest.mark.parametrize(
    "command",
    [
        ("tickets",),
        ("ticket",),
        ("ticket", "show"),
        ("bug",),
        ("bug", "file"),
        ("ticket", "assign"),
        ("ticket", "reply"),
        ("drafts",),
        ("export",),
        ("completion",),
    ],
)
def test_each_command_has_help_with_examples(command: tuple[str, ...]) -> None:
    done = run(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "examples:" in done.stdout and f"oncall-tui {' '.join(command)}" in done.stdout
    assert "--db" in done.stdout  # the global options are listed too
