"""``[team]`` and ``[relay]`` in the config file (parsed without importing the NATS client).

Members and the relay share ``[team]``::

    [team]
    url = "nats://nats.acme.internal:4222"     # or tls://…; several: ["nats://a", "nats://b"]
    user = "alex"                 # NATS user; the password is the `nats` secret
    stream = "ONCALL"             # the stream's name (default ONCALL)
    tls_ca = "/etc/ssl/acme-ca.pem"           # verify the server with this CA
    tls_cert = "~/.config/oncall-tui/nats.crt"  # a client certificate (mutual TLS) ...
    tls_key = "~/.config/oncall-tui/nats.key"   # ... and its key
    [team.groups]                 # read only these groups (default: every group of every source)
    helpdesk = ["360001234567"]   # Zendesk group ids
    tracker = ["acme/product"]    # repositories
    chat = ["C0123ABCD"]          # channels

The secret (``oncall-tui auth set nats`` or ``ONCALL_TUI_NATS_SECRET``) is the NATS password
when ``user`` is set, an nkey seed when it starts with ``SU``, else a token.

The relay alone reads ``[relay]``::

    [relay]
    interval = 60                 # seconds between passes
    lease_ttl = 15                # a leader silent this long is replaced
    replicas = 1                  # stream and bucket replicas (3 on a three-node cluster)
    [relay.after_hours]
    channels = ["C0123ABCD"]      # designated customer channels
    reply = "Thanks! ..."         # the thread reply; {ticket} and {opens} are filled in
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.tickets import Source

DEFAULT_STREAM = "ONCALL"
DEFAULT_BUCKET = "oncall-relay"
DEFAULT_REPLY = (
    "Thanks for your message. It reached us outside our support hours, so we opened "
    "ticket {ticket} for it; we will answer from {opens}."
)
#: Leader lease: a standby notices a dead leader's lease is gone within this many seconds,
#: so it leads within ``lease_ttl + LEASE_POLL`` (30 s with the defaults' margin).
MAX_TAKEOVER = 30.0


@dataclass(frozen=True)
class TeamConfig:
    """How to reach the team's stream."""

    urls: tuple[str, ...]
    """NATS server URLs (``nats://`` or ``tls://``)."""
    stream: str = DEFAULT_STREAM
    """The stream's name."""
    user: str | None = None
    """NATS user name (the password is the ``nats`` secret)."""
    tls_ca: Path | None = None
    """CA certificate to verify the servers with."""
    tls_cert: Path | None = None
    """Client certificate (mutual TLS)."""
    tls_key: Path | None = None
    """Client certificate's key."""
    groups: Mapping[Source, tuple[str, ...]] | None = None
    """Groups to read per source; None reads every group of every source."""
    prefix: str = "oncall"
    """The subjects' first token."""


@dataclass(frozen=True)
class AfterHoursConfig:
    """The out-of-hours chat reply."""

    channels: tuple[str, ...] = ()
    """Designated customer channels (chat channel ids)."""
    reply: str = DEFAULT_REPLY
    """The thread reply; ``{ticket}`` (the help-desk ticket id) and ``{opens}`` (when support
    opens again) are filled in."""


@dataclass(frozen=True)
class RelayConfig:
    """The relay's own settings."""

    interval: float = 60.0
    """Seconds between passes."""
    lease_ttl: float = 15.0
    """Seconds a leader's lease lasts without renewal."""
    bucket: str = DEFAULT_BUCKET
    """The key-value bucket holding the lease and the relays' shared state."""
    replicas: int = 1
    """Replicas of the stream and the bucket (3 on a three-node cluster)."""
    duplicate_window: float = 600.0
    """Seconds the stream remembers message ids (a resend within it is dropped)."""
    after_hours: AfterHoursConfig = field(default_factory=AfterHoursConfig)
    """The out-of-hours chat reply (off without channels)."""


def team_from_dict(table: Mapping[str, Any]) -> TeamConfig:
    """Parse ``[team]``.

    Raises:
        ConfigValueError: naming the key and what was expected.
    """
    known = {"url", "stream", "user", "tls_ca", "tls_cert", "tls_key", "groups", "prefix"}
    _only(table, "team", known)
    raw = table.get("url")
    urls = (raw,) if isinstance(raw, str) else raw
    if (
        not isinstance(urls, list | tuple)
        or not urls
        or not all(isinstance(u, str) and u.startswith(("nats://", "tls://")) for u in urls)
    ):
        raise ConfigValueError("team.url", "a nats:// or tls:// URL (or a list of them)", raw)
    if any("@" in u.partition("://")[2].partition("/")[0] for u in urls):
        raise ConfigValueError(
            "team.url",
            "a URL without credentials (the secret goes to the keyring: "
            "`oncall-tui auth set nats`)",
            "a URL with user:password@",
        )
    stream = table.get("stream", DEFAULT_STREAM)
    if (
        not isinstance(stream, str)
        or not stream
        or not all(c.isalnum() or c in "-_" for c in stream)
    ):
        raise ConfigValueError("team.stream", "a stream name (letters, digits, - and _)", stream)
    prefix = table.get("prefix", "oncall")
    if (
        not isinstance(prefix, str)
        or not prefix
        or not all(c.isalnum() or c in "-_" for c in prefix)
    ):
        raise ConfigValueError(
            "team.prefix", "one subject token (letters, digits, - and _)", prefix
        )
    user = table.get("user")
    if user is not None and (not isinstance(user, str) or not user):
        raise ConfigValueError("team.user", "a NATS user name", user)
    paths = {}
    for key in ("tls_ca", "tls_cert", "tls_key"):
        value = table.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise ConfigValueError(f"team.{key}", "a file path", value)
        paths[key] = Path(value).expanduser()
    if ("tls_cert" in paths) != ("tls_key" in paths):
        raise ConfigValueError("team.tls_key", "tls_cert and tls_key together")
    groups: dict[Source, tuple[str, ...]] | None = None
    if "groups" in table:
        raw_groups = table["groups"]
        if not isinstance(raw_groups, Mapping):
            raise ConfigValueError("team.groups", "a table of source = [groups]", raw_groups)
        groups = {}
        for name, values in raw_groups.items():
            try:
                source = Source(name)
            except ValueError:
                raise ConfigValueError(
                    f"team.groups.{name}", "one of helpdesk, tracker, chat"
                ) from None
            if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
                raise ConfigValueError(f"team.groups.{name}", "an array of group names", values)
            groups[source] = tuple(values)
    return TeamConfig(
        urls=tuple(urls),
        stream=stream,
        user=user,
        tls_ca=paths.get("tls_ca"),
        tls_cert=paths.get("tls_cert"),
        tls_key=paths.get("tls_key"),
        groups=groups,
        prefix=prefix,
    )


def relay_from_dict(table: Mapping[str, Any]) -> RelayConfig:
    """Parse ``[relay]``.

    Raises:
        ConfigValueError: naming the key and what was expected.
    """
    _only(table, "relay", {"interval", "lease_ttl", "bucket", "replicas", "after_hours"})
    kwargs: dict[str, Any] = {}
    for key, low, high in (("interval", 1.0, 86400.0), ("lease_ttl", 3.0, 25.0)):
        if key in table:
            value = table[key]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (low <= value <= high)
            ):
                raise ConfigValueError(f"relay.{key}", f"seconds, {low:g} to {high:g}", value)
            kwargs[key] = float(value)
    if "bucket" in table:
        bucket = table["bucket"]
        if (
            not isinstance(bucket, str)
            or not bucket
            or not all(c.isalnum() or c in "-_" for c in bucket)
        ):
            raise ConfigValueError("relay.bucket", "a bucket name (letters, digits, - and _)")
        kwargs["bucket"] = bucket
    if "replicas" in table:
        replicas = table["replicas"]
        if isinstance(replicas, bool) or replicas not in (1, 3, 5):
            raise ConfigValueError("relay.replicas", "1, 3 or 5", replicas)
        kwargs["replicas"] = replicas
    if "after_hours" in table:
        sub = table["after_hours"]
        if not isinstance(sub, Mapping):
            raise ConfigValueError("relay.after_hours", "a table", sub)
        _only(sub, "relay.after_hours", {"channels", "reply"})
        channels = sub.get("channels", [])
        if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
            raise ConfigValueError("relay.after_hours.channels", "an array of channel ids")
        reply = sub.get("reply", DEFAULT_REPLY)
        if not isinstance(reply, str) or not reply.strip():
            raise ConfigValueError("relay.after_hours.reply", "the reply's text", reply)
        try:
            reply.format(ticket="1", opens="Monday 07:00")
        except (KeyError, IndexError, ValueError):
            raise ConfigValueError(
                "relay.after_hours.reply", "text with only {ticket} and {opens} to fill in"
            ) from None
        kwargs["after_hours"] = AfterHoursConfig(tuple(channels), reply)
    return RelayConfig(**kwargs)


def _only(table: Mapping[str, Any], key: str, known: set[str]) -> None:
    for name in table:
        if name not in known:
            raise ConfigValueError(f"{key}.{name}", f"a known key ({', '.join(sorted(known))})")
