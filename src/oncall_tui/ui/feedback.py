"""One-line feedback: backend errors for the status line, shortened where a person reads.

Adapters' errors start with the backend's name (``zendesk: GET /api/v2/...: timed out``) and
the engine prefixes the backend again; the status line says the name once and keeps the line
short, cut at a word boundary: the full text is in the sync log (``L``).
"""

from __future__ import annotations

#: Longest error text the status line shows (the rest is in the sync log).
STATUS_ERROR_CHARS = 60


def without_backend(name: str, error: str) -> str:
    """``error`` without any leading ``name:`` (however often it was prefixed)."""
    text = error.strip()
    prefix = f"{name}:"
    while text.lower().startswith(prefix.lower()):
        text = text[len(prefix) :].lstrip()
    return text


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
