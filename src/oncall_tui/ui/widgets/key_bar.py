"""KeyBar: a footer that wraps onto a second line instead of hiding keys.

Textual's Footer is one line; the queue has more actions than fit in 120 columns, and every
action must show its key. Each entry is clickable (it presses the key), like Footer's.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget


class KeyBar(Widget):
    """The active bindings of the screen, key then description, wrapped to the width."""

    COMPONENT_CLASSES = {"key-bar--key"}

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom; height: auto; max-height: 4; padding: 0 1;
        link-style: none; link-color: $foreground; link-background: transparent;
        link-style-hover: bold; link-background-hover: $primary 30%;
    }
    KeyBar > .key-bar--key { text-style: bold; }
    """

    _rendered: tuple[object, Text] | None = None
    """The last text and what it was built from: layout asks for it several times a frame."""
    _measuring: int | None = None
    """The width layout is measuring the height for (see :meth:`get_content_height`)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, _: object) -> None:
        self.refresh(layout=True)

    def entries(self) -> list[tuple[str, str, str]]:
        """(shown key, description, key to press) for each binding shown in the footer."""
        seen: set[str] = set()
        result = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.show or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            result.append((self.app.get_key_display(binding), binding.description, key))
        if self.app.ENABLE_COMMAND_PALETTE:
            result.append(("^p", "Commands", self.app.COMMAND_PALETTE_BINDING))
        return result

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # The wrapping depends on the width: use the one being measured. (Asking for
        # content_size here would make the screen lay itself out again, inside its layout.)
        self._measuring = width
        try:
            return super().get_content_height(container, viewport, width)
        finally:
            self._measuring = None

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        measuring = self._measuring
        width = max(self.content_size.width if measuring is None else measuring, 20)
        entries = self.entries()
        built_from = (width, key_style, entries)
        if self._rendered is not None and self._rendered[0] == built_from:
            return self._rendered[1].copy()
        text = Text(no_wrap=True, overflow="crop")
        column = 0
        for shown, description, key in entries:
            entry = len(shown) + 1 + len(description)
            if column and column + 2 + entry > width:  # wrap whole entries, never inside one
                text.append("\n")
                column = 0
            elif column:
                text.append("  ")
                column += 2
            click = Style.from_meta({"@click": f"app.simulate_key({key!r})"})
            text.append(shown, style=key_style + click)
            text.append(f" {description}", style=click)
            column += entry
        self._rendered = (built_from, text)
        return text.copy()
