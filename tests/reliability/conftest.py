"""Reliability suite: bounded fuzzing budgets, a soak switch, hostile samples, screen capture.

Soak mode (outside CI) multiplies every budget here: ``ONCALL_SOAK=1`` gives x20,
``ONCALL_SOAK=<n>`` (n >= 2) gives xn; unset or ``0`` is the CI budget (the whole directory in
well under a minute). It is an environment variable rather than a pytest option because an
option declared in this nested conftest is unknown when pytest starts from the repository root.

Tests marked ``product_bug("Bn: ...")`` found a product bug when they were written and now guard
its fix (``pytest tests/reliability -m product_bug`` lists them; the bugs are described in the
notes of issue 9).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings


def _soak_factor() -> int:
    raw = os.environ.get("ONCALL_SOAK", "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return 1
    if raw.isdigit() and int(raw) >= 2:
        return int(raw)
    return 20


SOAK = _soak_factor()


def scaled(n: int) -> int:
    """``n`` iterations in CI, ``n * SOAK`` in soak mode."""
    return n * SOAK


def fuzz(max_examples: int) -> settings:
    """Hypothesis settings for one property: a bounded budget, no deadline, no example DB.

    Known counterexamples are pinned with ``@example`` instead of a database, so a failure is
    the same on every machine.
    """
    return settings(
        max_examples=scaled(max_examples),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
        ],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "product_bug(what): a regression test for a product bug the reliability suite found",
    )


#: Customer text that tries to drive Rich/Textual markup or the terminal.
MARKUP = (
    "[bold red]loud[/]",
    "[link=https://evil.example/x]click me[/link]",
    "[@click=app.quit]quit[/]",
)
ESCAPES = (
    "\x1b[2J\x1b[31mred\x1b[0m",  # CSI: clear screen, colours
    "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07",  # OSC 52: write the clipboard, BEL-terminated
    "\x9b31mC1 CSI\x9d0;title\x9c",  # 8-bit C1 introducers
    "bell\x07\x07 nul\x00 del\x7f",
)
UNICODE = ("\u202eRTL override\u202c", "\u200f\u200emarks", "🔥🧯👩‍💻", "e\u0301\u0301\u0301")
HOSTILE = MARKUP + ESCAPES + UNICODE
#: Everything at once, as one subject line.
HOSTILE_LINE = " ".join(HOSTILE)
#: A token that looks real (GitHub's classic format) and is easy to grep for.
GITHUB_TOKEN = "ghp_" + "R3liab1l1tyT0kenX9q2w8e7r6t5y4u3i2o1"[:36]


def has_control(text: str) -> bool:
    """True if ``text`` holds a character a terminal would act on (C0 but \\n \\t, DEL, C1)."""
    return any((ord(ch) < 0x20 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F for ch in text)


def screen_lines(app: Any) -> list[list[Any]]:
    """The segments of each screen line, exactly as the driver would write a full frame.

    Textual has no public per-frame segment API; this is what ``export_screenshot`` renders
    (background screens and toasts included).
    """
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return [[seg for strip in line for seg in strip] for line in update.strips]


def screen_text(app: Any) -> str:
    """The screen's rendered text, line by line."""
    return "\n".join("".join(seg.text for seg in strip) for strip in screen_lines(app))


def click_actions(app: Any) -> list[str]:
    """The ``@click`` actions attached to rendered segments (markup that became live)."""
    found = []
    for strip in screen_lines(app):
        for seg in strip:
            meta = seg.style.meta if seg.style is not None else {}
            if meta.get("@click"):
                found.append(str(meta["@click"]))
    return found


@pytest.fixture
def quit_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records any attempt to quit or exit the app (markup must never reach these)."""
    from textual.app import App

    calls: list[str] = []
    real_exit = App.exit

    def exit_(self: App[Any], *args: Any, **kwargs: Any) -> None:
        calls.append("exit")
        real_exit(self, *args, **kwargs)

    monkeypatch.setattr(App, "exit", exit_)
    yield calls
