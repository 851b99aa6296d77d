"""Opening a link: in a graphical browser when there is one, else say the link to copy.

Textual's ``open_url`` runs Python's :mod:`webbrowser`, which says nothing when no browser is
found and, over SSH or on a console, may start a text-mode browser (lynx, w3m) in the very
terminal the app draws in. So a link is opened only where a graphical browser can take it (a
desktop session on Linux, macOS, Windows, or the browser that serves the app itself), and
otherwise the toast shows the link, with ``y`` to copy it.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def graphical_browser() -> bool:
    """True when :mod:`webbrowser` would reach a graphical browser (not a console one)."""
    if sys.platform not in ("darwin", "win32") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    import webbrowser

    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    # Console browsers are registered as plain GenericBrowser; graphical ones (and
    # xdg-open, open, start) as BackgroundBrowser or their own classes.
    return type(browser) is not webbrowser.GenericBrowser


def open_link(app: Any, url: str, *, copy_key: str | None = "y") -> bool:
    """Open ``url`` in the browser, or show it to copy; True when it was handed to one."""
    served = type(getattr(app, "_driver", None)).__name__ == "WebDriver"  # textual-serve
    if served or graphical_browser():
        app.open_url(url)
        app.notify(f"Opening {url}", markup=False, timeout=3)
        return True
    copy = f" ({copy_key} copies it)" if copy_key else ""
    app.notify(
        f"No graphical browser here (no display): the link is {url}{copy}",
        title="Browser",
        markup=False,
        timeout=12,
    )
    return False
