"""Finding a runbook: the ones to suggest for a ticket (scored on its labels, priority, source,
subject and body) and the fuzzy filter of the runbook picker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from oncall_tui.domain.runbooks import Runbook
from oncall_tui.domain.tickets import Ticket

# Suggestion weights: a matching label is the strongest hint, priority and source the weakest.
LABEL_WEIGHT = 3
KEYWORD_IN_SUBJECT_WEIGHT = 2
KEYWORD_IN_BODY_WEIGHT = 1
TAG_WEIGHT = 1
PRIORITY_WEIGHT = 1
SOURCE_WEIGHT = 1


class Suggestion(NamedTuple):
    """A runbook suggested for a ticket, with why: unpacks as ``(runbook, score, reasons)``."""

    runbook: Runbook
    score: int
    reasons: tuple[str, ...]


@lru_cache(maxsize=1024)
def _word_re(phrase: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


def _normalise(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'")


def suggest(runbooks: Iterable[Runbook], ticket: Ticket) -> list[Suggestion]:
    """Runbooks that fit a ticket, best first; runbooks with no match are left out.

    Scores add up: each matching label (case-insensitive) counts 3, each keyword found as
    a whole word in the subject 2 (only in the body 1), each tag found among the labels or
    as a whole word 1, a matching priority 1 and a matching source 1. Ties go by title.

    Returns:
        ``Suggestion(runbook, score, reasons)`` tuples; reasons are short phrases such as
        ``'label "bug"'`` or ``'keyword "crash" in subject'``.
    """
    labels = {label.casefold() for label in ticket.labels}
    subject, body = _normalise(ticket.subject), _normalise(ticket.body)
    found: list[Suggestion] = []
    for runbook in runbooks:
        applies = runbook.applies_to
        score = 0
        reasons: list[str] = []
        for label in applies.labels:
            if label.casefold() in labels:
                score += LABEL_WEIGHT
                reasons.append(f'label "{label}"')
        if ticket.priority in applies.priorities:
            score += PRIORITY_WEIGHT
            reasons.append(f"priority {ticket.priority}")
        if ticket.source in applies.sources:
            score += SOURCE_WEIGHT
            reasons.append(f"source {ticket.source}")
        for keyword in applies.keywords:
            pattern = _word_re(_normalise(keyword))
            if pattern.search(subject):
                score += KEYWORD_IN_SUBJECT_WEIGHT
                reasons.append(f'keyword "{keyword}" in subject')
            elif pattern.search(body):
                score += KEYWORD_IN_BODY_WEIGHT
                reasons.append(f'keyword "{keyword}" in body')
        already = {x.casefold() for x in (*applies.labels, *applies.keywords)}
        for tag in runbook.tags:
            if tag.casefold() in already:
                continue
            pattern = _word_re(_normalise(tag))
            if tag.casefold() in labels or pattern.search(subject) or pattern.search(body):
                score += TAG_WEIGHT
                reasons.append(f'tag "{tag}"')
        if score:
            found.append(Suggestion(runbook, score, tuple(reasons)))
    found.sort(key=lambda s: (-s.score, *_title_key(s.runbook)))
    return found


_WORD_BREAKS = frozenset(" -_/.:~+")
_FIELD_BONUS = {"title": 2, "slug": 1, "tag": 0}


def _title_key(runbook: Runbook) -> tuple[str, str]:
    return runbook.title.casefold(), runbook.slug


def fuzzy_filter(runbooks: Iterable[Runbook], query: str) -> list[Runbook]:
    """Runbooks whose title, slug or a tag contains the query as a subsequence, best first.

    The query is split on whitespace; every word must match (in any field). Matches at word
    starts and runs of consecutive letters score higher, as in most fuzzy finders; ties keep
    title order. An empty query returns every runbook in title order.
    """
    ordered = sorted(runbooks, key=_title_key)
    words = query.casefold().split()
    if not words:
        return ordered
    ranked: list[tuple[int, int, Runbook]] = []
    for position, runbook in enumerate(ordered):
        fields = [
            ("title", runbook.title.casefold()),
            ("slug", runbook.slug.casefold()),
            *(("tag", tag.casefold()) for tag in runbook.tags),
        ]
        total = 0
        for word in words:
            scores = [
                score + _FIELD_BONUS[name]
                for name, text in fields
                if (score := _subsequence_score(word, text)) is not None
            ]
            if not scores:
                break
            total += max(scores)
        else:
            ranked.append((-total, position, runbook))
    ranked.sort(key=lambda entry: entry[:2])
    return [runbook for _, _, runbook in ranked]


def _subsequence_score(query: str, text: str) -> int | None:
    """Best score of ``query`` as a subsequence of ``text``, or None when it is not one.

    Each matched character scores 1, plus 3 at the start of a word (2 more at the start of
    the text), plus 2 when it directly follows the previous match, minus 1 after a gap.
    Dynamic programming over (query char, text position).
    """
    if len(query) > len(text):
        return None
    bonus = [1 + (3 if i == 0 or text[i - 1] in _WORD_BREAKS else 0) for i in range(len(text))]
    bonus[0] += 2
    previous: list[int | None] = [
        bonus[i] if char == query[0] else None for i, char in enumerate(text)
    ]
    for query_char in query[1:]:
        current: list[int | None] = [None] * len(text)
        best_before: int | None = None  # best of previous[0 .. i-1]
        for i, char in enumerate(text):
            if char == query_char and i > 0:
                options = [] if best_before is None else [best_before + bonus[i] - 1]
                adjacent = previous[i - 1]
                if adjacent is not None:
                    options.append(adjacent + bonus[i] + 2)
                current[i] = max(options) if options else None
            prev_i = previous[i]
            if prev_i is not None and (best_before is None or prev_i > best_before):
                best_before = prev_i
        previous = current
    scores = [score for score in previous if score is not None]
    return max(scores) if scores else None
