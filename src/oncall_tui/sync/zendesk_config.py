"""Zendesk's options (``[backends.zendesk.options]``) and how labels map onto its tags.

Zendesk tags are lower-case words without spaces, so labels map onto tags through
:class:`TagMap`: an explicit ``tag -> label`` table first (``options.tag_labels``), then the
waiting rule: a tag ``waiting_more_info_please`` is the label ``+more info please`` and back
("+" labels mean the ball is in the customer's court); any other label is its tag
(lower-cased, spaces as ``_``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from oncall_tui.domain.errors import ConfigValueError
from oncall_tui.sync.agent_options import AGENT_OPTIONS, agent_options
from oncall_tui.sync.options import only_known, positive_number, text_table


@dataclass(frozen=True)
class TagMap:
    """How labels (ours) and tags (Zendesk's) translate, in both directions.

    Attributes:
        explicit: ``tag -> label`` pairs that win over every rule, e.g.
            ``{"pending_customer": "+more info please"}``.
        waiting_prefix: tags starting with it are "+" labels: ``waiting_more_info`` is
            ``+more info``. Empty disables the rule.
    """

    explicit: Mapping[str, str] = field(default_factory=dict)
    waiting_prefix: str = "waiting_"

    def to_label(self, tag: str) -> str:
        """The label a tag shows as."""
        if tag in self.explicit:
            return self.explicit[tag]
        prefix = self.waiting_prefix
        if prefix and tag.startswith(prefix) and len(tag) > len(prefix):
            return "+" + tag[len(prefix) :].replace("_", " ")
        return tag

    def to_tag(self, label: str) -> str:
        """The tag a label is stored as (Zendesk lower-cases tags and splits them at spaces)."""
        for tag, mapped in self.explicit.items():
            if mapped == label:
                return tag
        word = "_".join(label.strip().split()).lower()
        if word.startswith("+") and self.waiting_prefix:
            return self.waiting_prefix + word[1:].lstrip("_")
        return word


@dataclass(frozen=True)
class ZendeskConfig:
    """Zendesk options (``[backends.zendesk.options]``) with their defaults."""

    tags: TagMap = field(default_factory=TagMap)
    """Label ↔ tag translation."""
    plan_field: str = "plan"
    """Organization field holding the support plan."""
    plan_tag_prefix: str = "plan_"
    """Organization tag prefix naming the plan when the field is empty (``plan_premium``)."""
    codename_field: str = "codename"
    """Organization field holding the customer's public codename."""
    codename_tag_prefix: str = "codename_"
    """Organization tag prefix naming the codename (``codename_vesta``)."""
    default_plan: str = "free"
    """Plan of organizations that name none."""
    alert_tags: tuple[str, ...] = ("alert",)
    """Tickets carrying one of these tags are on-call alerts (Channel.ALERT)."""
    history_days: int = 90
    """How far back the first sync reaches."""
    export_requests_per_minute: float = 10.0
    """Each incremental export's budget (30 with Zendesk's High Volume add-on)."""
    access: str = "auto"
    """How to pull: ``auto`` (by the token's role), ``admin`` (the incremental exports) or
    ``agent`` (the search export, see :mod:`oncall_tui.sync.zendesk_agent`)."""
    agent_statuses: tuple[str, ...] = ("new", "open", "pending", "hold")
    """Agent path: the statuses of the tickets kept fresh."""
    agent_groups: tuple[str, ...] = ()
    """Agent path: the groups whose tickets are kept fresh (empty: the user's own groups)."""
    agent_solved_days: int = 7
    """Agent path: solved tickets of the last this many days are kept fresh too (0: none)."""
    search_overlap_seconds: int = 300
    """Agent path: how far each pass reaches back before the previous one (search lags)."""
    scope_sweep_minutes: int = 60
    """Agent path: how often the whole scope is listed, to mark tickets that left it."""
    budget_share: float = 0.2
    """The fraction of the account's per-minute request limit oncall-tui may use."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any], history_days: int = 90) -> ZendeskConfig:
        """Build from the config file's ``options`` table; bad values raise ConfigValueError."""
        key = "backends.zendesk.options"
        known = {
            "tag_labels",
            "waiting_tag_prefix",
            "plan_field",
            "plan_tag_prefix",
            "codename_field",
            "codename_tag_prefix",
            "default_plan",
            "alert_tags",
            "export_requests_per_minute",
            *AGENT_OPTIONS,
        }
        only_known(options, key, known)
        tag_labels = text_table(
            options,
            key,
            "tag_labels",
            "a table of tag = label (tags: no spaces)",
            keys=lambda tag: " " not in tag,
        )
        strings = {}
        for name in ("waiting_tag_prefix", "plan_field", "plan_tag_prefix", "codename_field"):
            value = options.get(name)
            if value is not None and not isinstance(value, str):
                raise ConfigValueError(f"{key}.{name}", "a string", value)
            strings[name] = value
        alert_tags = options.get("alert_tags", cls.alert_tags)
        if not isinstance(alert_tags, list | tuple) or not all(
            isinstance(t, str) for t in alert_tags
        ):
            raise ConfigValueError(f"{key}.alert_tags", "a list of tags", alert_tags)
        rate = positive_number(
            options, key, "export_requests_per_minute", cls.export_requests_per_minute
        )
        return cls(
            tags=TagMap(
                explicit=tag_labels,
                waiting_prefix=strings["waiting_tag_prefix"] or TagMap.waiting_prefix,
            ),
            plan_field=strings["plan_field"] or cls.plan_field,
            plan_tag_prefix=strings["plan_tag_prefix"] or cls.plan_tag_prefix,
            codename_field=strings["codename_field"] or cls.codename_field,
            codename_tag_prefix=str(options.get("codename_tag_prefix", cls.codename_tag_prefix)),
            default_plan=str(options.get("default_plan", cls.default_plan)),
            alert_tags=tuple(alert_tags),
            history_days=history_days,
            export_requests_per_minute=rate,
            **agent_options(options, key),
        )


__all__ = ["TagMap", "ZendeskConfig"]
