"""Neutralising text that comes from customers and backends.

Customer text is data. Control characters (ESC, OSC/CSI introducers, BEL, NUL, C1 controls)
could drive the terminal if printed raw, so they are replaced at the store boundary by their
visible Unicode "control picture" (ESC becomes ␛), which shows the user what was sent without
letting it act. Newlines and tabs stay; CRLF becomes LF.
"""

from __future__ import annotations

import re

# Lone surrogates too ("\\ud800" is valid JSON): SQLite cannot even store them as UTF-8.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\ud800-\udfff]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ .. ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1 controls and lone surrogates have no pictures


# Anything clean_line would change (every C0 control, including newline and tab).
_LINE_UNSAFE = re.compile(r"[\x00-\x1f\x7f\x80-\x9f\ud800-\udfff]")


def is_unsafe(text: str) -> bool:
    """Would :func:`clean_text` change ``text``?"""
    return _CONTROL.search(text) is not None


def is_unsafe_line(text: str) -> bool:
    """Would :func:`clean_line` change ``text``?"""
    return _LINE_UNSAFE.search(text) is not None


def clean_text(text: str) -> str:
    """Return ``text`` with terminal control characters made visible and inert."""
    if not text or not is_unsafe(text):  # \r is a control too: nothing to change
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(_picture, text)


def clean_line(text: str) -> str:
    """Like :func:`clean_text`, for one-line fields: newlines and tabs become spaces."""
    if not text or not is_unsafe_line(text):
        return text
    return clean_text(text).replace("\n", " ").replace("\t", " ")
