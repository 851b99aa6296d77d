"""One-line feedback: backend errors for the status line, shortened where a person reads.

Adapters' errors start with the backend's name (``zendesk: GET /api/v2/...: timed out``) and
the engine prefixes the backend again; the status line says the name once and keeps the line
short, cut at a word boundary: the full text is in the sync log (``L``).
"""

from __future__ import annotations

import re

#: Longest error text the status line shows (the rest is in the sync log).
STATUS_ERROR_CHARS = 60


def without_backend(name: str, error: str) -> str:
    """``error`` without the backend's ``name:`` where it starts the text or a part of it
    (``sign-in needed: zendesk: …``), however often it was prefixed."""
    pattern = re.compile(rf"(^|:\s+){re.escape(name)}:\s*", re.IGNORECASE)
    text = error.strip()
    while True:
        shorter = pattern.sub(lambda m: m.group(1), text)
        if shorter == text:
            return text
        text = shorter


def shorten(text: str, limit: int = STATUS_ERROR_CHARS) -> str:
    """``text`` in at most ``limit`` characters, cut at a word boundary with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:  # a word boundary not too far back
        cut = cut[:space]
    return cut.rstrip(" ,;:-·") + "…"
