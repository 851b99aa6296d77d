"""AppContext: everything one run needs, built once by the CLI and handed down.

The type is the UI's (:mod:`oncall_tui.ui.context`: the UI defines what it is handed); the
composer builds it (:func:`oncall_tui.compose.open_app_context`).
"""

from __future__ import annotations

from oncall_tui.ui.context import AppContext as AppContext  # re-exported: the CLI, tests

__all__ = ["AppContext"]
