"""ReadableMarkdown: Textual's Markdown with code blocks in the app's readable text colours.

Textual highlights fenced code with its theme's ``$text-*`` colours at 60 to 90 % and draws
the block's plain text in a fixed light grey: on the light theme strings are 3.3:1 and
unhighlighted text all but vanishes. Here every token colour is one of the app's
``$readable-*`` colours (oncall_tui.ui.themes), at full strength, and plain text is the
theme's foreground. Imported only where Markdown is shown (it is not a start-up import).
"""

from __future__ import annotations

import re

from textual.content import Content
from textual.highlight import HighlightTheme, highlight
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownFence

_TEXT_VARIABLE = re.compile(r"\$text(-[a-z]+)?( \d+%)?")
_READABLE = {
    None: "$readable-muted",  # "$text 60%": comments, backticks
    "-success": "$readable-ok",
    "-warning": "$readable-warning",
    "-error": "$readable-error",
    "-primary": "$readable-primary",
    "-secondary": "$readable-secondary",
    "-accent": "$readable-accent",
}


def _readable_style(style: str) -> str:
    style = re.sub(r" on \$[a-z-]+", "", style)  # a token's own background: the block's
    return _TEXT_VARIABLE.sub(lambda m: _READABLE.get(m.group(1), "$foreground"), style)


class ReadableHighlightTheme(HighlightTheme):
    """Textual's token styles, each in a readable colour of the app's."""

    STYLES = {token: _readable_style(style) for token, style in HighlightTheme.STYLES.items()}


class ReadableFence(MarkdownFence):
    """A code block highlighted with :class:`ReadableHighlightTheme`."""

    DEFAULT_CSS = "ReadableFence { color: $foreground; }"

    @classmethod
    def highlight(cls, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:
        if ansi:  # the terminal's own colours: Textual's ANSI themes
            return super().highlight(code, language, ansi=ansi, dark=dark)
        return highlight(code, language=language or None, theme=ReadableHighlightTheme)


class ReadableMarkdown(Markdown):
    """Markdown whose code blocks are :class:`ReadableFence`."""

    BLOCKS = {**Markdown.BLOCKS, "fence": ReadableFence, "code_block": ReadableFence}
