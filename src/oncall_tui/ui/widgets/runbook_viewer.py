"""The runbook screen's widgets and rows: the Markdown viewer (web links open in the browser)
and a step of the checklist as a list row, placeholders filled as text, never as Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import MarkdownViewer
from textual.widgets.markdown import Markdown

from oncall_tui.domain.runbooks import Runbook, Step, StepKind, fill_placeholders

#: Lines of a code block shown in the step list (all of it is copied).
CODE_PREVIEW_LINES = 4


def markdown_heading(runbook: Runbook) -> str:
    """What the viewer shows above the body: the title, then the summary if there is one."""
    heading = f"# {runbook.title}\n\n"
    return heading + f"{runbook.summary}\n\n" if runbook.summary else heading


_INLINE_RE = re.compile(r"(`[^`]+`|\*\*[^*]+\*\*|\*[^*\s][^*]*\*)")


def inline_text(markdown: str, context: Mapping[str, str]) -> Text:
    """A step's inline Markdown as ``Text``: code spans bold, ``*em*`` italic, rest as is.

    Placeholders are filled per span, after splitting, so a filled-in value is never read
    as Markdown (nor as markup: this is a ``Text``, not a markup string).
    """
    text = Text()
    for i, part in enumerate(_INLINE_RE.split(markdown)):
        if not part:
            continue
        if i % 2 == 0:
            text.append(fill_placeholders(part, context))
        elif part.startswith("`"):
            text.append(fill_placeholders(part[1:-1], context), style="bold")
        elif part.startswith("**"):
            text.append(fill_placeholders(part[2:-2], context), style="bold")
        else:
            text.append(fill_placeholders(part[1:-1], context), style="italic")
    return text


def step_prompt(step: Step, context: Mapping[str, str], done: bool) -> Table:
    """A step as a list row: ``[x]`` boxes for checklist items, ``•`` items, code blocks.

    A two-column grid, so wrapped lines hang under the text rather than under the box.
    """
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    if step.kind is StepKind.CHECK:
        body = inline_text(step.text, context)
        if done:
            body.stylize("dim")
        grid.add_row(Text("[x]" if done else "[ ]", style="bold"), body)
    elif step.kind is StepKind.ITEM:
        grid.add_row(Text(" • "), inline_text(step.text, context))
    else:
        lines = fill_placeholders(step.text, context).split("\n")
        shown = lines[:CODE_PREVIEW_LINES] + (["…"] if len(lines) > CODE_PREVIEW_LINES else [])
        grid.add_row(Text(" $ ", style="bold"), Text("\n".join(shown), style="italic"))
    return grid


class RunbookViewer(MarkdownViewer):
    """MarkdownViewer that opens web links in the browser instead of loading them as files,
    with code blocks in readable colours."""

    def compose(self) -> ComposeResult:
        from textual.widgets.markdown import MarkdownTableOfContents

        from oncall_tui.ui.widgets.readable_markdown import ReadableMarkdown

        markdown = ReadableMarkdown(
            parser_factory=self._parser_factory, open_links=self._open_links
        )
        markdown.can_focus = True
        yield markdown
        yield MarkdownTableOfContents(markdown)

    async def _on_markdown_link_clicked(self, message: Markdown.LinkClicked) -> None:
        message.stop()
        message.prevent_default()  # MarkdownViewer's own handler would read href as a file
        href = message.href
        if href.startswith("#"):
            self.document.goto_anchor(href[1:])
        elif href.startswith(("https://", "http://", "mailto:")):
            from oncall_tui.ui.browser import open_link

            open_link(self.app, href, copy_key=None)
        else:
            self.notify(f"Not a web link: {href}", severity="warning", markup=False)
