"""SimilarIssues: tracker issues that look like the bug being written, best match first.

The screen finds and ranks them (widgets never query the store) and hands over
:class:`IssueMatch` objects; choosing one posts :class:`SimilarIssues.IssueChosen`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option


@dataclass(frozen=True, slots=True)
class IssueMatch:
    """One candidate issue from the local cache."""

    id: int
    """Local ticket id of the issue."""
    ref: str
    """What people call it, e.g. ``acme/product#1234``."""
    title: str
    url: str | None
    status: str
    score: float
    """Likeness to the draft, 0 to 1 (``rank_similar``)."""


class SimilarIssues(OptionList):
    """A list of similar issues; enter on one asks to link the ticket to it."""

    class IssueChosen(Message):
        """The engineer picked an issue (to link instead of filing)."""

        def __init__(self, match: IssueMatch) -> None:
            super().__init__()
            self.match = match

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.matches: list[IssueMatch] = []

    def show(self, matches: Sequence[IssueMatch], empty_text: str) -> None:
        """Replace the list; ``empty_text`` is shown when there is nothing."""
        self.matches = list(matches)
        self.clear_options()
        if not self.matches:
            self.add_option(Option(Text(empty_text, style="italic"), disabled=True))
            return
        for i, match in enumerate(self.matches):
            line = Text(no_wrap=False)
            score = f"{match.score:.0%}" if match.score >= 0.01 else "<1%"
            line.append(f"{score:>4} ", style="bold")
            line.append(match.ref, style="bold")
            if match.status in ("solved", "closed"):
                line.append(f" ({match.status})", style="italic")
            line.append("\n     ")
            line.append(match.title)
            self.add_option(Option(line, id=str(i)))

    def on_focus(self) -> None:
        if self.highlighted is None and self.matches:
            self.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.IssueChosen(self.matches[int(event.option.id)]))
