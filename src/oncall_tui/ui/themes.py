"""Themes: the config's choice, the one picked in the app (remembered), and readable text.

Textual's themes give colours for many purposes, but not every one reads as text on every
background we put it on ($secondary for "paused" is 1.7:1 on the dark surface, $text-muted
resolves against the wrong background in a table's component classes, $warning is 1.4:1 on
the light surface). So the app derives its own text colours from the current theme, each
moved towards white (black on a light theme) until it reaches :data:`READABLE` (WCAG 2.x contrast, a
little over AA's 4.5:1) on every background it is shown on: the surfaces, the panels and the
queue's cursor row. ``styles/*.tcss`` use these (``$readable-error``...) for text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.color import Color
from textual.theme import BUILTIN_THEMES

DEFAULT_THEME = "textual-dark"
WHITE = Color(255, 255, 255)
BLACK = Color(0, 0, 0)
#: The contrast every text colour of ours reaches (WCAG AA asks 4.5:1; a little margin for
#: the rounding of colours to 8 bits).
READABLE = 4.6
#: How much of $primary the queue's cursor row mixes into the surface of a dark theme
#: (focused, blurred), and into a paler surface on a light one.
CURSOR_MIX = (0.35, 0.2)
LIGHT_CURSOR_TINT = 0.25
#: Each of our text colours and the theme colour it starts from.
INKS = {
    "readable-ok": "success",
    "readable-warning": "warning",
    "readable-error": "error",
    "readable-secondary": "secondary",
    "readable-accent": "accent",
    "readable-primary": "primary",
}


class ThemeError(ValueError):
    """A theme name Textual does not know (the message names the known ones)."""


def check_theme(name: str) -> str:
    """``name`` if it is one of Textual's themes.

    Raises:
        ThemeError: an unknown name, with the closest known one.
    """
    if name in BUILTIN_THEMES:
        return name
    import difflib

    close = difflib.get_close_matches(name, sorted(BUILTIN_THEMES), n=1)
    hint = f"did you mean {close[0]}?" if close else ", ".join(sorted(BUILTIN_THEMES))
    raise ThemeError(f"theme: no theme is called {name!r} ({hint})")


def luminance(color: Color) -> float:
    """WCAG 2.x relative luminance of an opaque colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = color.rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: Color, b: Color) -> float:
    """WCAG 2.x contrast ratio of two opaque colours (1 to 21)."""
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def readable(ink: Color, backgrounds: Iterable[Color], towards: Color) -> Color:
    """``ink``, moved towards ``towards`` (white on a dark theme, black on a light one) only
    as far as it takes to reach :data:`READABLE` on every background."""
    grounds = list(backgrounds)
    for step in range(0, 101, 2):
        candidate = ink.blend(towards, step / 100)
        if all(contrast(candidate, bg) >= READABLE for bg in grounds):
            return candidate
    return towards


def _row(surface: Color, tint: Color, mix: float, foreground: Color) -> Color:
    """``surface`` with up to ``mix`` of ``tint``: less when the foreground would not read."""
    while mix > 0.05 and contrast(foreground, surface.blend(tint, mix)) < READABLE:
        mix -= 0.05
    return surface.blend(tint, mix)


def _solid(value: str, under: Color, foreground: Color) -> Color:
    """A theme value as the opaque colour it shows over ``under`` ("auto 60%": the
    foreground at 60%)."""
    if value.startswith("auto"):
        alpha = float(value.split()[1].rstrip("%")) / 100 if " " in value else 1.0
        return under.blend(foreground, alpha)
    color = Color.parse(value)
    return under.blend(color.with_alpha(1.0), color.a) if color.a < 1 else color


def readable_variables(variables: Mapping[str, str]) -> dict[str, str]:
    """The app's own CSS variables for a theme's ``variables`` (its colour system).

    Text colours that read on the background, surface, panel and the queue's cursor row; the
    cursor row's background; and Textual's own cursor, footer-key, Markdown heading and muted
    text colours, made readable the same way.
    """
    background = Color.parse(variables["background"])
    foreground = Color.parse(variables["foreground"])
    if background.ansi is not None or foreground.ansi is not None:
        # The terminal's own palette (ansi-dark, ansi-light): its colours are the terminal's
        # to choose, nothing here can measure them. Textual's text colours, by our names.
        return {
            **{name: variables[f"text-{source}"] for name, source in INKS.items()},
            "readable-ok": variables["text-success"],
            "readable-muted": variables["text-muted"],
            "queue-cursor": variables["block-cursor-background"],
            "queue-cursor-blurred": variables["block-cursor-blurred-background"],
        }
    surface = _solid(variables["surface"], background, background)
    panel = _solid(variables["panel"], background, foreground)
    boost = _solid(variables["boost"], background, foreground)
    primary = Color.parse(variables["primary"])
    dark = luminance(foreground) > luminance(surface)
    towards = WHITE if dark else BLACK
    if dark:  # a lighter, bluer row, as far as the foreground still reads on it
        cursor = _row(surface, primary, CURSOR_MIX[0], foreground)
        blurred = _row(surface, primary, CURSOR_MIX[1], foreground)
    else:  # a light theme: a pale blue row, a paler grey one when the table is not focused
        cursor = surface.blend(WHITE, 0.7).blend(primary, LIGHT_CURSOR_TINT)
        blurred = surface.blend(WHITE, 0.4)
    grounds = [background, surface, panel, boost, cursor, blurred]
    out: dict[str, str] = {
        "queue-cursor": cursor.hex,
        "queue-cursor-blurred": blurred.hex,
    }
    for name, source in INKS.items():
        ink = _solid(variables[source], surface, foreground)
        out[name] = readable(ink, grounds, towards).hex
    muted = readable(surface.blend(foreground, 0.5), grounds, towards)
    out["readable-muted"] = muted.hex
    out["text-muted"] = muted.hex
    # Textual's widgets (option lists, data tables, the footer, Markdown).
    out["block-cursor-background"] = cursor.hex
    out["block-cursor-foreground"] = foreground.hex
    out["block-cursor-blurred-background"] = blurred.hex
    out["block-cursor-blurred-foreground"] = foreground.hex
    out["footer-key-foreground"] = out["readable-primary"]
    for level in (1, 2, 3):
        out[f"markdown-h{level}-color"] = out["readable-primary"]
    return out
