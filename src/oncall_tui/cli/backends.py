"""What the commands that talk to the backends (``sync``, a member's ``sync --once``, the
``relay``) are given, and how they build the backends from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.settings.config import Config, ConfigError
from oncall_tui.settings.paths import Paths
from oncall_tui.settings.secrets import SecretStore

if TYPE_CHECKING:
    from oncall_tui.sync.factory import BuiltBackends

NOTHING_TO_SYNC = "nothing to sync: no backend is configured and signed in (local only)"


@dataclass(frozen=True)
class SyncSetup:
    """The config, files, credentials, clock and output of a backend command.

    Attributes:
        transports: per backend, an httpx transport instead of the network (tests, the demo).
    """

    config: Config
    paths: Paths
    secrets: SecretStore
    clock: Clock
    out: TextIO
    err: TextIO
    transports: Any = None

    def config_error(self, exc: ConfigValueError) -> ConfigError:
        """A bad backend option, named with the config file it is in."""
        return ConfigError(f"{self.paths.config}: {exc}")

    def backends(self) -> BuiltBackends:
        """Every configured backend that has a credential; why any other is not is printed as
        a warning. A bad backend option raises :class:`ConfigError`."""
        from oncall_tui.sync.factory import build_backends

        try:
            built = build_backends(
                self.config, self.secrets, self.clock, transports=self.transports
            )
        except ConfigValueError as exc:
            raise self.config_error(exc) from None
        for problem in built.problems:
            print(f"warning: {problem}", file=self.err)
        return built

    def nothing_to_sync(self, built: BuiltBackends) -> int:
        """Say that no backend can sync; the exit status: 1 if one was configured but could
        not be built, else 0 (local only is no failure)."""
        print(NOTHING_TO_SYNC, file=self.out)
        return 1 if built.problems else 0


__all__ = ["NOTHING_TO_SYNC", "SyncSetup"]
