"""The view bar: each view's key, name and count, always including the current view.

When the views do not fit the width, the bar shows the run of whole views around the current
one (scrolled to it) with ``‹ n`` / ``n ›`` for the views out of sight; a view is never cut
in the middle of its count (a name too long for the width alone is cut, its count kept).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.text import Text

CURRENT = "reverse bold"


def _item(number: int, name: str, count: int | str) -> str:
    return f" {number} {name} ({count}) "


def view_bar(
    views: Sequence[tuple[str, int | str]], current: int, width: int, extra: str = ""
) -> Text:
    """The bar for ``views`` (name, count) ``width`` cells wide, ``current`` highlighted;
    ``extra`` (the filter and its count) follows when there is room for it."""
    items = [_item(i + 1, name, count) for i, (name, count) in enumerate(views)]
    if not items:
        return Text(extra, no_wrap=True, overflow="ellipsis")
    current = min(max(current, 0), len(items) - 1)
    sizes = [cell_len(item) + 1 for item in items]  # one space between views

    def marks(first: int, last: int) -> int:
        return (4 if first > 0 else 0) + (4 if last < len(items) - 1 else 0)

    if extra and sizes[current] + cell_len(extra) <= width:
        width_for_views = width - cell_len(extra)  # the filter and its count stay in sight
    else:
        width_for_views, extra = width, ""
    first = last = current
    # Grow the run around the current view: the next one on the right first, then the left.
    while True:
        grown = False
        for candidate in ((first, last + 1), (first - 1, last)):
            a, b = candidate
            if a < 0 or b >= len(items):
                continue
            if sum(sizes[a : b + 1]) + marks(a, b) <= width_for_views:
                first, last = a, b
                grown = True
                break
        if not grown:
            break
    bar = Text(no_wrap=True, overflow="ellipsis", end="")
    if first > 0:
        bar.append(f"‹ {first} ", style="dim")
    for i in range(first, last + 1):
        item = items[i]
        if first == last and sizes[i] + marks(first, last) > width:  # the name alone is cut
            name, count = views[i]
            tail = f" ({count}) "
            room = width - marks(first, last) - cell_len(f" {i + 1} ") - cell_len(tail) - 1
            room = max(room, 2)
            item = f" {i + 1} {set_cell_size(name, room - 1)}…{tail}"
        bar.append(item, style=CURRENT if i == current else "")
        bar.append(" ")
    if last < len(items) - 1:
        bar.append(f" {len(items) - 1 - last} ›", style="dim")
    if extra and bar.cell_len + cell_len(extra) <= width:
        bar.append(extra, style="italic")
    return bar
