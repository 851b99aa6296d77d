"""FormFieldBox: one bug-report field with its label, input, help text and inline message.

The input follows the schema's type: ``Input`` for line, version and integer fields (integer
ones accept digits only), ``TextArea`` for text and ``Select`` for choices. The box hides
those differences from the screen: it posts :class:`FormFieldBox.ValueChanged` when the
value really changed and :class:`FormFieldBox.Left` when focus leaves the field.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea

from oncall_tui.domain.bug_form import FieldType, FormField


def input_id(field_id: str) -> str:
    """The DOM id of a field's input widget (``field-<id>``)."""
    return f"field-{field_id}"


class FormFieldBox(Vertical):
    """A labelled input for one :class:`FormField`."""

    DEFAULT_CSS = """
    FormFieldBox { height: auto; }
    FormFieldBox > Horizontal { height: auto; }
    FormFieldBox .form-field--control { height: auto; width: 1fr; }
    """

    class ValueChanged(Message):
        """The field's value changed (typed, pasted or chosen)."""

        def __init__(self, box: FormFieldBox, value: str) -> None:
            super().__init__()
            self.box = box
            self.field_id = box.field.id
            self.value = value

        @property
        def control(self) -> FormFieldBox:
            return self.box

    class Left(Message):
        """Focus left the field: time to validate it."""

        def __init__(self, box: FormFieldBox) -> None:
            super().__init__()
            self.box = box
            self.field_id = box.field.id

        @property
        def control(self) -> FormFieldBox:
            return self.box

    def __init__(self, field: FormField, value: str = "") -> None:
        super().__init__(id=f"box-{field.id}", classes="form-field")
        self.field = field
        self._value = value

    @property
    def value(self) -> str:
        """The field's current value ("" when empty or nothing is chosen)."""
        return self._value

    def compose(self) -> ComposeResult:
        f = self.field
        label = Text(f.label)
        if f.required:
            label.append(" *", style="bold")
        with Horizontal():
            yield Label(label, classes="form-field--label")
            with Vertical(classes="form-field--control"):
                yield self._make_input()
                yield Static("", classes="form-field--error")
                if f.help:
                    yield Static(Text(f.help), classes="form-field--help")

    def _make_input(self) -> Widget:
        f = self.field
        wid = input_id(f.id)
        if f.type is FieldType.TEXT:
            return TextArea(
                self._value,
                id=wid,
                soft_wrap=True,
                show_line_numbers=False,
                tab_behavior="focus",
                placeholder=f.placeholder,
            )
        if f.type is FieldType.CHOICE:
            value = self._value if self._value in f.choices else Select.NULL
            return Select(
                [(Text(c), c) for c in f.choices],
                value=value,
                allow_blank=True,
                prompt="Choose…",
                id=wid,
            )
        return Input(
            self._value,
            placeholder=f.placeholder,
            max_length=f.limit or 0,
            restrict=r"[0-9]*" if f.type is FieldType.INTEGER else None,
            id=wid,
            select_on_focus=False,
        )

    @property
    def input(self) -> Widget:
        """The input widget."""
        return self.query_one(f"#{input_id(self.field.id)}")

    def focus_input(self) -> None:
        """Move the focus into the field (scrolling it into view)."""
        widget = self.input
        widget.focus()
        widget.scroll_visible()

    def set_error(self, message: str | None) -> None:
        """Show (or clear, with None) the inline message under the input."""
        error = self.query_one(".form-field--error", Static)
        error.update(Text(message or ""))
        self.set_class(bool(message), "-invalid")

    def set_guard(self, active: bool) -> None:
        """Mark the field as naming the customer (the confidentiality guard found it)."""
        self.set_class(active, "-guard")

    def _changed(self, value: str) -> None:
        if value != self._value:
            self._value = value
            self.post_message(self.ValueChanged(self, value))

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._changed(event.value)

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._changed(event.text_area.text)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value
        self._changed("" if value is Select.NULL else str(value))

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if not self.is_attached:
            return  # the form is closing
        focused = self.screen.focused
        if focused is not None and self in focused.ancestors_with_self:
            return  # still inside the field (e.g. a Select opening its list)
        self.post_message(self.Left(self))
