"""The user's TOML configuration, parsed into frozen dataclasses.

A missing file means defaults. A bad one raises :class:`ConfigError` whose message names the
file, the key (or line) and what was expected, e.g.::

    config.toml: sync_interval: expected a number of seconds, got 'soon'

The shape, with every key optional::

    user = "alice@acme.com"        # who "assignee:me" is (your help-desk identity)
    timezone = "Europe/Berlin"     # every time shown; default: the SLA calendar's zone
    theme = "textual-light"        # the app's look; a theme picked in the app is remembered
    sync_interval = 60             # seconds between pulls (5 to 86400); 0 = only on ctrl+r
    undo_seconds = 10              # a change waits this long before it is sent (u undoes it)
    bell = false                   # ring the terminal bell when a ticket goes critical
    runbooks_dir = "~/team-runbooks"
    history_days = 90              # how far back the first sync reaches

    [[views]]                      # replaces the default views (keys 1-9 in order)
    name = "P0 and P1"
    query = "is:open priority:P0,P1"

    [keys]                         # remap bindings by id
    sync-now = "ctrl+r"

    [sla]                          # calendar, holidays, targets: see domain/sla.py
    [bug_report]                   # schema, repository, labels: see domain/bug_form.py
    [handoff]                      # post_to, breach_threshold: see domain/handoff_post.py
    [escalation]                   # time-box, stand-up, outage, link-back: escalation_settings
    [templates.ack]                # reply templates (title, body); same id replaces a shipped one
    [backends.zendesk]             # url = "https://acme.zendesk.com"
    [backends.github]              # url = "https://api.github.com", repos = ["acme/product"]
    [backends.slack]               # url = "https://slack.com/api", channels = ["C0123ABCD"]

Kept in one module (over 500 lines): the settings' types and their one checked parser, on the
first-frame import path (issue 22), where a split would only add a module to load; the
``[team]`` and ``[relay]`` tables, read by few, are ``settings.team``.
"""

from __future__ import annotations

import math
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.domain.escalation_settings import (
    DEFAULT_SETTINGS as DEFAULT_ESCALATION,
)
from oncall_tui.domain.escalation_settings import (
    EscalationSettings,
    parse_escalation_settings,
)
from oncall_tui.domain.handoff_post import HandoffSettings, handoff_settings_from_dict
from oncall_tui.domain.sla import SlaSettings, sla_settings_from_dict

if TYPE_CHECKING:  # the team sections' parser loads only for a config that has them
    from oncall_tui.settings.team import RelayConfig, TeamConfig


class ConfigError(Exception):
    """The config file cannot be used; the message is ready to show to the user."""


@dataclass(frozen=True)
class ViewSpec:
    """A saved search shown as a queue view."""

    name: str
    """Shown in the view bar."""
    query: str
    """Same language as the `/` filter, e.g. ``is:open assignee:me``."""


DEFAULT_VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("My queue", "is:open assignee:me"),
    ViewSpec("Unassigned", "is:open assignee:none"),
    ViewSpec("Breaching soon", "is:open sla:warning,critical"),
    ViewSpec("Waiting on customer", "is:open is:paused"),
    ViewSpec("All open", "is:open"),
    ViewSpec("Bugs under investigation", "label:~investigate"),
    ViewSpec("Breached", "is:open sla:breached"),
)

#: How desktop notifications reach the desktop: the terminal's OSC 9 (iTerm2, WezTerm, kitty,
#: foot, Ghostty...) or OSC 777 (rxvt-unicode, VTE terminals such as GNOME Terminal), or not.
DESKTOP_MODES = ("off", "osc9", "osc777")


@dataclass(frozen=True)
class NotificationsConfig:
    """``[notifications]``: desktop notifications beside the in-app toasts."""

    desktop: str = "off"
    """One of :data:`DESKTOP_MODES`."""
    about_to_breach: bool = True
    """A clock within ``[sla] critical_minutes`` of its target."""
    breach: bool = True
    """A clock past its target."""
    watched: bool = True
    """A change on a watched ticket (``w``), from a sync."""


BACKEND_NAMES = ("zendesk", "github", "slack")
#: A config is a few kilobytes; anything past this is not one (``/dev/zero``, a log file...).
MAX_CONFIG_BYTES = 1024 * 1024
#: Seconds between background pulls, when not 0 (manual): Zendesk's export allows 10 requests
#: a minute per account, shared by the whole team; a day is the longest useful wait.
MIN_SYNC_INTERVAL = 5.0
MAX_SYNC_INTERVAL = 86_400.0
#: An hour: longer, a change would seem lost rather than waiting.
MAX_UNDO_SECONDS = 3600
#: Ten years: further back than any help desk keeps, and safe for datetime arithmetic.
MAX_HISTORY_DAYS = 3650
DEFAULT_URLS = {
    "zendesk": None,  # every account has its own subdomain
    "github": "https://api.github.com",
    "slack": "https://slack.com/api",
}


@dataclass(frozen=True)
class BackendConfig:
    """One configured backend. A backend absent from the config is off."""

    name: str
    """``zendesk``, ``github`` or ``slack``."""
    url: str
    """API base URL (another Zendesk subdomain, GitHub Enterprise...)."""
    repos: tuple[str, ...] = ()
    """GitHub: ``owner/name`` repositories to sync; the first one receives new bug reports."""
    channels: tuple[str, ...] = ()
    """Slack: customer channel ids to watch."""
    employees: tuple[str, ...] = ()
    """Slack: user ids of our own people (their messages are answers, not requests)."""
    client_id: str | None = None
    """OAuth client id (Zendesk OAuth client, GitHub OAuth app)."""
    oauth_url: str | None = None
    """Where the OAuth endpoints live if not at ``url`` (GitHub: https://github.com)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Adapter-specific extras (e.g. Zendesk's tag ↔ label map)."""
    limits: Mapping[str, Any] = field(default_factory=dict)
    """Bounds on what this backend can make us read (``domain.limits.Limits`` keys)."""


@dataclass(frozen=True)
class Config:
    """Everything the user can configure, with the defaults our product ships."""

    user: str = "me"
    """Who "assignee:me" and the `a` key mean."""
    sync_interval: float | None = 60.0
    """Seconds between background pulls; None pulls only on demand."""
    bell: bool = False
    """Ring the terminal bell when a ticket goes critical or breaches."""
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    """Desktop notifications for a clock about to breach and a breach."""
    runbooks_dir: Path | None = None
    """Team runbooks folder; None means ``<data dir>/runbooks``."""
    history_days: int = 90
    """How far back the first sync reaches."""
    undo_seconds: float = 10.0
    """How long a change waits in the outbox before it is sent, so `u` can take it back; 0
    sends at once."""
    views: tuple[ViewSpec, ...] = DEFAULT_VIEWS
    """Queue views, bound to keys 1-9 in order."""
    keys: Mapping[str, str] = field(default_factory=dict)
    """Binding id → keys, applied with ``App.set_keymap``."""
    sla: SlaSettings = field(default_factory=SlaSettings.default)
    """Calendar, holidays, targets and thresholds."""
    bug_report: Mapping[str, Any] = field(default_factory=dict)
    """The ``[bug_report]`` table (schema override, labels, repository)."""
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    """``[handoff]``: where the week's summary is posted, the replacement threshold."""
    escalation: EscalationSettings = DEFAULT_ESCALATION
    """The ``[escalation]`` table: time-box, stand-up decision, outage labels, link-back."""
    templates: Mapping[str, Any] = field(default_factory=dict)
    """The ``[templates]`` table (extra reply templates)."""
    backends: Mapping[str, BackendConfig] = field(default_factory=dict)
    """Configured backends by name; none configured means local-only."""
    team: TeamConfig | None = None
    """``[team]``: read the team relay's stream instead of pulling the backends."""
    relay: RelayConfig | None = None
    """``[relay]``: settings of ``oncall-tui relay``."""
    timezone: str | None = None
    """IANA zone every time is shown in; None: the SLA calendar's (``[sla] timezone``)."""
    theme: str | None = None
    """Textual theme name; None: the one last picked in the app, else textual-dark."""

    @property
    def tz(self) -> tzinfo:
        """The zone every time is shown in: ``timezone``, else the SLA calendar's."""
        if self.timezone is not None:
            from oncall_tui.domain.calendars import load_zone

            return load_zone(self.timezone)
        return self.sla.calendar.tz


TOP_LEVEL_KEYS = {
    "user": "a string",
    "timezone": 'an IANA time zone like "Europe/Berlin"',
    "theme": 'a theme name like "textual-dark" or "textual-light"',
    "sync_interval": "a number of seconds (0 = manual only)",
    "bell": "true or false",
    "notifications": "a table (desktop, about_to_breach, breach, watched)",
    "runbooks_dir": "a folder path",
    "history_days": "a whole number of days",
    "undo_seconds": "a number of seconds, 0 to 3600 (0 = send at once)",
    "views": "an array of [[views]] tables",
    "keys": "a table of binding id = keys",
    "sla": "a table",
    "bug_report": "a table",
    "handoff": "a table (post_to, breach_threshold, offline_hours, next_shift_hours)",
    "escalation": "a table (timebox_minutes, outage_labels, link_back...)",
    "templates": "a table",
    "backends": "a table of backend tables",
    "team": "a table (team mode: url, user, groups...)",
    "relay": "a table (the relay's interval, lease, after_hours)",
}


def load_config(path: Path, *, required: bool = False) -> Config:
    """Read and validate the config at ``path``; a missing file gives the defaults.

    Only a regular file of at most :data:`MAX_CONFIG_BYTES` is read: a folder, a device
    (``/dev/zero``), a FIFO (which would block until someone writes to it) or a socket is
    refused without reading.

    Args:
        path: the config file.
        required: the user named this file (``--config``, ``ONCALL_TUI_CONFIG``): a missing
            file is an error rather than the defaults.

    Raises:
        ConfigError: missing (when required) or unreadable file, not a regular file, too
            large, TOML syntax error, unknown key or bad value.
    """
    try:
        text = _read_config_text(path)
    except FileNotFoundError:
        if required:
            raise ConfigError(
                _printable(f"{path}: no such config file (check --config / ONCALL_TUI_CONFIG)")
            ) from None
        return Config()
    except UnicodeDecodeError as exc:
        raise ConfigError(_printable(f"{path}: cannot read config: {exc}")) from None
    except OSError as exc:
        raise ConfigError(
            _printable(f"{path}: cannot read config: {exc.strerror or exc}")
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_printable(f"{path}: invalid TOML: {exc}")) from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
    try:
        return config_from_dict(data)
    except ConfigValueError as exc:
        raise ConfigError(_printable(f"{path}: {exc}")) from None


def _read_config_text(path: Path) -> str:
    """The file's text, if it is a regular file of a sane size (never blocks on a FIFO).

    Raises:
        OSError: cannot open or read it, or it is not a regular file or too large (as an
            OSError whose ``strerror`` says so).
        UnicodeDecodeError: not UTF-8.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise OSError(0, "it is a folder, not a config file")
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file (a device, pipe or socket)")
        if st.st_size > MAX_CONFIG_BYTES:
            raise OSError(
                0, f"{st.st_size:,} bytes; a config is at most {MAX_CONFIG_BYTES // 1024} KiB"
            )
        chunks = []
        left = MAX_CONFIG_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:  # grew while being read
            raise OSError(0, f"larger than {MAX_CONFIG_BYTES // 1024} KiB")
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8")


def _printable(text: str) -> str:
    """One terminal-safe line: newlines and control characters (keys may hold any) escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def config_from_dict(data: Mapping[str, Any]) -> Config:
    """Build a :class:`Config` from parsed TOML.

    Raises:
        ConfigValueError: naming the dotted key and what was expected.
    """
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigValueError(key, f"a known key ({', '.join(sorted(TOP_LEVEL_KEYS))})")
    kwargs: dict[str, Any] = {}
    if "user" in data:
        kwargs["user"] = _string(data["user"], "user")
    if "timezone" in data:
        from oncall_tui.domain.calendars import load_zone

        zone = _string(data["timezone"], "timezone")
        try:
            load_zone(zone)
        except ValueError:
            raise ConfigValueError(
                "timezone", 'a known IANA time zone like "Europe/Berlin"', zone
            ) from None
        kwargs["timezone"] = zone
    if "theme" in data:
        # The names are Textual's: checked by oncall_tui.ui.themes.check_theme (it needs the
        # UI), as the [keys] are.
        kwargs["theme"] = _string(data["theme"], "theme")
    if "sync_interval" in data:
        expected = (
            f"a number of seconds from {MIN_SYNC_INTERVAL:g} to {MAX_SYNC_INTERVAL:g}, "
            "or 0 (only on demand)"
        )
        value = _number(data["sync_interval"], "sync_interval", expected)
        if value != 0 and not MIN_SYNC_INTERVAL <= value <= MAX_SYNC_INTERVAL:
            raise ConfigValueError("sync_interval", expected, data["sync_interval"])
        kwargs["sync_interval"] = None if value == 0 else float(value)
    if "bell" in data:
        kwargs["bell"] = _bool(data["bell"], "bell")
    if "notifications" in data:
        kwargs["notifications"] = _notifications(data["notifications"])
    if "runbooks_dir" in data:
        folder = _string(data["runbooks_dir"], "runbooks_dir")
        try:
            kwargs["runbooks_dir"] = Path(folder).expanduser()
        except RuntimeError:  # "~someone" for a user this machine does not know
            raise ConfigValueError("runbooks_dir", "a folder path", folder) from None
    if "history_days" in data:
        days = data["history_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_HISTORY_DAYS:
            raise ConfigValueError(
                "history_days", f"a whole number of days, 1 to {MAX_HISTORY_DAYS}", days
            )
        kwargs["history_days"] = days
    if "undo_seconds" in data:
        undo = _number(data["undo_seconds"], "undo_seconds", TOP_LEVEL_KEYS["undo_seconds"])
        if undo > MAX_UNDO_SECONDS:
            raise ConfigValueError("undo_seconds", TOP_LEVEL_KEYS["undo_seconds"], undo)
        kwargs["undo_seconds"] = undo
    if "views" in data:
        kwargs["views"] = _views(data["views"])
    if "keys" in data:
        # Binding ids, key names and collisions are checked against the app's bindings by
        # oncall_tui.ui.keymap.check_keymap (it needs the UI); here only the shape.
        keys = _table(data["keys"], "keys")
        kwargs["keys"] = {k: _string(v, f"keys.{k}") for k, v in keys.items()}
    if "sla" in data:
        kwargs["sla"] = sla_settings_from_dict(_table(data["sla"], "sla"))
    for name in ("bug_report", "templates"):
        if name in data:
            kwargs[name] = _table(data[name], name)
    if "templates" in data:
        from oncall_tui.domain.templates import parse_templates

        parse_templates(kwargs["templates"], key="templates")  # a bad one: one line at start
    if "handoff" in data:
        kwargs["handoff"] = handoff_settings_from_dict(_table(data["handoff"], "handoff"))
    if "escalation" in data:
        kwargs["escalation"] = parse_escalation_settings(_table(data["escalation"], "escalation"))
    if "backends" in data:
        kwargs["backends"] = _backends(_table(data["backends"], "backends"))
    if "team" in data:
        from oncall_tui.settings.team import team_from_dict

        kwargs["team"] = team_from_dict(_table(data["team"], "team"))
    if "relay" in data:
        from oncall_tui.settings.team import relay_from_dict

        kwargs["relay"] = relay_from_dict(_table(data["relay"], "relay"))
    return Config(**kwargs)


def _notifications(value: Any) -> NotificationsConfig:
    table = _table(value, "notifications")
    _only(table, "notifications", {"desktop", "about_to_breach", "breach", "watched"})
    kwargs: dict[str, Any] = {}
    if "desktop" in table:
        mode = _string(table["desktop"], "notifications.desktop")
        if mode not in DESKTOP_MODES:
            raise ConfigValueError(
                "notifications.desktop", " or ".join(f'"{m}"' for m in DESKTOP_MODES), mode
            )
        kwargs["desktop"] = mode
    for key in ("about_to_breach", "breach", "watched"):
        if key in table:
            kwargs[key] = _bool(table[key], f"notifications.{key}")
    return NotificationsConfig(**kwargs)


def _views(value: Any) -> tuple[ViewSpec, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigValueError("views", "a non-empty array of [[views]] tables", value)
    if len(value) > 9:
        raise ConfigValueError("views", "at most 9 views (keys 1-9)", f"{len(value)} views")
    views = []
    for i, item in enumerate(value):
        key = f"views[{i}]"
        table = _table(item, key)
        _only(table, key, {"name", "query"})
        query = _string(table.get("query", ""), f"{key}.query", allow_empty=True)
        _check_view_query(query, f"{key}.query")
        views.append(ViewSpec(_string(table.get("name"), f"{key}.name"), query))
    return tuple(views)


def _check_view_query(text: str, key: str) -> None:
    """A saved view must mean what it says: no bad value, no misspelt field (the same
    problems the ``/`` filter shows under the box as you type; here they stop the start)."""
    from oncall_tui.domain.query import parse_query

    parsed = parse_query(text)
    if parsed.problems:
        raise ConfigValueError(key, f"a valid query ({parsed.problems[0]})", text)


def _backends(table: Mapping[str, Any]) -> dict[str, BackendConfig]:
    result = {}
    for name, raw in table.items():
        key = f"backends.{name}"
        if name not in BACKEND_NAMES:
            raise ConfigValueError(key, f"one of {', '.join(BACKEND_NAMES)}")
        spec = _table(raw, key)
        known = {
            "url",
            "repos",
            "channels",
            "employees",
            "client_id",
            "oauth_url",
            "options",
            "limits",
        }
        _only(spec, key, known)
        url = spec.get("url", DEFAULT_URLS[name])
        if url is None:
            raise ConfigValueError(f"{key}.url", "the account's URL, e.g. https://acme.zendesk.com")
        url = _url(url, f"{key}.url")
        repos = _strings(spec.get("repos", []), f"{key}.repos")
        for repo in repos:
            if repo.count("/") != 1 or not all(repo.split("/")):
                raise ConfigValueError(f"{key}.repos", "repositories as 'owner/name'", repo)
        if name == "github" and not repos:
            raise ConfigValueError(f"{key}.repos", "at least one 'owner/name' repository")
        channels = _strings(spec.get("channels", []), f"{key}.channels")
        if name == "slack" and not channels:
            raise ConfigValueError(f"{key}.channels", "at least one channel id, e.g. C0123ABCD")
        result[name] = BackendConfig(
            name=name,
            url=url.rstrip("/"),
            repos=repos,
            channels=channels,
            employees=_strings(spec.get("employees", []), f"{key}.employees"),
            client_id=_optional_string(spec.get("client_id"), f"{key}.client_id"),
            oauth_url=None
            if spec.get("oauth_url") is None
            else _url(spec["oauth_url"], f"{key}.oauth_url").rstrip("/"),
            options=_table(spec.get("options", {}), f"{key}.options"),
            limits=_limits(spec.get("limits"), f"{key}.limits"),
        )
    return result


def _limits(value: Any, key: str) -> Mapping[str, Any]:
    """A ``limits`` table, checked now (one line at start-up) and kept as written."""
    if value is None:
        return {}
    table = _table(value, key)
    from oncall_tui.domain.limits import Limits  # only when a config sets limits

    Limits.from_table(table, key)
    return table


def _url(value: Any, key: str) -> str:
    """An http(s) URL that every HTTP client can use: parsed here, so a typo is one line at
    start-up rather than an exception in the middle of building a client (with the token in
    its frame)."""
    from urllib.parse import urlsplit

    url = _string(value, key)
    expected = "an http(s):// URL like https://acme.zendesk.com"
    if url != url.strip() or any(not ch.isprintable() or ch.isspace() for ch in url):
        raise ConfigValueError(key, expected + " (no spaces or control characters)", url)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError as exc:
        raise ConfigValueError(key, expected, f"{url} ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigValueError(key, expected, url)
    if not parts.hostname:
        raise ConfigValueError(key, expected + " (with a host name)", url)
    if port == 0:
        raise ConfigValueError(key, expected + " (a port from 1 to 65535)", url)
    if parts.username is not None or parts.password is not None:
        raise ConfigValueError(
            key, "a URL without a user name or password (sign in with `oncall-tui auth`)"
        )
    if parts.query or parts.fragment:  # not echoed: a query may carry a token
        raise ConfigValueError(key, expected + " (without ? or #)")
    if not _valid_host(parts.hostname):
        raise ConfigValueError(key, expected + " (a valid host name)", url)
    if ("[" in parts.netloc or "]" in parts.netloc) and not _valid_bracketed(parts.netloc):
        # urlsplit takes "[::1]]" and "[::1]a" for the host ::1; the HTTP client does not
        raise ConfigValueError(key, expected + " (an IPv6 address as [::1] or [::1]:8443)", url)
    return url


def _valid_bracketed(netloc: str) -> bool:
    """``[IPv6]`` or ``[IPv6]:port`` and nothing else."""
    import ipaddress
    import re

    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::[0-9]{1,5})?", netloc)
    if match is None:
        return False
    try:
        ipaddress.IPv6Address(match.group(1))
    except ValueError:
        return False
    return True


def _valid_host(host: str) -> bool:
    """An international host name must be valid IDNA 2008, as httpx (``idna``) requires."""
    if host.isascii():
        return True
    try:
        import idna  # httpx's own dependency: the same rules the client will apply
    except ImportError:  # pragma: no cover - installed with httpx
        try:
            host.encode("idna")
        except UnicodeError:
            return False
        return True
    try:
        idna.encode(host, uts46=True)
    except idna.IDNAError:
        return False
    except UnicodeError:
        return False
    return True


def _only(table: Mapping[str, Any], key: str, known: set[str]) -> None:
    for name in table:
        if name not in known:
            raise ConfigValueError(f"{key}.{name}", f"a known key ({', '.join(sorted(known))})")


def _table(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigValueError(key, "a table", value)
    return value


def _string(value: Any, key: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ConfigValueError(key, "a non-empty string" if not allow_empty else "a string", value)
    return value


def _optional_string(value: Any, key: str) -> str | None:
    return None if value is None else _string(value, key)


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigValueError(key, "an array of strings", value)
    return tuple(value)


def _number(value: Any, key: str, expected: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigValueError(key, expected, value)
    return float(value)


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigValueError(key, "true or false", value)
    return value
