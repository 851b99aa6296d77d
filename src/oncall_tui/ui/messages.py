"""App-wide messages (widget messages live nested in their widget)."""

from __future__ import annotations

from textual.message import Message


class SyncStarted(Message):
    """A background sync pass began."""


class SyncFinished(Message):
    """A sync pass ended; ``changed_ids`` are the tickets it touched."""

    def __init__(
        self,
        changed_ids: frozenset[int],
        summary: str = "",
        ok: bool = True,
        errors: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.changed_ids = changed_ids
        self.summary = summary
        self.ok = ok
        self.errors = errors
        """(backend, error) for each backend whose pass failed."""
        super().__init__()


class SyncProgress(Message):
    """Progress of a sync pass; a burst collapses to the latest."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncProgress)
