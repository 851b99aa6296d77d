"""Where tokens live: the OS keyring, or environment variables on headless machines.

Secrets never reach config files, the database, logs or tracebacks: :class:`Secret` wraps a
value so that ``repr``/``str`` never show it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

SERVICE = "oncall-tui"
ENV_VARS = {
    "zendesk": "ONCALL_TUI_ZENDESK_TOKEN",
    "github": "ONCALL_TUI_GITHUB_TOKEN",
    "slack": "ONCALL_TUI_SLACK_TOKEN",
    "nats": "ONCALL_TUI_NATS_SECRET",  # team mode: NATS password, token or nkey seed
}


class SecretStoreUnavailable(Exception):
    """No keyring backend is available on this machine."""


class Secret:
    """A string that refuses to show itself in reprs, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: only for building a request header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Credential:
    """What is stored for one backend.

    ``kind`` is ``oauth`` (access + refresh token with expiry), ``token`` (API/personal token)
    or ``bot`` (a Slack app token).
    """

    kind: str
    access: Secret
    refresh: Secret | None = None
    expires_at: datetime | None = None
    login: str | None = None

    def to_json(self) -> str:
        """Serialise for the keyring (the only place this text may go)."""
        return json.dumps(
            {
                "kind": self.kind,
                "access": self.access.reveal(),
                "refresh": self.refresh.reveal() if self.refresh else None,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "login": self.login,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Credential:
        """Parse what :meth:`to_json` wrote; a bare string is a plain token."""
        try:
            data = json.loads(text)
        except ValueError:
            return cls("token", Secret(text))
        if not isinstance(data, dict) or not isinstance(data.get("access"), str):
            return cls("token", Secret(text))
        expires = data.get("expires_at")
        return cls(
            kind=str(data.get("kind") or "token"),
            access=Secret(data["access"]),
            refresh=Secret(data["refresh"]) if isinstance(data.get("refresh"), str) else None,
            expires_at=datetime.fromisoformat(expires) if isinstance(expires, str) else None,
            login=data.get("login") if isinstance(data.get("login"), str) else None,
        )

    def __repr__(self) -> str:
        return (
            f"Credential(kind={self.kind!r}, expires_at={self.expires_at!r}, login={self.login!r})"
        )


class SecretStore(Protocol):
    """Get, set and delete one credential per backend."""

    def get(self, backend: str) -> Credential | None: ...

    def set(self, backend: str, credential: Credential) -> None: ...

    def delete(self, backend: str) -> None: ...


class MemorySecretStore:
    """An in-memory store for tests and the demo."""

    def __init__(self, initial: Mapping[str, Credential] | None = None) -> None:
        self._items: dict[str, Credential] = dict(initial or {})

    def get(self, backend: str) -> Credential | None:
        return self._items.get(backend)

    def set(self, backend: str, credential: Credential) -> None:
        self._items[backend] = credential

    def delete(self, backend: str) -> None:
        self._items.pop(backend, None)


class KeyringSecretStore:
    """The OS keyring (macOS Keychain, Windows Credential Locker, Secret Service...)."""

    def _keyring(self):  # type: ignore[no-untyped-def]
        import keyring
        from keyring.backends import fail

        if isinstance(keyring.get_keyring(), fail.Keyring):
            raise SecretStoreUnavailable(
                "no keyring backend is available on this machine; set "
                + ", ".join(ENV_VARS.values())
                + " instead"
            )
        return keyring

    def get(self, backend: str) -> Credential | None:
        import keyring.errors

        try:
            text = self._keyring().get_password(SERVICE, backend)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(f"keyring error: {type(exc).__name__}") from None
        return Credential.from_json(text) if text else None

    def set(self, backend: str, credential: Credential) -> None:
        import keyring.errors

        try:
            self._keyring().set_password(SERVICE, backend, credential.to_json())
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(f"keyring error: {type(exc).__name__}") from None

    def delete(self, backend: str) -> None:
        import keyring.errors

        try:
            self._keyring().delete_password(SERVICE, backend)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored: logging out twice is fine
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(f"keyring error: {type(exc).__name__}") from None


class EnvFirstSecretStore:
    """Environment variables take precedence over the wrapped store (headless machines)."""

    def __init__(self, inner: SecretStore, environ: Mapping[str, str] | None = None) -> None:
        self.inner = inner
        self.environ = os.environ if environ is None else environ

    def from_env(self, backend: str) -> Credential | None:
        """The credential an environment variable gives, if any."""
        value = self.environ.get(ENV_VARS.get(backend, ""), "")
        return Credential("token", Secret(value)) if value else None

    def get(self, backend: str) -> Credential | None:
        return self.from_env(backend) or self.inner.get(backend)

    def set(self, backend: str, credential: Credential) -> None:
        self.inner.set(backend, credential)

    def delete(self, backend: str) -> None:
        self.inner.delete(backend)
