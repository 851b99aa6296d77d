"""``oncall-tui completion bash|zsh|fish``: shell completion through argcomplete.

The printed script calls ``oncall-tui`` back with argcomplete's environment set; then
:func:`complete_if_asked` answers from the real parser (every command, option and choice,
the global options after a command too) and exits before anything else runs. Without that
environment nothing is imported: start-up stays as fast as before.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

SHELLS = ("bash", "zsh", "fish")
_INSTALL = {
    "bash": "oncall-tui completion bash > ~/.local/share/bash-completion/completions/oncall-tui",
    "zsh": 'oncall-tui completion zsh > "${fpath[1]}/_oncall-tui"  # or eval it in ~/.zshrc',
    "fish": "oncall-tui completion fish > ~/.config/fish/completions/oncall-tui.fish",
}


def add_completion_subparser(sub: Any) -> None:
    parser = sub.add_parser(
        "completion",
        help="print the shell completion script (bash, zsh or fish)",
        description="Print a completion script for your shell; install it once.",
        epilog="examples:\n" + "\n".join(f"  {x}" for x in _INSTALL.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("shell", choices=SHELLS)


def run_completion(args: argparse.Namespace, out: TextIO) -> int:
    from argcomplete.shell_integration import shellcode

    out.write(shellcode(["oncall-tui"], shell=args.shell))
    return 0


def complete_if_asked(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request (and exit) when this run is one."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    argcomplete.autocomplete(parser, exit_method=sys.exit)
