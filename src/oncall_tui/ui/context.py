"""AppContext: everything one run needs, as the UI is handed it.

The composer (:func:`oncall_tui.compose.open_app_context`, the CLI's and the demo's) builds
it; the UI only reads it, so the type sits here, below the composer that imports the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.clock import Clock
from oncall_tui.settings.config import Config
from oncall_tui.settings.paths import Paths
from oncall_tui.settings.secrets import SecretStore

if TYPE_CHECKING:
    from oncall_tui.store import Store


@dataclass
class AppContext:
    """Config, file locations, secrets, the store, the clock and the sync wiring."""

    config: Config
    """The user's configuration (defaults if there is no file)."""
    paths: Paths
    """Where the config, database and data dir are."""
    secrets: SecretStore
    """Keyring (or memory in tests and the demo), environment variables first."""
    store: Store
    """The UI's connection to the local cache (main thread only)."""
    clock: Clock
    """Where every "now" comes from."""
    demo: bool = False
    """Running on the embedded demo."""
    engine_factory: Any = None
    """Builds the sync engine (its own store connection) when the app starts; None = local only."""
    notices: tuple[str, ...] = ()
    """One-line messages shown as toasts when the app starts (e.g. what --demo ignores)."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Things a subsystem hands to another (e.g. the demo's fakes)."""
