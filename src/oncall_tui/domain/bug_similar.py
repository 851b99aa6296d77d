"""Search first: the query for issues like the one being reported, and their ranking.

Before a new issue is filed the form searches the tracker (:func:`similar_issue_query`) and
ranks what comes back (:func:`rank_similar`) so a duplicate is noticed. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from oncall_tui.domain.bug_form import TICKET_URL_KEY, FieldType, FormSchema

#: Words that say nothing about which bug it is.
STOPWORDS = frozenset(
    """
    a about after again all also am an and any are as at be because been before being both
    but by can cannot could did do does doing done don dont during each even for from get
    gets getting got had has have having he her here hers him his how i if in into is isn
    it its just me more most my no nor not now of off on once only or other our out over
    own same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who
    whom why will with would you your yours
    hi hello thanks thank please issue issues problem problems bug bugs customer customers
    help seems seem still anymore when since trying tried try work works working
    """.split()
)


_QUOTED = re.compile(
    r"\"([^\"\n]{8,160})\"|“([^”\n]{8,160})”|`([^`\n]{8,160})`|(?<!\w)'([^'\n]{8,160})'(?!\w)"
)


_ERROR_LINE = re.compile(
    r"\b(?:error|exception|fatal|panic|failed)\b\s*:\s*([^\n]{8,160})", re.IGNORECASE
)


_VERSIONISH = re.compile(r"\bv?\d+(?:\.\d+)+(?:-[0-9A-Za-z.]+)?\b", re.IGNORECASE)


_NOISE = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{12,}\b|\b\d{5,}\b",
    re.IGNORECASE,
)


_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|\{\s*\}")


_SPACE_BEFORE_CLOSE = re.compile(r"\s+([)\]}])")


_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def _stem(word: str) -> str:
    w = word.lower().removesuffix("'s")
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            w = w[: -len(suffix)] + keep
            break
    return w[:-1] if len(w) > 4 and w.endswith("e") else w


def _keywords(text: str, stopwords: frozenset[str]) -> list[str]:
    text = _NOISE.sub(" ", _VERSIONISH.sub(" ", text))
    words = [w for w in _WORD.findall(text) if w.lower() not in stopwords and len(w) > 1]
    return list(dict.fromkeys(w.lower() for w in words))


def _title_and_texts(values: Mapping[str, str], schema: FormSchema | None) -> tuple[str, list[str]]:
    if schema is None:
        title = values.get("title") or ""
        texts = [v for k, v in values.items() if k not in ("title", TICKET_URL_KEY)]
    else:
        title = values.get(schema.title_field.id) or ""
        texts = [values.get(f.id) or "" for f in schema.fields if f.type is FieldType.TEXT]
    return title, texts


#: Error messages taken from a draft; the dedupe below is quadratic in their number.
MAX_ERROR_MESSAGES = 20


def _error_messages(texts: Iterable[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        for m in _QUOTED.finditer(text):
            found.append(next(g for g in m.groups() if g))
        for m in _ERROR_LINE.finditer(text):
            found.append(m.group(1))
    cleaned: list[str] = []
    for message in found:
        message = _EMPTY_BRACKETS.sub(" ", _NOISE.sub("", _VERSIONISH.sub("", message)))
        message = " ".join(message.replace('"', "").split()).strip(" .,:;'`")
        message = _SPACE_BEFORE_CLOSE.sub(r"\1", message)
        if len(message) >= 8 and not any(message in seen for seen in cleaned):
            cleaned.append(message)  # "502 Bad Gateway" inside "Request failed: 502..." is dropped
            if len(cleaned) >= MAX_ERROR_MESSAGES:  # a pasted log: enough to search with
                break
    return cleaned


def similar_issue_query(
    values: Mapping[str, str],
    schema: FormSchema | None = None,
    *,
    extra_stopwords: Iterable[str] = (),
) -> list[str]:
    """Search strings to try before filing, most specific first.

    Variants: error messages quoted as phrases (quoted text or ``error: ...`` lines, with
    versions, ids and long numbers stripped), the title's keywords, and the title's four
    longest keywords. Versions never appear: a bug seen on 4.57.1 is likely filed against
    another version.

    Args:
        values: the draft's values.
        schema: the form (to find the title and text fields); without it, ``title`` is the
            title and every other value is searched for messages.
        extra_stopwords: product words every issue shares (e.g. the product's name).
    """
    stop = STOPWORDS | {w.lower() for w in extra_stopwords}
    title, texts = _title_and_texts(values, schema)
    queries = [f'"{m}"' for m in _error_messages([title, *texts])[:3]]
    words = _keywords(title, stop)
    if words:
        queries.append(" ".join(words))
        if len(words) > 4:
            longest = set(sorted(words, key=len, reverse=True)[:4])
            queries.append(" ".join(w for w in words if w in longest))
    return list(dict.fromkeys(q for q in queries if q.strip('"').strip()))


K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class SimilarIssue(Generic[K]):
    """A candidate issue and how much it shares with the draft (0 to 1)."""

    id: K
    title: str
    score: float


def rank_similar(
    candidates: Sequence[tuple[K, str, str]],
    values: Mapping[str, str],
    schema: FormSchema | None = None,
    *,
    extra_stopwords: Iterable[str] = (),
) -> list[SimilarIssue[K]]:
    """Order issues found by the store's full-text search by likeness to the draft.

    The score is token overlap: the share of the draft's title and error-message keywords
    (lightly stemmed) found in the candidate, a keyword in its title counting fully and one
    only in its body half. Candidates sharing nothing are dropped; ties keep input order.

    Args:
        candidates: ``(id, title, body)`` triples.
        values: the draft's values.
        schema: as for :func:`similar_issue_query`.
        extra_stopwords: as for :func:`similar_issue_query`.
    """
    stop = STOPWORDS | {w.lower() for w in extra_stopwords}
    title, texts = _title_and_texts(values, schema)
    query_text = " ".join([title, *_error_messages([title, *texts])])
    query = {_stem(w) for w in _keywords(query_text, stop)}
    if not query:
        return []
    ranked: list[SimilarIssue[K]] = []
    for issue_id, issue_title, issue_body in candidates:
        in_title = {_stem(w) for w in _keywords(issue_title, stop)}
        in_body = {_stem(w) for w in _keywords(issue_body, stop)}
        score = sum(1.0 if w in in_title else 0.5 if w in in_body else 0.0 for w in query)
        if score > 0:
            ranked.append(SimilarIssue(issue_id, issue_title, round(score / len(query), 4)))
    ranked.sort(key=lambda s: -s.score)
    return ranked
