"""Where tokens live: the OS keyring, or environment variables on headless machines.

Secrets never reach config files, the database, logs or tracebacks: :class:`Secret` wraps a
value so that ``repr``/``str`` never show it, and every value ever wrapped (and every
``ONCALL_TUI_*_TOKEN``) is remembered so that :func:`redact_text` can take it out of any text
that is about to be shown: a crash report's traceback (a frame's locals hold the plain token
once a request header is built), an exception message that echoes a header.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

if TYPE_CHECKING:  # keyring is imported when first used (cold start)
    from keyring.backend import KeyringBackend

SERVICE = "oncall-tui"
ENV_VARS = {
    "zendesk": "ONCALL_TUI_ZENDESK_TOKEN",
    "github": "ONCALL_TUI_GITHUB_TOKEN",
    "slack": "ONCALL_TUI_SLACK_TOKEN",
    "nats": "ONCALL_TUI_NATS_SECRET",  # team mode: NATS password, token or nkey seed
}


class SecretStoreUnavailable(Exception):
    """No keyring backend is available on this machine."""


#: Shorter values are not redacted (they would blank out ordinary words).
MIN_REDACTED = 6
REDACTED = "[redacted]"
_known: set[str] = set()
_known_lock = threading.Lock()


#: Token shapes redacted even when this process never saw the value: GitHub, Slack, and any
#: Bearer/Basic/token credential as it appears in a header.
@cache
def _token_patterns() -> re.Pattern[str]:
    """The token shapes, compiled on first use (not at start: ~1 ms)."""
    return re.compile(
        r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9-]{8,})"
        r"|(?<=Bearer )[^\s'\",]{8,}|(?<=Basic )[A-Za-z0-9+/=]{8,}"
        r"|(?<=token )(?=[^\s'\",]*\d)[^\s'\",]{8,}",
        re.IGNORECASE,
    )


def remember_secret(value: str) -> None:
    """Have :func:`redact_text` take ``value`` out of any text from now on."""
    if len(value) < MIN_REDACTED:
        return
    with _known_lock:
        _known.add(value)


def _forms(value: str) -> set[str]:
    """The ways ``value`` shows up in text: itself, base64 (Basic auth), URL-quoted, and for a
    Zendesk ``email/token:TOKEN`` the bare token too."""
    forms = {value, base64.b64encode(value.encode()).decode("ascii"), quote(value, safe="")}
    if "/token:" in value:
        forms.add(value.split("/token:", 1)[1])
    return {f for f in forms if len(f) >= MIN_REDACTED}


def redact_text(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret this process knows, and every token-shaped string, replaced.

    The secrets known are every :class:`Secret` created so far and the ``ONCALL_TUI_*_TOKEN``
    environment variables (read now, so a crash before any secret was loaded is covered).
    """
    env = os.environ if environ is None else environ
    with _known_lock:
        values = set(_known)
    values |= {env[name] for name in ENV_VARS.values() if len(env.get(name, "")) >= MIN_REDACTED}
    forms = {form for value in values for form in _forms(value)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return _token_patterns().sub(REDACTED, text)


class Secret:
    """A string that refuses to show itself in reprs, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember_secret(value)

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

    def _keyring(self) -> KeyringBackend:
        """The active backend (what keyring's module-level get/set/delete_password call)."""
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            raise SecretStoreUnavailable(
                "no keyring backend is available on this machine; set "
                + ", ".join(ENV_VARS.values())
                + " instead"
            )
        return backend

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
