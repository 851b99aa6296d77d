"""ComposeScreen: write a reply or an internal note (pre-filled from a template)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, TextArea


class ComposeScreen(ModalScreen[str | None]):
    """A text editor in a dialog; ctrl+s queues the text, escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Queue it", id="send", priority=True),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, title: str, text: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.initial = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            yield Label(Text(self.title_text), classes="dialog--title")
            yield TextArea(self.initial, id="compose-text", soft_wrap=True, show_line_numbers=False)
            yield Label(Text("ctrl+s queue · esc cancel"), classes="dialog--hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_send(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.notify("Nothing to send: the text is empty.", severity="warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
