"""Check requests and responses against the vendors' OpenAPI descriptions (and Slack's docs).

Small on purpose (no jsonschema dependency): it resolves ``$ref``, matches a path to its
operation, and validates JSON against a schema's ``type``, ``enum``, ``properties``,
``required``, ``items``, ``allOf``/``oneOf``/``anyOf`` and ``nullable``.

Requests are checked strictly: every query parameter must be declared (or listed as a
documented extra), and every key of a request body object must be a property of its schema,
at every depth. Responses (what our fakes answer) are checked leniently: required keys and
types must hold; extra keys and nulls are allowed (real responses carry both).

The cut specs live in ``tests/fixtures/<backend>/openapi.cut.json``, copies of
``shared/api-specs/*.cut.json`` (a test keeps them identical when ``shared/`` is beside us).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
METHODS = ("get", "put", "post", "patch", "delete")

#: Query parameters the cut spec leaves out of an operation's parameter list but documents in
#: its description: the incremental export's sideloads ("#### Sideloading"), and offset
#: pagination (``page``/``per_page``) of Zendesk list endpoints ("#### Pagination"), and the
#: search export's ``page[after]`` cursor.
DOCUMENTED_EXTRAS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v2/incremental/tickets/cursor.json"): frozenset({"include"}),
    ("GET", "/api/v2/incremental/tickets/cursor"): frozenset({"include"}),
    ("GET", "/api/v2/incremental/ticket_events.json"): frozenset({"include"}),
    ("GET", "/api/v2/incremental/ticket_events"): frozenset({"include"}),
    ("GET", "/api/v2/tickets/{ticket_id}/comments.json"): frozenset({"page", "per_page"}),
    ("GET", "/api/v2/tickets/{ticket_id}/comments"): frozenset({"page", "per_page"}),
    ("GET", "/api/v2/users.json"): frozenset({"page", "per_page"}),
    ("GET", "/api/v2/organizations.json"): frozenset({"page", "per_page"}),
    ("GET", "/api/v2/search.json"): frozenset({"page", "per_page"}),
    # The search export's cursor ("#### Pagination: Cursor pagination"; its links.next carries
    # page[after]) and the memberships' offset pages ("Offset pagination").
    ("GET", "/api/v2/search/export.json"): frozenset({"page[after]"}),
    ("GET", "/api/v2/search/export"): frozenset({"page[after]"}),
    ("GET", "/api/v2/group_memberships.json"): frozenset({"page", "per_page"}),
    ("GET", "/api/v2/group_memberships"): frozenset({"page", "per_page"}),
}


def spec_path(backend: str) -> Path:
    """Where a backend's cut spec is kept in the repository."""
    return FIXTURES / backend / "openapi.cut.json"


def extra_path(backend: str) -> Path:
    """Operations of the vendor's full description that the cut spec leaves out and we use
    (Zendesk's ticket event export), copied by hand with a note on each."""
    return FIXTURES / backend / "openapi.extra.json"


@functools.cache
def load_spec(backend: str) -> Spec:
    """The parsed spec of ``zendesk`` or ``github`` (the cut plus its extra operations)."""
    doc = json.loads(spec_path(backend).read_text())
    if extra_path(backend).exists():
        extra = json.loads(extra_path(backend).read_text())
        doc["paths"] = {**doc["paths"], **extra["paths"]}
        for kind, entries in extra.get("components", {}).items():
            doc.setdefault("components", {}).setdefault(kind, {}).update(entries)
    return Spec(doc)


class Spec:
    """One OpenAPI 3 document."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self._paths: list[tuple[str, re.Pattern[str], int]] = []
        for template in doc["paths"]:
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            literal = len(re.sub(r"\{\w+\}", "", template))
            self._paths.append((template, re.compile(pattern + r"\Z"), literal))
        self._paths.sort(key=lambda entry: -entry[2])

    def resolve(self, node: Any) -> Any:
        """Follow ``$ref`` until a real node."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
            seen += 1
            if seen > 50:
                raise ValueError("a $ref cycle")
        return node

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        """(template, operation, path arguments) of the most specific matching path."""
        for template, pattern, _ in self._paths:
            found = pattern.match(path)
            if found and method.lower() in self.doc["paths"][template]:
                item = self.doc["paths"][template]
                return template, item[method.lower()], found.groupdict()
        raise LookupError(f"{method} {path}: no such operation in the spec")

    def parameters(self, template: str, op: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Path-level and operation-level parameters, resolved."""
        item = self.doc["paths"][template]
        return [self.resolve(p) for p in [*item.get("parameters", []), *op.get("parameters", [])]]

    # -- requests

    def check_request(
        self,
        method: str,
        path: str,
        params: Iterable[tuple[str, str]] = (),
        body: Any = None,
        *,
        allow_null: Iterable[str] = (),
    ) -> list[str]:
        """Problems with a request (empty when it is valid)."""
        try:
            template, op, args = self.operation(method, path)
        except LookupError as exc:
            return [str(exc)]
        where = f"{method} {template}"
        problems: list[str] = []
        declared = {p["name"]: p for p in self.parameters(template, op)}
        extras = DOCUMENTED_EXTRAS.get((method.upper(), template), frozenset())
        for name, value in args.items():
            spec = declared.get(name)
            if spec is not None:
                problems += _scalar(spec.get("schema", {}), value, f"{where} path {name}")
        sent = list(params)
        for name, value in sent:
            spec = declared.get(name)
            if spec is None or spec.get("in") != "query":
                if name not in extras:
                    problems.append(f"{where}: undeclared query parameter {name!r}")
                continue
            problems += _scalar(self.resolve(spec.get("schema", {})), value, f"{where} ?{name}")
        names = {n for n, _ in sent}
        for name, spec in declared.items():
            if spec.get("in") == "query" and spec.get("required") and name not in names:
                problems.append(f"{where}: required query parameter {name!r} missing")
        schema = (
            self.resolve(op.get("requestBody", {}))
            .get("content", {})
            .get("application/json", {})
            .get("schema")
        )
        if body is not None and schema is None:
            problems.append(f"{where}: sends a body the operation does not take")
        elif schema is not None and body is not None:
            problems += self.validate(
                schema, body, f"{where} body", strict=True, allow_null=frozenset(allow_null)
            )
        return problems

    # -- responses

    def check_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Problems with a response our fake sent (empty when it fits the spec)."""
        try:
            template, op, _ = self.operation(method, path)
        except LookupError as exc:
            return [str(exc)]
        responses = op.get("responses", {})
        described = responses.get(str(status)) or responses.get("default")
        if described is None:
            return [f"{method} {template}: status {status} not described"] if status < 300 else []
        content = self.resolve(described).get("content", {})
        schema = (content.get("application/json") or {}).get("schema")
        if schema is None or body is None:
            return []
        return self.validate(schema, body, f"{method} {template} -> {status}", strict=False)

    # -- schemas

    def validate(
        self,
        schema: Any,
        value: Any,
        where: str,
        *,
        strict: bool,
        allow_null: frozenset[str] = frozenset(),
    ) -> list[str]:
        """Problems of ``value`` against ``schema`` (see the module docstring)."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or not schema:
            return []
        if value is None:
            leaf = where.rsplit(".", 1)[-1]
            if not strict or schema.get("nullable") or leaf in allow_null:
                return []
            if any(self.resolve(s).get("nullable") for s in schema.get("oneOf", [])):
                return []
            return [f"{where}: null is not allowed"]
        for key in ("oneOf", "anyOf"):
            if key in schema:
                attempts = [
                    self.validate(s, value, where, strict=strict, allow_null=allow_null)
                    for s in schema[key]
                ]
                if not any(not a for a in attempts):
                    return min(attempts, key=len)
        merged = self._merge(schema)
        problems: list[str] = []
        kind = merged.get("type")
        if kind is not None and not _is_type(value, kind):
            return [f"{where}: expected {kind}, got {type(value).__name__}"]
        if "enum" in merged and value not in merged["enum"]:
            problems.append(f"{where}: {value!r} is not one of {merged['enum']}")
        if isinstance(value, dict):
            props: dict[str, Any] = merged.get("properties", {})
            for name in merged.get("required", []):
                if name not in value:
                    problems.append(f"{where}: required key {name!r} missing")
            additional = merged.get("additionalProperties")
            for name, item in value.items():
                if name in props:
                    problems += self.validate(
                        props[name], item, f"{where}.{name}", strict=strict, allow_null=allow_null
                    )
                elif isinstance(additional, dict):
                    problems += self.validate(
                        additional, item, f"{where}.{name}", strict=strict, allow_null=allow_null
                    )
                elif strict and props and not additional:
                    problems.append(f"{where}: unknown key {name!r}")
        if isinstance(value, list) and "items" in merged:
            for i, item in enumerate(value):
                problems += self.validate(
                    merged["items"], item, f"{where}[{i}]", strict=strict, allow_null=allow_null
                )
        return problems

    def _merge(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """A schema with its ``allOf`` parts folded in (properties and required united)."""
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        merged["properties"] = dict(schema.get("properties", {}))
        merged["required"] = list(schema.get("required", []))
        for part in schema.get("allOf", []):
            sub = self._merge(self.resolve(part))
            merged["properties"].update(sub["properties"])
            merged["required"] += sub["required"]
            for key in ("type", "additionalProperties", "items"):
                if key in sub and key not in merged:
                    merged[key] = sub[key]
        if merged["properties"] and "type" not in merged:
            merged["type"] = "object"
        return merged


def _is_type(value: Any, kind: str | Sequence[str]) -> bool:
    kinds = [kind] if isinstance(kind, str) else list(kind)
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    return any(checks.get(k, lambda v: True)(value) for k in kinds)


def _scalar(schema: Mapping[str, Any], text: str, where: str) -> list[str]:
    """Check a path or query value (always text on the wire) against a scalar schema."""
    kind = schema.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", text):
        return [f"{where}: expected an integer, got {text!r}"]
    if kind == "boolean" and text not in ("true", "false"):
        return [f"{where}: expected true/false, got {text!r}"]
    if "enum" in schema and text not in [str(x) for x in schema["enum"]]:
        return [f"{where}: {text!r} is not one of {schema['enum']}"]
    return []


# --------------------------------------------------------------------------------------------
# Slack: no OpenAPI of the same quality, so the methods' documented arguments


SLACK_METHODS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # method: (required arguments, all documented arguments)
    "conversations.history": (
        frozenset({"channel"}),
        frozenset(
            {"channel", "cursor", "include_all_metadata", "inclusive", "latest", "limit", "oldest"}
        ),
    ),
    "conversations.replies": (
        frozenset({"channel", "ts"}),
        frozenset(
            {
                "channel",
                "ts",
                "cursor",
                "include_all_metadata",
                "inclusive",
                "latest",
                "limit",
                "oldest",
            }
        ),
    ),
    "chat.postMessage": (
        frozenset({"channel"}),
        frozenset(
            {
                "channel",
                "text",
                "thread_ts",
                "metadata",
                "blocks",
                "attachments",
                "reply_broadcast",
                "unfurl_links",
                "unfurl_media",
                "mrkdwn",
                "parse",
                "link_names",
                "icon_emoji",
                "icon_url",
                "username",
            }
        ),
    ),
}


def check_slack_request(
    method_path: str, params: Iterable[tuple[str, str]], body: Any
) -> list[str]:
    """Problems with a Slack Web API call (``/api/<method>``)."""
    method = method_path.rsplit("/", 1)[-1]
    if method not in SLACK_METHODS:
        return [f"{method}: not a method we use"]
    required, allowed = SLACK_METHODS[method]
    args = {name for name, _ in params} | (set(body) if isinstance(body, dict) else set())
    problems = [f"{method}: undocumented argument {a!r}" for a in sorted(args - allowed)]
    problems += [f"{method}: required argument {a!r} missing" for a in sorted(required - args)]
    if method == "chat.postMessage" and isinstance(body, dict) and "metadata" in body:
        meta = body["metadata"]
        if not isinstance(meta, dict) or not {"event_type", "event_payload"} <= set(meta):
            problems.append(f"{method}: metadata needs event_type and event_payload")
    return problems


def problems_in_log(
    backend: str,
    log: Iterable[Any],
    *,
    skip_prefixes: tuple[str, ...] = ("/oauth/", "/login/"),
    allow_null: Iterable[str] = (),
) -> list[str]:
    """Every request in a fake's log (and each answer) checked against the backend's spec."""
    problems: list[str] = []
    for entry in log:
        if entry.path.startswith(skip_prefixes):
            continue
        if backend == "slack":
            problems += check_slack_request(entry.path, entry.params, entry.body)
            continue
        spec = load_spec(backend)
        problems += spec.check_request(
            entry.method, entry.path, entry.params, entry.body, allow_null=allow_null
        )
        if entry.fault is None:
            problems += spec.check_response(entry.method, entry.path, entry.status, entry.response)
    return problems
