"""The app's composition: config, store, secrets, demo, backends and engine, built
once (``open_app_context``) and handed down to the UI and the commands."""

from oncall_tui.compose.app import UsageError, clock_of, load_app_config, open_app_context
from oncall_tui.ui.context import AppContext

__all__ = ["AppContext", "UsageError", "clock_of", "load_app_config", "open_app_context"]
