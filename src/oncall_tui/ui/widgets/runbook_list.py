"""RunbookList: runbooks to pick from, the ones suggested for the ticket first.

Titles and reasons come from runbook files (team-written text), so every prompt is a ``Text``
object: nothing here is ever parsed as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import ClassVar

from rich.padding import Padding
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from oncall_tui.domain.runbook_search import Suggestion, fuzzy_filter
from oncall_tui.domain.runbooks import Runbook, RunbookOrigin

#: Reasons shown under a suggested runbook; more are elided.
MAX_REASONS = 3


@dataclass(frozen=True, slots=True)
class RunbookEntry:
    """One row of the list: a runbook, or a heading when ``runbook`` is None."""

    runbook: Runbook | None
    suggestion: Suggestion | None = None
    heading: str = ""


def list_entries(
    runbooks: Sequence[Runbook], suggestions: Sequence[Suggestion], query: str
) -> list[RunbookEntry]:
    """What the list shows, in order.

    Without a query: the suggestions (best first) under a heading, then every other runbook
    in title order. With a query: the fuzzy matches, best first, suggested ones still marked.
    """
    by_slug = {s.runbook.slug: s for s in suggestions}
    if query.strip():
        matches = fuzzy_filter(runbooks, query)
        if not matches:
            return [RunbookEntry(None, heading="No runbook matches the search.")]
        return [RunbookEntry(r, by_slug.get(r.slug)) for r in matches]
    if not suggestions:
        return [RunbookEntry(r) for r in fuzzy_filter(runbooks, "")]
    rest = [r for r in fuzzy_filter(runbooks, "") if r.slug not in by_slug]
    entries = [RunbookEntry(None, heading="Suggested for this ticket")]
    entries += [RunbookEntry(s.runbook, s) for s in suggestions]
    if rest:
        entries.append(RunbookEntry(None, heading="All runbooks"))
        entries += [RunbookEntry(r) for r in rest]
    return entries


class RunbookList(OptionList):
    """The runbooks to choose from; posts which one is highlighted and which is chosen."""

    COMPONENT_CLASSES: ClassVar[set[str]] = OptionList.COMPONENT_CLASSES | {
        "runbook-list--heading",
        "runbook-list--suggested",
        "runbook-list--reasons",
        "runbook-list--progress",
        "runbook-list--complete",
        "runbook-list--team",
    }

    class RunbookHighlighted(Message):
        """The highlighted runbook changed (None when the list has none)."""

        def __init__(self, runbook: Runbook | None) -> None:
            super().__init__()
            self.runbook = runbook

    class RunbookChosen(Message):
        """Enter (or a click) on a runbook."""

        def __init__(self, runbook: Runbook) -> None:
            super().__init__()
            self.runbook = runbook

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._by_slug: dict[str, Runbook] = {}
        self._current: str | None = None
        self._ids: list[str | None] = []
        self._keys: list[tuple[object, ...]] = []  # what each prompt was drawn from

    @property
    def current(self) -> Runbook | None:
        """The highlighted runbook."""
        option = self.highlighted_option
        return self._by_slug.get(option.id) if option is not None and option.id else None

    def show(
        self,
        runbooks: Sequence[Runbook],
        suggestions: Sequence[Suggestion],
        query: str = "",
        progress: Mapping[str, Set[int]] | None = None,
    ) -> None:
        """Fill the list, keeping the highlighted runbook when it is still listed."""
        progress = progress or {}
        self._by_slug = {r.slug: r for r in runbooks}
        entries = list_entries(runbooks, suggestions, query)
        keys = [self._key(entry, progress) for entry in entries]
        ids = [entry.runbook.slug if entry.runbook else None for entry in entries]
        if ids == self._ids:
            # Same rows (a tick, a sync): redraw only the prompts that changed; no jump.
            for index, (entry, key) in enumerate(zip(entries, keys, strict=True)):
                if key != self._keys[index]:
                    self.replace_option_prompt_at_index(index, self._option(entry, progress).prompt)
            self._keys = keys
        else:
            keep = self._current
            options = [self._option(entry, progress) for entry in entries]
            self._ids, self._keys = ids, keys
            self.set_options(options)
            if keep is not None and keep in ids:
                self.highlighted = ids.index(keep)
            else:
                self.highlighted = next(
                    (i for i, option in enumerate(options) if not option.disabled), None
                )
        self._announce()

    @staticmethod
    def _key(entry: RunbookEntry, progress: Mapping[str, Set[int]]) -> tuple[object, ...]:
        runbook = entry.runbook
        if runbook is None:
            return (entry.heading,)
        done = progress.get(runbook.slug, set())
        ticked = sum(1 for item in runbook.checklist if item.index in done)
        return (runbook, entry.suggestion, ticked)

    def _option(self, entry: RunbookEntry, progress: Mapping[str, Set[int]]) -> Option:
        if entry.runbook is None:
            style = self._style("runbook-list--heading")
            return Option(Text(entry.heading, style=style), disabled=True)
        runbook = entry.runbook
        text = Text(no_wrap=False)
        text.append(
            runbook.title, style=self._style("runbook-list--suggested") if entry.suggestion else ""
        )
        total = len(runbook.checklist)
        done = progress.get(runbook.slug, set())
        ticked = sum(1 for item in runbook.checklist if item.index in done)
        if total and ticked:
            name = "runbook-list--complete" if ticked == total else "runbook-list--progress"
            text.append(f"  {ticked}/{total}", style=self._style(name))
        if runbook.origin is RunbookOrigin.TEAM:
            text.append("  team", style=self._style("runbook-list--team"))
        if entry.suggestion is None:
            return Option(text, id=runbook.slug)
        reasons = list(entry.suggestion.reasons[:MAX_REASONS])
        if len(entry.suggestion.reasons) > MAX_REASONS:
            reasons.append("…")
        why = Text(f"suggested: {', '.join(reasons)}", style=self._style("runbook-list--reasons"))
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1)
        grid.add_row(text)
        grid.add_row(Padding(why, (0, 0, 0, 2)))
        return Option(grid, id=runbook.slug)

    def _style(self, component: str) -> Style:
        # Before the first layout the component styles are not computed yet: plain text then.
        return (
            self.get_component_rich_style(component, partial=True) if self.is_mounted else Style()
        )

    def _announce(self) -> None:
        runbook = self.current
        if runbook is None and self.option_count and self._current is not None:
            return  # no match for the search: keep showing the last runbook
        slug = runbook.slug if runbook else None
        if slug != self._current:
            self._current = slug
            self.post_message(self.RunbookHighlighted(runbook))

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._announce()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        runbook = self.current
        if runbook is not None:
            self.post_message(self.RunbookChosen(runbook))
