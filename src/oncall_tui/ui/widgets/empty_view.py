"""The EmptyState widget (the words come from :mod:`oncall_tui.ui.widgets.empty_state`)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static


class EmptyState(Static):
    """Shown above the (empty) table: why nothing is listed, and what to try."""

    DEFAULT_CSS = "EmptyState { height: auto; }"

    def show(self, why: str, tips: Sequence[str]) -> None:
        """Display ``why`` and the ``tips`` (plain text: they may quote what was typed)."""
        text = Text(no_wrap=False)
        text.append(why, style="bold")
        for tip in tips:
            text.append("\n")
            text.append(tip)
        self.update(text)
