"""A ticket's SLA history events: the data the reply clocks replay (``sla_clocks.py``).

Kept apart from the replay so ``tickets.py`` can name ``SlaEvent`` without importing
the clocks (which import the ticket types).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EventType(StrEnum):
    """What happened to a ticket, as far as its reply clocks care."""

    CUSTOMER_COMMENT = "customer_comment"
    AGENT_PUBLIC = "agent_public"
    AGENT_NOTE = "agent_note"
    AUTOMATION_PUBLIC = "automation_public"
    STATUS = "status"
    LABEL_ADD = "label_add"
    LABEL_REMOVE = "label_remove"
    PRIORITY = "priority"


#: Event types that carry a ``value`` (a status, a label or a priority).
VALUED = frozenset(
    {EventType.STATUS, EventType.LABEL_ADD, EventType.LABEL_REMOVE, EventType.PRIORITY}
)


@dataclass(frozen=True, slots=True)
class SlaEvent:
    """One event of a ticket's history.

    Attributes:
        at: when it happened (aware).
        type: what happened.
        value: the new status (``open``...), the label, or the new priority (``P1``...);
            empty for messages.
    """

    at: datetime
    type: EventType
    value: str = ""
