"""Every command's ``--help`` ends with examples, and every example is a command line the
parser accepts (an example that does not run is worse than none)."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator

from oncall_tui.cli.main import build_parser


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action._get_subactions()  # the top level declares its commands on first use
            for child in dict.values(action.choices):
                yield child
                yield from parsers(child)


def leaf(parser: argparse.ArgumentParser) -> bool:
    return not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)


def test_every_command_has_examples_that_parse() -> None:
    root = build_parser()
    seen = 0
    for parser in parsers(root):
        if not leaf(parser):
            continue
        text = parser.format_help()
        assert "examples:" in text, f"{parser.prog} --help has no examples"
        block = text.split("examples:", 1)[1]
        for line in (x.strip() for x in block.splitlines()):
            if not line.startswith("oncall-tui"):
                continue
            command = line.split(" | ")[0].split(" > ")[0]  # no pipes or redirections
            words = shlex.split(command)[1:]
            try:
                build_parser().parse_args(words)
            except SystemExit as exc:  # pragma: no cover - the message names the example
                raise AssertionError(f"example does not parse: {line}") from exc
            seen += 1
    assert seen >= 20
