"""Team mode's composition: a member's engine backends (the relay's stream, pushing with the
member's own tokens) and the app's engine factory built on them."""

from __future__ import annotations

from typing import Any

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.settings.config import Config
from oncall_tui.settings.paths import Paths
from oncall_tui.settings.secrets import SecretStore


def build_member_backends(
    config: Config,
    secrets: SecretStore,
    clock: Clock,
    *,
    transports: Any = None,
) -> tuple[list[Any], Any, list[str]]:
    """The member's engine backends: one :class:`TeamBackend` per source read, each pushing
    with the member's own adapter when signed in. Returns (backends, built adapters, notes).

    Raises:
        ConfigValueError: bad adapter options in the config.
    """
    from oncall_tui.sync.factory import build_backends
    from oncall_tui.team.connect import Connection, team_secret
    from oncall_tui.team.member import TeamBackend, TeamFeed, filters_for, sources_for

    assert config.team is not None
    built = build_backends(config, secrets, clock, transports=transports)
    notes = [
        f"{p}; until then your changes there wait (team mode reads them from the relay)"
        for p in built.problems
    ]
    own = {b.source: b for b in built.backends}
    connection = Connection(config.team, team_secret(secrets), name=f"oncall-tui {config.user}")
    feed = TeamFeed(connection)
    backends = [
        TeamBackend(feed, source, filters_for(config.team, source), own.get(source))
        for source in sources_for(config.team)
    ]
    return backends, (built, feed), notes


async def close_member(handle: Any) -> None:
    """Close what :func:`build_member_backends` opened."""
    built, feed = handle
    await feed.aclose()
    await built.aclose()


def team_engine_factory(config: Config, paths: Paths, secrets: SecretStore, clock: Clock) -> Any:
    """The app's engine factory in team mode (same contract as direct mode's)."""

    def factory(app: Any) -> Any:
        from oncall_tui.store import open_store
        from oncall_tui.sync.engine import SyncEngine

        try:
            backends, _handle, notes = build_member_backends(config, secrets, clock)
        except ConfigValueError as exc:
            app.notify(f"{paths.config}: {exc}", title="Sync", severity="error", markup=False)
            return None
        for note in notes:
            app.notify(note, title="Team", severity="information", markup=False)
        writer = open_store(paths.db, sla=config.sla, clock=clock, migrate=False)
        return SyncEngine(writer, backends, clock)

    return factory
