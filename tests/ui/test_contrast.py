"""Text contrast of at least 4.5:1 (WCAG 2.x AA) in the default dark and light themes.

Two checks. Over the theme variables: every text colour our styles/*.tcss use, on every
background it is drawn on, for every Textual theme. On screen: each screen and state a user
meets (the queue with the cursor on each kind of row, focused and not, the filter and its
hints, the empty queue, the detail beside the queue and full-screen, help, dialogs, toasts,
the sync log, drafts, runbooks, the bug-report form) is rendered, and every character of text
is measured against the background it is drawn on, as the terminal will draw it. Exempt, as
WCAG exempts them: borders and scrollbars (box-drawing and block characters: not text), the
dimmed screen behind a dialog (inactive), and the table of contents' level numerals
(Ⅰ Ⅱ: decoration beside the headings they mark).

The luminance and contrast formulas are written out here, not imported from the product.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from rich.color import Color as RichColor
from rich.style import Style
from textual.color import Color
from textual.screen import ModalScreen
from textual.theme import BUILTIN_THEMES

from oncall_tui.domain.query import parse_query
from oncall_tui.domain.tickets import Priority
from oncall_tui.settings.paths import styles_dir
from oncall_tui.ui.themes import readable_variables

pytestmark = pytest.mark.anyio
AA = 4.5
THEMES = ("textual-dark", "textual-light")
ME = "alex@support.example"


# ---- WCAG 2.x --------------------------------------------------------------------------------


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """https://www.w3.org/TR/WCAG21/#dfn-relative-luminance"""

    def linear(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio"""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize(
    ("fg", "bg", "ratio"),
    [
        ((0, 0, 0), (255, 255, 255), 21.0),
        ((255, 255, 255), (255, 255, 255), 1.0),
        ((0x76, 0x76, 0x76), (255, 255, 255), 4.54),  # the lightest grey AA allows on white
        ((0x77, 0x77, 0x77), (255, 255, 255), 4.48),
        ((255, 0, 0), (255, 255, 255), 4.0),
    ],
)
def test_formula_against_known_values(fg: Any, bg: Any, ratio: float) -> None:
    assert contrast_ratio(fg, bg) == pytest.approx(ratio, abs=0.01)


# ---- the theme variables ----------------------------------------------------------------------


def _styles_text_variables() -> set[str]:
    """Every variable our styles/*.tcss use as a text colour (``color:`` and title colours)."""
    found: set[str] = set()
    for path in Path(styles_dir()).glob("*.tcss"):
        for match in re.finditer(
            r"(?<![-\w])(?:border-(?:sub)?title-)?color:\s*\$([\w-]+)", path.read_text()
        ):
            found.add(match.group(1))
    return found


def _opaque(value: str, under: Color, foreground: Color) -> Color:
    if value.startswith("auto"):
        alpha = float(value.split()[1].rstrip("%")) / 100 if " " in value else 1.0
        return under.blend(foreground, alpha)
    color = Color.parse(value)
    return under.blend(color.with_alpha(1.0), color.a) if color.a < 1 else color


#: The ANSI themes draw in the terminal's own palette, which only the terminal knows.
MEASURABLE = sorted(t for t in BUILTIN_THEMES if not t.startswith("ansi-"))


@pytest.mark.parametrize("theme", MEASURABLE)
def test_every_text_colour_of_our_styles_reads_on_every_background(theme: str) -> None:
    variables = BUILTIN_THEMES[theme].to_color_system().generate()
    variables = {**variables, **BUILTIN_THEMES[theme].variables}
    variables.update(readable_variables(variables))
    bg = Color.parse(variables["background"])
    fg = Color.parse(variables["foreground"])
    grounds = {
        name: _opaque(variables[name], bg, fg)
        for name in ("background", "surface", "panel", "boost", "queue-cursor")
    } | {"queue-cursor-blurred": _opaque(variables["queue-cursor-blurred"], bg, fg)}
    used = _styles_text_variables()
    assert {"readable-error", "readable-secondary", "readable-muted", "foreground"} <= used
    if theme not in THEMES:  # another theme's own foreground on its own panel is its choice
        used = {name for name in used if name.startswith("readable-")}
    low = []
    for name in sorted(used):
        ink = _opaque(variables[name], bg, fg)
        for ground_name, ground in grounds.items():
            ratio = contrast_ratio(ink.rgb, ground.rgb)
            if ratio < AA:
                low.append(f"${name} {ink.hex} on ${ground_name} {ground.hex}: {ratio:.2f}")
    assert not low, low


# ---- on screen --------------------------------------------------------------------------------

_NOT_TEXT = re.compile(r"[\u2500-\u259f\u2581-\u258f\u2594\u2595\u2160-\u2165\s]")


def _rgb(color: RichColor | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if color is None or color.is_default:
        return default
    triplet = color.get_truecolor()
    return (triplet.red, triplet.green, triplet.blue)


def low_contrast(app: Any, scene: str) -> list[str]:
    """Each run of text on the top screen below AA, with what it says."""
    fg0 = Color.parse(app.theme_variables["foreground"]).rgb
    bg0 = Color.parse(app.theme_variables["background"]).rgb
    screen = app.screen
    region = screen.region
    if isinstance(screen, ModalScreen) and screen.children:
        region = screen.children[0].region  # the dialog; behind it is inactive
    update = screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    found = []
    for y, line in enumerate(update.strips):
        if not region.y <= y < region.bottom:
            continue
        x = 0
        for segment in (s for strip in line for s in strip):
            text, style = segment.text, segment.style or Style()
            start, x = x, x + len(text)
            if not region.x <= start < region.right or not _NOT_TEXT.sub("", text):
                continue
            fg, bg = _rgb(style.color, fg0), _rgb(style.bgcolor, bg0)
            if style.reverse:
                fg, bg = bg, fg
            if style.dim:  # as terminals draw it: about half way to the background
                fg = tuple((f + b) // 2 for f, b in zip(fg, bg, strict=True))  # type: ignore[assignment]
            ratio = contrast_ratio(fg, bg)
            if ratio < AA:
                found.append(f"{scene} y={y}: {text.strip()[:40]!r} {fg} on {bg}: {ratio:.2f}")
    return found


Scene = Callable[[Any], Awaitable[None]]


async def settle(pilot: Any, seconds: float = 0.2) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(seconds)


async def check(pilot: Any, scene: str, problems: list[str], screen: str | None = None) -> None:
    await settle(pilot)
    if screen is not None:  # the scene is really on screen
        assert type(pilot.app.screen).__name__ == screen, scene
    problems += low_contrast(pilot.app, scene)


def prepare(app: Any) -> None:
    """A failed change, a log line, a conflict-free draft: things the screens show."""
    store = app.ctx.store
    rows = store.queue.open_queue(parse_query("is:open"), limit=3)
    store.tickets.set_priority(rows[0].id, Priority.P0)
    (op,) = store.outbox.ops()
    store.outbox.mark_failed(op.id, "fake: 422 Priority is locked by a trigger")
    store.sync_state.log(
        "zendesk", "error", "pull failed: zendesk: GET /api/v2/incremental: timed out"
    )
    store.drafts.create_draft("bug_report", rows[1].id, {"title": "Live query hangs at 95%"})


@pytest.mark.parametrize("theme", THEMES)
async def test_every_text_on_screen_reads(make_app: Any, theme: str) -> None:
    problems: list[str] = []
    app = make_app()
    prepare(app)
    async with app.run_test(size=(160, 50)) as pilot:
        pilot.app.theme = theme
        await check(pilot, "queue", problems)
        for view in ("1", "3", "4", "5"):  # breached, critical, warning, ok, paused, none rows
            await pilot.press(view)
            for _ in range(14):  # the cursor (focused) on each row
                await pilot.press("down")
                await pilot.pause(0.02)
                problems += low_contrast(pilot.app, f"view {view} cursor")
        await pilot.press("slash", *"priorty:P0 vesta")  # the hint, the count; cursor blurred
        await check(pilot, "filter", problems)
        await pilot.press("escape", "slash", *"zzyzx")
        await check(pilot, "empty filter", problems)
        await pilot.press("escape", "5", "enter")  # the detail beside the queue, focused
        await check(pilot, "detail", problems)
        await pilot.press("escape", "question_mark")
        await check(pilot, "help", problems, "HelpScreen")
        await pilot.press("escape", "p")
        await check(pilot, "choice dialog", problems, "ChoiceScreen")
        await pilot.press("escape")
        for severity in ("information", "warning", "error"):
            pilot.app.notify("A toast to read", title="Sync", severity=severity)
        await check(pilot, "toasts", problems)
        pilot.app.clear_notifications()
        await pilot.press("L")
        await check(pilot, "sync log", problems, "SyncLogScreen")
        await pilot.press("escape", "D")
        await check(pilot, "drafts", problems, "DraftsScreen")
        await pilot.press("escape", "R")
        await check(pilot, "runbooks", problems, "RunbookScreen")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot, 0.5)
        await pilot.press("f5")  # submit: the missing fields' errors and the problems box
        await check(pilot, "bug report", problems, "BugReportScreen")
        await pilot.press("f2")
        await check(pilot, "bug report preview", problems, "BugReportScreen")
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("theme", THEMES)
async def test_narrow_detail_and_first_run_read(make_app: Any, theme: str) -> None:
    problems: list[str] = []
    async with make_app().run_test(size=(100, 40)) as pilot:
        pilot.app.theme = theme
        await pilot.press("enter")
        await check(pilot, "detail screen", problems, "DetailScreen")
    empty = make_app(seed=None)
    empty.ctx.demo = False
    async with empty.run_test(size=(80, 24)) as pilot:
        pilot.app.theme = theme
        await check(pilot, "first run", problems)
    assert not problems, "\n".join(problems[:40])
