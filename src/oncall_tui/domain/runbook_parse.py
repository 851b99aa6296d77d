"""Reading a runbook file: the YAML front matter (checked key by key, every plain scalar read as
text) and the Markdown body's checklist.

The file format is described in :mod:`oncall_tui.domain.runbooks`; reading files is
``oncall_tui.data.runbook_library``'s job. PyYAML loads with this module, not with the model.
"""

from __future__ import annotations

from typing import Any

import yaml

from oncall_tui.domain.runbooks import AppliesTo, Runbook, RunbookError, RunbookOrigin, scan_body
from oncall_tui.domain.tickets import Priority, Source

#: Front matter is a handful of short fields; the limits keep a hostile file cheap to reject.
MAX_FRONT_MATTER_CHARS = 64 * 1024
MAX_TITLE_CHARS = 200
MAX_SUMMARY_CHARS = 1000
MAX_ITEM_CHARS = 200
_TOP_KEYS = frozenset({"title", "summary", "tags", "applies_to"})
_APPLIES_KEYS = frozenset({"priorities", "labels", "keywords", "sources"})


class _FrontMatterLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that reads every plain scalar as text (only ``~``/empty is null).

    Front matter holds nothing but text, so YAML 1.1's implicit types only hurt:
    ``keywords: [500]`` would be an int, ``tags: [no]`` False, ``title: 2024-01-01`` a date.
    """


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: kept
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    if (
        kept := [
            (tag, regexp)
            for tag, regexp in resolvers
            if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")
        ]
    )
}


def parse_runbook(
    slug: str,
    text: str,
    *,
    origin: RunbookOrigin = RunbookOrigin.TEAM,
    location: str = "",
) -> Runbook:
    """Parse a runbook file's text.

    Args:
        slug: the runbook's identifier (the loader uses the file stem in lower case).
        text: the whole file: ``---``, YAML front matter, ``---``, Markdown body.
        origin: bundled or team.
        location: path or resource name, used in error messages (defaults to the slug).

    Returns:
        The runbook, with its checklist extracted.

    Raises:
        RunbookError: for missing or invalid front matter (and only for that): missing
            ``title``, wrong types, unknown keys, priorities or sources.
    """
    where = location or slug
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise RunbookError(where, "missing front matter: the file must start with a '---' line")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise RunbookError(where, "front matter is not closed: add a '---' line after it")
    raw = "\n".join(lines[1:end])
    if len(raw) > MAX_FRONT_MATTER_CHARS:
        raise RunbookError(
            where, f"front matter is too long (over {MAX_FRONT_MATTER_CHARS} characters)"
        )
    data = _load_yaml(raw, where)
    body = "\n".join(lines[end + 1 :]).strip("\n")
    body = body + "\n" if body else ""

    if data is None:
        raise RunbookError(where, "front matter is empty: it needs at least a title")
    if not isinstance(data, dict):
        raise RunbookError(where, f"front matter must be 'key: value' lines, not {_kind(data)}")
    _check_keys(data, _TOP_KEYS, "front matter", where)

    title = data.get("title")
    if title is None:
        raise RunbookError(where, "missing 'title' in the front matter")
    if not isinstance(title, str):
        raise RunbookError(where, f"'title' must be text, not {_kind(title)}")
    title = " ".join(title.split())
    if not title:
        raise RunbookError(where, "'title' is empty")
    if len(title) > MAX_TITLE_CHARS:
        raise RunbookError(where, f"'title' is too long (over {MAX_TITLE_CHARS} characters)")

    summary = data.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise RunbookError(where, f"'summary' must be text, not {_kind(summary)}")
    if summary is not None and len(summary) > MAX_SUMMARY_CHARS:
        raise RunbookError(where, f"'summary' is too long (over {MAX_SUMMARY_CHARS} characters)")

    return Runbook(
        slug=slug,
        title=title,
        body=body,
        tags=_text_list(data.get("tags"), "tags", where),
        applies_to=_applies_to(data.get("applies_to"), where),
        summary=" ".join((summary or "").split()),
        checklist=tuple(scan_body(body).checklist),
        origin=origin,
        location=location,
    )


def _load_yaml(raw: str, where: str) -> Any:
    try:
        # A SafeLoader subclass: no arbitrary objects can be constructed.
        return yaml.load(raw, Loader=_FrontMatterLoader)  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        at = f" at line {exc.problem_mark.line + 2}" if exc.problem_mark else ""
        what = exc.problem or exc.context or "syntax error"
        raise RunbookError(where, f"invalid YAML in the front matter{at}: {what}") from None
    except yaml.YAMLError as exc:
        raise RunbookError(where, f"invalid YAML in the front matter: {exc}") from None
    except RecursionError:
        raise RunbookError(where, "invalid YAML in the front matter: nested too deeply") from None
    except Exception:  # noqa: BLE001
        # An explicit tag with a value it cannot hold ("!!int abc", "!!bool maybe",
        # "!!timestamp"): PyYAML's constructors raise ValueError, KeyError, IndexError...
        raise RunbookError(
            where, "invalid YAML in the front matter: a '!!' tag does not fit its value"
        ) from None


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {_show(value)}"


def _show(value: object, limit: int = 40) -> str:
    shown = " ".join(repr(value).split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _check_keys(data: dict[Any, Any], allowed: frozenset[str], what: str, where: str) -> None:
    for key in data:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            raise RunbookError(
                where, f"unknown key {_show(key)} in the {what} (expected one of: {expected})"
            )


def _text_list(value: object, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RunbookError(where, f"'{key}' must be a list like [a, b], not {_kind(value)}")
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise RunbookError(
                where, f"'{key}' item {i + 1} must be non-empty text, not {_kind(item)}"
            )
        if len(item) > MAX_ITEM_CHARS:
            raise RunbookError(
                where, f"'{key}' item {i + 1} is too long (over {MAX_ITEM_CHARS} characters)"
            )
        out.append(" ".join(item.split()))
    return tuple(dict.fromkeys(out))


def _applies_to(value: object, where: str) -> AppliesTo:
    if value is None:
        return AppliesTo()
    if not isinstance(value, dict):
        raise RunbookError(where, f"'applies_to' must be a mapping of keys, not {_kind(value)}")
    _check_keys(value, _APPLIES_KEYS, "'applies_to' section", where)
    priorities: list[Priority] = []
    for name in _text_list(value.get("priorities"), "applies_to.priorities", where):
        try:
            priorities.append(Priority(name.upper()))
        except ValueError:
            raise RunbookError(
                where, f"unknown priority {_show(name)} in applies_to.priorities (use P0 to P3)"
            ) from None
    sources: list[Source] = []
    for name in _text_list(value.get("sources"), "applies_to.sources", where):
        try:
            sources.append(Source(name.lower()))
        except ValueError:
            known = ", ".join(s.value for s in Source)
            raise RunbookError(
                where, f"unknown source {_show(name)} in applies_to.sources (use {known})"
            ) from None
    return AppliesTo(
        priorities=tuple(dict.fromkeys(priorities)),
        labels=_text_list(value.get("labels"), "applies_to.labels", where),
        keywords=_text_list(value.get("keywords"), "applies_to.keywords", where),
        sources=tuple(dict.fromkeys(sources)),
    )
