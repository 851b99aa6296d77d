"""SteadyStatic: a ``Static`` that repaints only when what it shows changed.

The queue re-renders its view bar, filter hint and column header on every keystroke and data
change; most of the time the text is the same as before. A plain ``Static`` repaints (and
re-lays out) anyway, which costs a terminal the bytes of those lines each time.
"""

from __future__ import annotations

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static


def _signature(content: object) -> object:
    """What the content looks like: equal signatures, equal output."""
    if isinstance(content, Text):
        return (
            "text",
            content.plain,
            tuple(content.spans),
            str(content.style),
            content.justify,
            content.overflow,
            content.no_wrap,
            content.end,
        )
    if isinstance(content, str):
        return ("str", content)
    return ("object", id(content))  # anything else: always repainted


class SteadyStatic(Static):
    """A ``Static`` whose :meth:`update` with the same content as now does nothing."""

    _shown: object = None

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        signature = _signature(content)
        if signature == self._shown:
            return
        self._shown = signature
        super().update(content, layout=layout)
