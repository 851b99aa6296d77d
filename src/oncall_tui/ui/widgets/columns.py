"""The queue's columns: which ones a width shows, and how ←/→ scroll to the hidden ones.

Every column has a rank: the narrower the table, the fewer columns it shows, the highest
ranks first kept (SLA, priority, customer, subject, status fit 80 cells; plan, assignee,
source and updated join as the width allows). The subject takes the width left over. SLA
and priority stay put; ``offset`` scrolls the other columns sideways, a column at a time, so
that what did not fit can be seen (the header says how many are out of sight each side).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column: a key, a title, a width (0 = takes the rest) and a rank (0 kept longest)."""

    key: str
    title: str
    width: int
    rank: int
    pinned: bool = False
    """Never scrolled sideways (SLA and priority: what triage reads first)."""


COLUMNS = (
    Column("sla", "SLA", 9, 0, pinned=True),
    Column("priority", "Pri", 3, 1, pinned=True),
    Column("plan", "Plan", 8, 5),
    Column("customer", "Customer", 22, 2),
    Column("subject", "Subject", 0, 3),
    Column("status", "Status", 7, 4),
    Column("assignee", "Assignee", 8, 6),
    Column("source", "Source", 7, 7),
    Column("updated", "Updated", 7, 8),
)
BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT_KEYS = tuple(c.key for c in COLUMNS)
#: The subject's narrowest: a column of lower rank is hidden before the subject gets less.
SUBJECT_MIN = 30


@dataclass(frozen=True)
class Layout:
    """What a table of some width shows: the columns with their widths, in order."""

    columns: tuple[tuple[Column, int], ...]
    left: int
    """Columns scrolled out of sight to the left."""
    right: int
    """Chosen columns that do not fit, to the right (→ shows them)."""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c, _w in self.columns)


def chosen_columns(keys: Sequence[str] | None) -> tuple[Column, ...]:
    """The columns ``keys`` names, in the table's order (unknown keys ignored; SLA and priority
    always shown; None or nothing valid: every column)."""
    wanted = {k for k in keys or () if k in BY_KEY}
    if not wanted:
        return COLUMNS
    return tuple(c for c in COLUMNS if c.pinned or c.key in wanted)


def _fit(columns: Sequence[Column], width: int) -> set[str]:
    """The keys of ``columns`` that fit ``width``, taken by rank (one space after each)."""
    taken: set[str] = set()
    used = 0
    for column in sorted(columns, key=lambda c: c.rank):
        need = (column.width or SUBJECT_MIN) + 1
        if used + need > width and not column.pinned:
            if not column.width:  # the subject is kept, narrower: it gets what is left
                taken.add(column.key)
                used = max(used, width)
            continue  # a narrower column of lower rank may still fit
        taken.add(column.key)
        used += need
    return taken


def layout(width: int, keys: Sequence[str] | None = None, offset: int = 0) -> Layout:
    """The columns a table ``width`` cells wide shows, scrolled ``offset`` columns right."""
    chosen = chosen_columns(keys)
    pinned = [c for c in chosen if c.pinned]
    movable = [c for c in chosen if not c.pinned]
    offset = max(0, min(offset, max(len(movable) - 1, 0)))
    candidates = pinned + movable[offset:]
    taken = _fit(candidates, width)
    shown = [c for c in chosen if c.key in taken]
    fixed = sum(c.width + 1 for c in shown if c.width)
    rest = max(8, width - fixed - 1)
    # With the subject scrolled out of sight, the spare width stays blank at the end.
    columns = tuple((c, c.width or rest) for c in shown)
    right = sum(1 for c in movable[offset:] if c.key not in taken)
    return Layout(columns, left=offset, right=right)


def max_offset(width: int, keys: Sequence[str] | None = None) -> int:
    """The furthest ``offset`` worth scrolling to: the first at which nothing is hidden to
    the right (0 when everything fits)."""
    movable = [c for c in chosen_columns(keys) if not c.pinned]
    for offset in range(len(movable)):
        if layout(width, keys, offset).right == 0:
            return offset
    return max(len(movable) - 1, 0)


def scroll(width: int, keys: Sequence[str] | None, offset: int, step: int) -> int:
    """The offset one step (±1) from ``offset`` that changes what is shown (an offset that
    only scrolls a hidden column out of sight shows the same columns: it is skipped)."""
    limit = max_offset(width, keys)
    current = layout(width, keys, offset).keys
    new = offset
    while 0 <= new + step <= limit:
        new += step
        shown = layout(width, keys, new).keys
        if shown != current:
            # Back to the left: the smallest offset that shows the same (no column scrolled
            # out of sight that was not shown anyway).
            while step < 0 and new > 0 and layout(width, keys, new - 1).keys == shown:
                new -= 1
            return new
    return offset if step > 0 else 0


# ---- sorting ------------------------------------------------------------------------------

#: Sort keys: the ticket's own columns ("sla" is the urgency order: breached, soonest due,
#: paused, none). Plan and customer are the customer's: no index on the tickets orders by
#: them (see ``store.queue.SORT_SQL``).
SORT_TITLES = {
    "sla": "SLA (urgency)",
    "priority": "Priority",
    "subject": "Subject",
    "status": "Status",
    "assignee": "Assignee",
    "source": "Source",
    "updated": "Updated",
}
#: The direction a first choice sorts in: the newest update first; the rest A→Z, P0 first.
DESCENDING_FIRST = frozenset({"updated"})


def parse_sort(text: str | None) -> tuple[str, bool]:
    """``"updated:desc"`` → ("updated", True); anything not understood → urgency."""
    key, _, direction = (text or "").partition(":")
    if key not in SORT_TITLES:
        return "sla", False
    return key, direction == "desc"


def sort_text(key: str, descending: bool) -> str:
    return f"{key}:{'desc' if descending else 'asc'}"
