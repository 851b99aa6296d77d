"""Drafts that save themselves: the autosave timer and the draft's meta, shared by the reply
dialog and the bug-report form.

What is typed is saved at most ``AUTOSAVE_SECONDS`` after the first unsaved change (one atomic
statement per save), so a killed process loses under a second of typing; whatever closes the
screen saves what is left.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from textual.screen import Screen
from textual.timer import Timer

from oncall_tui.domain import guard
from oncall_tui.store import Store
from oncall_tui.store.db import iso, parse_iso

#: Longest wait between a change and its save: a killed process loses at most this much.
AUTOSAVE_SECONDS = 0.8


class Autosave:
    """A screen's draft, saved at most :data:`AUTOSAVE_SECONDS` after its first unsaved change.

    ``save`` writes the draft (and may raise ``sqlite3.Error``); the screen calls
    :meth:`changed` on each edit, :meth:`saved` once written, and :meth:`flush` when it closes.
    """

    def __init__(self, screen: Screen[Any], save: Callable[[], None]) -> None:
        self._screen = screen
        self._save = save
        self._timer: Timer | None = None
        self.dirty = False
        """True while something typed is not saved yet."""

    def changed(self) -> None:
        """Something was typed: save it soon (one timer, however fast the typing)."""
        self.dirty = True
        if self._timer is None:
            self._timer = self._screen.set_timer(AUTOSAVE_SECONDS, self._due)

    def saved(self) -> None:
        self.dirty = False

    def save_now(self) -> None:
        """Save at once (a change that is no keystroke, e.g. a guard override)."""
        self.dirty = True
        self._due()

    def stop(self) -> None:
        """No save is due any more (the draft is being sent, linked or left)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _due(self) -> None:
        self._timer = None
        if self.dirty:
            try:
                self._save()
            except sqlite3.Error as exc:
                self._screen.notify(
                    f"Could not save the draft: {exc}. Still trying as you type.",
                    severity="error",
                    markup=False,
                )

    def flush(self, save: Callable[[], None] | None = None) -> None:
        """Whatever closes the screen (esc, the app quitting), nothing typed is lost.

        A failure is not shown: the autosave a moment ago has the text but for its last
        keystrokes. ``save``: instead of the usual one (e.g. without touching the widgets).
        """
        if self.dirty:
            try:
                (save or self._save)()
            except sqlite3.Error:
                pass


def ask_override(
    screen: Any,
    hits: list[guard.GuardHit],
    blocking: list[guard.GuardHit],
    why: str,
    then: Callable[[], None],
) -> None:
    """Ask why to publish despite ``blocking``; given a reason, set ``screen.override`` (for
    every hit), call ``then()`` and say so. ``why``: the question, ``{terms}`` in it."""
    from oncall_tui.ui.screens.prompt_screen import PromptScreen

    terms = ", ".join(dict.fromkeys(f'"{h.term}"' for h in blocking))

    def done(reason: str | None) -> None:
        if not reason:
            return
        screen.override = guard.override_for(hits, reason, screen.clock())
        then()
        screen.notify(f"Guard overridden for {terms}.", markup=False, timeout=3)

    hint = why.format(terms=terms)
    screen.app.push_screen(PromptScreen("Override the confidentiality guard", hint=hint), done)


def write_draft(
    store: Store,
    draft_id: int | None,
    kind: str,
    ticket_id: int | None,
    fields: dict[str, str],
    meta: dict[str, Any],
) -> int:
    """Save the draft, creating it on its first save (one atomic statement); its id."""
    if draft_id is None:
        return store.drafts.create_draft(kind, ticket_id, fields, meta)
    store.drafts.save_draft(draft_id, fields, meta)
    return draft_id


def override_to_meta(override: guard.GuardOverride | None) -> dict[str, Any] | None:
    """A :class:`GuardOverride` as draft meta (JSON)."""
    if override is None:
        return None
    return {"reason": override.reason, "at": iso(override.at), "terms": list(override.terms)}


def override_from_meta(data: Any) -> guard.GuardOverride | None:
    """Inverse of :func:`override_to_meta`; None for anything malformed."""
    if not isinstance(data, Mapping):
        return None
    try:
        at = parse_iso(str(data["at"]))
        if at is None:
            return None
        return guard.GuardOverride(
            reason=str(data["reason"]), at=at, terms=tuple(str(t) for t in data["terms"])
        )
    except (KeyError, TypeError, ValueError):
        return None
