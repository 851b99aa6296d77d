"""Building the configured backends: config + credentials → adapters over httpx clients.

A backend that is not configured is off. A configured backend without a credential is skipped
with a message that says how to sign in; the others still sync.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from oncall_tui.domain.clock import Clock
from oncall_tui.settings.config import BackendConfig, Config
from oncall_tui.settings.secrets import ENV_VARS, Credential, SecretStore, SecretStoreUnavailable
from oncall_tui.sync.base import Backend, Limits
from oncall_tui.sync.http import build_client

Transports = Callable[[str], httpx.AsyncBaseTransport | None]


@dataclass
class BuiltBackends:
    """The adapters ready to sync, and why any configured one is not."""

    backends: list[Backend] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def aclose(self) -> None:
        """Close the HTTP clients."""
        for client in self.clients:
            await client.aclose()


def sign_in_hint(name: str) -> str:
    """How to give oncall-tui a credential for ``name``."""
    verb = "set" if name == "slack" else "login"
    return f"run `oncall-tui auth {verb} {name}` or set {ENV_VARS[name]}"


def auth_for(name: str, credential: Credential) -> tuple[str, str]:
    """(token, scheme) for the Authorization header.

    A legacy Zendesk API token is stored as ``email/token:TOKEN`` and sent with Basic auth
    (they keep working until Zendesk retires them on 2027-04-30); everything else is a bearer
    token.
    """
    token = credential.access.reveal()
    if name == "zendesk" and "/token:" in token:
        return token, "Basic"
    return token, "Bearer"


def build_backend(
    name: str,
    spec: BackendConfig,
    config: Config,
    credential: Credential,
    secrets: SecretStore,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[Backend, httpx.AsyncClient]:
    """One adapter.

    Raises:
        ConfigValueError: bad adapter options in the config.
    """
    token, scheme = auth_for(name, credential)
    refreshing = credential.kind == "oauth" and credential.refresh is not None
    if refreshing:
        from oncall_tui.sync.auth import RefreshingAuth

        auth = RefreshingAuth(
            name,
            spec.oauth_url or spec.url,
            spec.client_id,
            credential,
            secrets,
            clock,
            transport=transport,
        )
        backend, client = _adapter(name, spec, config, None, scheme, clock, transport)
        client.auth = auth
        return backend, client
    return _adapter(name, spec, config, token, scheme, clock, transport)


def _adapter(
    name: str,
    spec: BackendConfig,
    config: Config,
    token: str | None,
    scheme: str,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None,
) -> tuple[Backend, httpx.AsyncClient]:
    limits = Limits.from_table(spec.limits, f"backends.{name}.limits")
    if name == "zendesk":
        from oncall_tui.sync.zendesk import ZendeskBackend
        from oncall_tui.sync.zendesk_config import ZendeskConfig

        zconfig = ZendeskConfig.from_options(spec.options, config.history_days)
        client = build_client(spec.url, token, scheme, transport=transport, limits=limits)
        return ZendeskBackend(client, zconfig, clock=clock), client
    if name == "github":
        from oncall_tui.sync.github import GitHubBackend
        from oncall_tui.sync.github_wire import GitHubConfig

        gconfig = GitHubConfig.from_options(spec.repos, spec.options, config.history_days)
        client = build_client(
            spec.url,
            token,
            scheme,
            transport=transport,
            headers={"Accept": "application/vnd.github+json"},
            limits=limits,
        )
        return GitHubBackend(client, gconfig, clock=clock), client
    from oncall_tui.sync.slack import SlackBackend
    from oncall_tui.sync.slack_wire import SlackConfig

    sconfig = SlackConfig.from_options(spec.channels, spec.employees, spec.options)
    client = build_client(spec.url, token, scheme, transport=transport, limits=limits)
    return SlackBackend(client, sconfig, clock=clock), client


def build_backends(
    config: Config, secrets: SecretStore, clock: Clock, *, transports: Transports | None = None
) -> BuiltBackends:
    """Every configured backend that has a credential.

    Raises:
        ConfigValueError: bad adapter options in the config.
    """
    built = BuiltBackends()
    for name, spec in config.backends.items():
        try:
            credential = secrets.get(name)
        except SecretStoreUnavailable as exc:
            built.problems.append(f"{name}: {exc}")
            continue
        if credential is None:
            built.problems.append(f"{name}: not signed in; {sign_in_hint(name)}")
            continue
        transport = transports(name) if transports else None
        backend, client = build_backend(name, spec, config, credential, secrets, clock, transport)
        built.backends.append(backend)
        built.clients.append(client)
    return built
