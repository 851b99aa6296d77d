"""Desktop notifications through the terminal: OSC 9 or OSC 777, no dependency.

The terminal turns the escape sequence into a notification of the desktop (iTerm2, WezTerm,
kitty, foot, Ghostty for OSC 9; rxvt-unicode and VTE terminals for OSC 777); one that does
not know it ignores it. Inside tmux the sequence is wrapped for tmux to pass it on (with
``set -g allow-passthrough on``).

The text is the customer's (a subject): every control character is removed, so no subject can
end the sequence early and write its own escape codes to the terminal.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable

#: Notification text is short; the desktop cuts it anyway.
MAX_TITLE = 60
MAX_BODY = 200


def clean(text: str, limit: int) -> str:
    """``text`` as one line of printable characters, at most ``limit`` of them."""
    kept = "".join(
        " " if ch in "\t\n\r" else ch
        for ch in text
        if ch in "\t\n\r" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    line = " ".join(kept.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def osc_sequence(mode: str, title: str, body: str, *, tmux: bool = False) -> str | None:
    """The escape sequence for ``mode`` ("osc9" or "osc777"; anything else: None)."""
    title, body = clean(title, MAX_TITLE), clean(body, MAX_BODY)
    if mode == "osc9":
        sequence = f"\x1b]9;{title}: {body}\x07"
    elif mode == "osc777":
        # ; separates the fields: the title may not carry one (the body is the rest).
        sequence = f"\x1b]777;notify;{title.replace(';', ',')};{body}\x07"
    else:
        return None
    if tmux:  # tmux's passthrough: ESC doubled inside its own DCS
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


class DesktopNotifier:
    """Sends notifications with ``write`` (the terminal's output), once per ``key``."""

    def __init__(self, mode: str, write: Callable[[str], None] | None) -> None:
        self.mode = mode
        self.write = write
        self.tmux = bool(os.environ.get("TMUX"))
        self.sent: set[object] = set()

    def send(self, key: object, title: str, body: str) -> bool:
        """Notify unless this ``key`` (a clock's state) was notified before; True if sent."""
        if key in self.sent:
            return False
        sequence = osc_sequence(self.mode, title, body, tmux=self.tmux)
        if sequence is None or self.write is None:
            return False
        self.sent.add(key)
        self.write(sequence)
        return True
