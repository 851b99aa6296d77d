"""GuardPanel: where the draft names the customer, each word shown in its context.

Hits come from ``guard.check``; those covered by the engineer's override are dimmed and
marked, the others block filing. Customer text is data: everything is built from ``Text``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import Static

from oncall_tui.domain.guard import CONTEXT_CHARS, GuardHit, GuardOverride


def hit_text(hit: GuardHit, label: str, covered: bool) -> Text:
    """``"Term" in Label`` over ``…context with the term highlighted…`` for one hit."""
    line = Text()
    line.append(f'"{hit.term}"', style="bold")
    if hit.customer and hit.customer.casefold() != hit.term.casefold():
        line.append(f" ({hit.customer})")
    line.append(f" in {label}", style="italic")
    if covered:
        line.append("  (overridden)", style="italic")
    line.append("\n  ")
    # Where the match sits inside hit.context (see guard._context): a leading "…" when cut.
    left = max(0, hit.start - CONTEXT_CHARS)
    offset = hit.start - left + (1 if left > 0 else 0)
    length = hit.end - hit.start
    context = Text(hit.context)
    if 0 <= offset <= len(hit.context) - length:
        context.stylize("dim strike" if covered else "bold reverse", offset, offset + length)
    line.append_text(context)
    return line


class GuardPanel(Static):
    """The confidentiality guard's findings for the current draft."""

    def show(
        self,
        hits: Sequence[GuardHit],
        override: GuardOverride | None,
        labels: Mapping[str, str],
        *,
        has_customer: bool = True,
    ) -> None:
        """Render the hits; ``labels`` maps field ids to field labels."""
        text = Text()
        if not has_customer:
            text.append(
                "No customer known yet: nothing to check against (enter a codename we know "
                "to file for a customer).",
                style="italic",
            )
        elif not hits:
            text.append(
                "✓ No customer's name, domain or people found (every known customer checked).",
                style="italic",
            )
        else:
            blocking = [h for h in hits if override is None or not override.covers(h)]
            if blocking:
                text.append(
                    f"{len(blocking)} mention(s) of a customer block filing: "
                    "fix them, or F4 to override with a reason.\n",
                    style="bold",
                )
            else:
                text.append("Every mention is covered by your override.\n", style="bold")
            for hit in hits:
                covered = override is not None and override.covers(hit)
                text.append_text(hit_text(hit, labels.get(hit.field_id, hit.field_id), covered))
                text.append("\n")
            if override is not None:
                text.append("Override: ", style="bold")
                text.append(override.reason)
        self.set_class(bool(hits), "-hits")
        self.update(text)
