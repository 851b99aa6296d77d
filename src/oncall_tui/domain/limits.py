"""Bounds on what one backend can make us read and keep: :class:`Limits`
(``[backends.<name>.limits]``).

Here, below both, because the settings check a config's table (:meth:`Limits.from_table`)
and the sync engine applies it (``sync/base.py`` bounds records by it, ``sync/http.py``
answers and requests).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oncall_tui.domain.errors import ConfigValueError


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one backend can make us read and keep (``[backends.<name>.limits]``).

    The defaults sit at or above what the vendors send (GitHub caps an issue body at 65,536
    characters, a title at 256 and a label at 50, Slack a message at 40,000; Zendesk's export
    pages are a few MB) and well below what hurts (a 10 MB subject froze the UI for 40 s; at
    these bounds opening a ticket or its bug report costs a fraction of a second more).

    Attributes:
        response_bytes: largest answer body, after decompression (a gzip bomb is stopped here
            too); a ``Content-Length`` above it is refused before reading.
        deadline: seconds one request may take in all (connect, redirects, every byte of the
            body): httpx's own timeouts are per read, so a trickling server never hits them.
        redirects: redirects followed for a GET (same origin only; never for other methods).
        line_chars: longest one-line field kept (subject, names, each label, domain, contact).
        text_chars: longest body or comment kept.
        labels: most labels kept per ticket (a customer's domains and contacts are all kept:
            the confidentiality guard checks a public report against every one).
    """

    response_bytes: int = 32 * 1024 * 1024
    deadline: float = 120.0
    redirects: int = 5
    line_chars: int = 1_000
    text_chars: int = 65_536
    labels: int = 100

    #: Config key -> (attribute, smallest, largest, scale from the config unit).
    KEYS = {
        "max_response_mb": ("response_bytes", 1, 1024, 1024 * 1024),
        "request_deadline": ("deadline", 1, 3600, 1),
        "max_redirects": ("redirects", 0, 20, 1),
        "max_line_chars": ("line_chars", 80, 100_000, 1),
        "max_text_chars": ("text_chars", 1_000, 10_000_000, 1),
        "max_labels": ("labels", 10, 10_000, 1),
    }

    @classmethod
    def from_table(cls, table: Mapping[str, Any], key: str) -> Limits:
        """Build from a config table (``[backends.zendesk.limits]``); bad values raise.

        Raises:
            ConfigValueError: an unknown key, or a value that is not a number in range.
        """
        values: dict[str, Any] = {}
        for name, raw in table.items():
            if name not in cls.KEYS:
                raise ConfigValueError(f"{key}.{name}", f"one of {', '.join(sorted(cls.KEYS))}")
            attribute, low, high, scale = cls.KEYS[name]
            whole = attribute not in ("deadline", "response_bytes")
            if (
                isinstance(raw, bool)
                or not isinstance(raw, int | float)
                or not math.isfinite(raw)
                or not low <= raw <= high
                or (whole and not isinstance(raw, int))
            ):
                kind = "a whole number" if whole else "a number"
                raise ConfigValueError(f"{key}.{name}", f"{kind} from {low} to {high}", raw)
            values[attribute] = int(raw * scale) if attribute != "deadline" else float(raw)
        return cls(**values)
