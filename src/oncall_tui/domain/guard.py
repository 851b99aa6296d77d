"""The confidentiality guard: keep a customer's identity out of public issues.

A public issue must never carry the customer's real name, domain or people's names; only the
codename (``customer-vesta``). :func:`check` scans the draft's fields and reports every place
where one of the customer's identifying terms appears, for the form to highlight; filing is
blocked until each hit is fixed or covered by an explicit :class:`GuardOverride`.

What counts as a hit (all matches respect letter boundaries, so "acme" is not found inside
"acmeist" but is in "acme01", "acme-corp", "acme_prod" or "Acme's"):

* **Company name.** The full name, with any punctuation, spacing or none between its words
  ("Acme, Inc.", "acme-inc", "AcmeInc"); the name without its legal form ("Global
  Solutions" of "Global Solutions Inc"); and each *distinctive* word alone: legal, generic
  and industry words ("Inc", "Corp", "LLC", "The", "Software", "Health", "Logistics"...) are
  dropped (they still count inside the full name). Distinctive words match in any case
  ("acme", "ACME") and spelled with dots ("A.C.M.E."). A name is matched as a phrase: an
  ordinary word that is only part of it ("Blue" of "Blue Harbor") is not a hit on its own;
  only a name whose one distinctive word is an ordinary word ("Target Corporation") is
  found by that word alone, Capitalised or in UPPER case.
* **Domains.** Each of ``Customer.domains`` as a whole domain or a subdomain's tail
  ("acme.com", "@acme.com", "fleet.acme.com", "acme dot com", "acme[.]com"), and the
  domain's own name ("acme" of acme.com) as a distinctive word.
* **Contacts.** Each of ``Customer.contacts`` ("Jane Doe", "Jane Doe <jane@acme.com>" or an
  email): the full name in either order ("Jane Doe", "doe, jane", "jane.doe"), the email,
  the surname alone, and the first name alone but only as written for a name (Capitalised
  or UPPER case) and never when it is an ordinary word ("Will", "Mark", "Grace"). A first
  name alone identifies nobody on a public tracker, yet CSEs tend to write "Jane says...":
  matching it case-sensitively catches that without flagging words.

Words that are also ordinary English words (a company called "Target", a surname "Page")
would flag every other bug report in lower case, so they match only Capitalised or in
UPPER case (see ``COMMON_WORDS``), alone or inside a name: "Will Page" is a hit, "the page
will load" is not. Terms shorter than three letters match alone only in the exact case
given.
The customer's codename never counts as a hit. Accent-insensitive matching ("Société" vs
"Societe") is not attempted.

Public writes (:func:`needs_guard`: comments and labels on tracker issues, messages into
shared chat channels, bug reports) are checked with :func:`check_public` against *every*
known customer, not only the ticket's own: "Acme Logistics sees it too" on another
customer's issue names Acme. For other customers a contact's first name alone is not
looked for (it would flag every "Thanks Chris" to a developer); their full names, surnames,
e-mails, domains and company names are. :func:`neutralise` keeps ``@mentions`` and ``#123``
references in public text from notifying people or cross-linking issues.

Kept in one module (a little over 500 lines): the terms, the scan and the public-text rules
are one policy read together; split, each part would need the others to be understood.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from oncall_tui.domain.ops import OpKind
from oncall_tui.domain.tickets import Customer, Source

CONTEXT_CHARS = 30
"""Characters shown either side of a hit."""

#: Legal forms and articles: dropped even from the name's core phrase ("Global Solutions").
LEGAL_WORDS = frozenset(
    """
    a an the and of & co company corp corporation inc incorporated llc llp lp ltd limited
    plc gmbh mbh ag sa sas sarl srl spa bv nv oy ab as asa kk kg pty pte pvt se sl
    """.split()
)

#: Legal forms and filler words that identify no one on their own.
GENERIC_WORDS = (
    LEGAL_WORDS
    | frozenset(
        """
    for in on at by to companies group holding holdings international intl global
    worldwide enterprises enterprise
    industries partners associates ventures services service solutions systems system
    technologies technology tech software labs lab consulting digital networks network
    cloud data security media studio studios agency foundation trust bank
    """.split()
    )
    | frozenset(
        # Industry words: "Globex Health" is Globex; "the load balancer health check" names no one.
        """
    health healthcare medical medicine pharma pharmaceuticals biotech bio therapeutics
    diagnostics clinic clinics hospital hospitals care logistics freight shipping transport
    transportation retail foods food beverages brewing coffee grocery restaurants
    aerospace aviation airlines airways robotics automation motors automotive banking
    finance financial payments insurance credit capital investments energy power utilities
    telecom telecommunications communications wireless mobile internet online web hosting
    computing computers electronics semiconductors devices analytics insights research
    sciences science engineering construction manufacturing materials chemicals mining
    steel metals plastics packaging paper textiles apparel fashion beauty cosmetics
    entertainment games gaming music records pictures films publishing press news
    education learning academy institute university college school schools
    hotels hospitality travel tours properties realty homes estates farms agriculture
    confections candy bakery supply supplies distribution trading imports exports wholesale
    marketing advertising design creative interactive innovations dynamics management
    advisors consultants brands products stores shop shops mart market markets
    """.split()
    )
)

#: Ordinary English words that are also company or people's names: alone, these match only
#: Capitalised or in UPPER case, so "the target host" or "next page" are not hits.
COMMON_WORDS = frozenset(
    """
    able about above access account action active admin agent alert all amber anchor any
    apex app apple april arch area arrow art atlas august autumn avenue back badge ball bank banks
    base basic beacon bear bell best big bill bird bishop black blade block bloom blue bold
    bolt boot bot box branch brave bridge bright brook brown build bush cable call can
    cap capital card care carter case cash cast cell center central chain chance change
    charter chase check chief city clay clear click clock close cloud coast code cold
    compass cook copper core corner cost count cover craft crane crest cross crown
    cube cure current cycle daily dash data date dawn day deal deep delta desk dew
    device diamond direct disk dock door dot down drive drop dune eagle early east echo edge
    elder element elite ember end energy engine equal error even event ever evergreen
    excel express eye fair faith falcon fall far farm fast field file find fire first fish
    fisher fix flag flash fleet flight flow focus ford forest fort forward fox frame
    frank free fresh friend front frost fuel full fusion future gain garden gate gem general
    giant gift glass glen globe gold golden good grace grand granite graph gray great green
    grey grid ground grove guard guide guy hall hand harbor harbour hardy harmony hawk head
    heart help hero high hill home honey hope host house hub hunter ice idea image impact
    iron island issue ivy jade jay jet joy june just keen key kind king kite knight lake
    land lane large last launch law lead leaf legacy level liberty light lily line link
    lion little live local lock log long lotus love loyal lucky lux machine main major
    maple mark market marsh mason master matrix may meadow mercury merit mesa metro mid
    mill miller mint mission model modern moon more moss mountain much nail name nation
    national native navy near new next nice night noble node north nova oak ocean office
    omega one open orange orbit order origin page palm park path peak pearl pilot pine
    pioneer pixel place plain planet plus point polar policy port post power prime pro
    pulse pure quest query quick rain range rapid raven ray ready real red reed release
    report rich ridge right ring rise river road robin rock rocket root rose ruby rush
    safe sage salt sand scale scout script sea secure select server shadow shark shell
    shepherd shield
    shift short signal silver simple sky slate small smart snow solar solid sound south
    spark spring square star state status steel step sterling stone storm strong summit
    sun swift table target taylor team tide tiger time titan top tower trade trail true trust
    turner union united unity up urban user valley value vector venture victor view vision
    vista walker wall ward water wave way well wells west white wild will wind window
    windows wing
    winter wise wolf wood woods work world young zenith zone
    bucket buckets queue queues stream cache batch pool worker job task field form page
    panel button menu tab sheet cluster region instance pod node shard replica mirror
    proxy gateway portal router bridge hook token key lock vault badge sentry beacon
    """.split()
)

_TOKEN = re.compile(r"[^\W_]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_RIGHT = r"(?![^\W\d_])"  # not followed by a letter (digits may follow: "acme01")
_LEFT_WORD = r"(?<![^\W\d_])"  # not preceded by a letter
_SEP = r"[\W_]{0,3}"  # between words of a name: any punctuation, spacing or nothing
_DOT = r"(?:\.|\s*[\[(]\s*(?:dot|\.)\s*[\])]\s*|\s+dot\s+)"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class GuardHit:
    """One place where a draft field names the customer.

    Attributes:
        field_id: the form field the text belongs to.
        term: the identifying term that matched, as configured (e.g. ``Acme``, ``acme.com``,
            ``Jane Doe``); overrides refer to hits by this.
        start: offset of the match in the field's text.
        end: offset just past the match.
        context: about 30 characters either side, on one line, for display.
    """

    field_id: str
    term: str
    start: int
    end: int
    context: str
    customer: str = ""
    """The customer the term identifies (its company name), for "names Acme Logistics"."""


@dataclass(frozen=True, slots=True)
class GuardOverride:
    """An engineer's explicit decision to file despite guard hits, kept with the draft.

    Attributes:
        reason: why, in the engineer's words (required, e.g. "customer agreed to be named").
        at: when the override was given (timezone-aware).
        terms: the hit terms it covers; a new term found later is not covered.
    """

    reason: str
    at: datetime
    terms: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("A guard override needs a reason.")
        if self.at.tzinfo is None:
            raise ValueError("GuardOverride.at must be timezone-aware.")

    def covers(self, hit: GuardHit) -> bool:
        """True if this override was given for the hit's term."""
        return hit.term.casefold() in {t.casefold() for t in self.terms}


def override_for(hits: Iterable[GuardHit], reason: str, at: datetime) -> GuardOverride:
    """An override covering exactly the terms of ``hits``."""
    terms = tuple(dict.fromkeys(h.term for h in hits))
    return GuardOverride(reason=reason, at=at, terms=terms)


def unresolved(hits: Iterable[GuardHit], override: GuardOverride | None) -> list[GuardHit]:
    """The hits that still block filing: all of them, less those the override covers."""
    return [h for h in hits if override is None or not override.covers(h)]


@dataclass(frozen=True, slots=True)
class _Term:
    term: str
    pattern: re.Pattern[str]


def _tokens(text: str) -> list[str]:
    words = [w for w in _TOKEN.findall(text) if not w.isdigit() or len(w) > 1]
    if words and all(len(w) == 1 for w in words):
        return ["".join(words)]  # "A.C.M.E." is one word
    return [w for w in words if len(w) > 1 or w.isdigit()]


def _word_pattern(word: str, *, case_sensitive: bool) -> str:
    """Regex source for one word alone, with boundaries and the dotted spelling."""
    forms = [re.escape(word)]
    if word.isalpha() and 3 <= len(word) <= 12:
        forms.append(r"\.\s?".join(re.escape(c) for c in word) + r"\.?")
    if case_sensitive:
        variants = {word[:1].upper() + word[1:], word.upper()}
        if not word.islower():
            variants.add(word)  # as given, e.g. "McDonald"
        forms = [re.escape(v) for v in sorted(variants)]
    return _LEFT_WORD + "(?:" + "|".join(forms) + ")" + _RIGHT


def _phrase_pattern(words: Sequence[str]) -> str:
    """Regex source for a multi-word name; ordinary words in it must be Capitalised/UPPER.

    So "Will Page" is found but "the page will load" is not, while "Acme Corp" matches in
    any case. Compile without IGNORECASE: the case-insensitive parts carry ``(?i:...)``.
    """
    parts = []
    for word in words:
        if _is_common(word):
            variants = sorted({word[:1].upper() + word[1:], word.upper()})
            parts.append("(?:" + "|".join(re.escape(v) for v in variants) + ")")
        else:
            parts.append("(?i:" + re.escape(word) + ")")
    return _LEFT_WORD + _SEP.join(parts) + _RIGHT


def _domain_pattern(domain: str) -> str:
    labels = [re.escape(x) for x in domain.split(".") if x]
    return r"(?<![\w-])" + _DOT.join(labels) + r"(?![\w-])"


def _domain_name(domain: str) -> str | None:
    """The registrable name of a domain: "acme" of "mail.acme.co.uk"."""
    labels = [x for x in domain.lower().split(".") if x]
    if len(labels) < 2:
        return None
    if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3:
        return labels[-3]  # acme.co.uk, acme.com.au
    return labels[-2]


def _is_common(word: str) -> bool:
    return word.casefold() in COMMON_WORDS


def _word_term(word: str, *, capitalised_only: bool = False) -> _Term:
    sensitive = capitalised_only or _is_common(word) or len(word) < 3
    flags = 0 if sensitive else re.IGNORECASE
    if sensitive and len(word) < 3:
        source = _LEFT_WORD + re.escape(word) + _RIGHT  # short: exactly as given
    else:
        source = _word_pattern(word, case_sensitive=sensitive)
    return _Term(word, re.compile(source, flags))


@lru_cache(maxsize=4096)
def _customer_terms(customer: Customer, first_names: bool = True) -> tuple[_Term, ...]:
    """The customer's identifying terms, compiled once per customer (and per variant)."""
    return tuple(_build_terms(customer, first_names))


def _build_terms(customer: Customer, first_names: bool) -> list[_Term]:
    codename = (customer.codename or "").strip().casefold()
    terms: list[_Term] = []
    seen: set[str] = set()

    def add(term: _Term) -> None:
        key = term.pattern.pattern
        if term.term.strip() and term.term.casefold() != codename and key not in seen:
            seen.add(key)
            terms.append(term)

    def add_phrase(words: Sequence[str], shown: str) -> None:
        if len(words) >= 2:
            add(_Term(shown, re.compile(_phrase_pattern(words))))

    def add_word(word: str, *, capitalised_only: bool = False) -> None:
        if word.casefold() not in GENERIC_WORDS:
            add(_word_term(word, capitalised_only=capitalised_only))

    name = customer.name.strip()
    words = _tokens(name)
    distinctive = [w for w in words if w.casefold() not in GENERIC_WORDS]
    add_phrase(words, name)
    core = [w for w in words if w.casefold() not in LEGAL_WORDS]
    for phrase in (core, distinctive):  # "Global Solutions" of "Global Solutions Inc"
        if phrase != words:
            add_phrase(phrase, " ".join(phrase))
    for word in distinctive:
        # An ordinary word that is only part of the name is found inside the phrase only
        # ("Blue" of "Blue Harbor"); alone it names the customer only when it is the name.
        if len(distinctive) == 1 or not _is_common(word):
            add_word(word)

    domains = [d.strip().lower().lstrip("@") for d in customer.domains if d.strip()]
    for contact in customer.contacts:
        for email in _EMAIL.findall(contact):
            add(_Term(email, re.compile(r"(?<![\w.+-])" + re.escape(email), re.IGNORECASE)))
            domains.append(email.rsplit("@", 1)[1].lower())
        person = _tokens(_EMAIL.sub(" ", contact))
        if not person:
            continue
        add_phrase(person, " ".join(person))
        if len(person) >= 2:
            add_phrase([person[-1], person[0]], " ".join(person))  # "Doe, Jane"
            add_word(person[-1])  # surname
            if first_names and not _is_common(person[0]) and len(person[0]) >= 3:
                add_word(person[0], capitalised_only=True)
        elif first_names:
            add_word(person[0], capitalised_only=True)

    for domain in dict.fromkeys(domains):
        if "." in domain:
            add(_Term(domain, re.compile(_domain_pattern(domain), re.IGNORECASE)))
            label = _domain_name(domain)
            if label and len(label) >= 3:
                add_word(label)
    return terms


def _context(text: str, start: int, end: int) -> str:
    left = max(0, start - CONTEXT_CHARS)
    right = min(len(text), end + CONTEXT_CHARS)
    snippet = _CONTROL.sub(" ", text[left:right])
    return ("…" if left > 0 else "") + snippet + ("…" if right < len(text) else "")


def check(text_by_field: Mapping[str, str], customer: Customer) -> list[GuardHit]:
    """Find every mention of the customer's identity in a draft.

    Args:
        text_by_field: the text that will be published, by field id (title included).
        customer: the customer the report is about (name, domains, contacts, codename).

    Returns:
        Hits in field order, then by position; overlapping matches are reported once, as
        the longest one (the whole "Acme Corp" rather than "Acme" inside it).
    """
    return _scan(text_by_field, [(customer.name, _customer_terms(customer))])


def _scan(
    text_by_field: Mapping[str, str], sets: Sequence[tuple[str, Sequence[_Term]]]
) -> list[GuardHit]:
    hits: list[GuardHit] = []
    for field_id, text in text_by_field.items():
        if not text:
            continue
        found = sorted(
            (
                (m.start(), m.end(), t.term, who)
                for who, terms in sets
                for t in terms
                for m in t.pattern.finditer(text)
            ),
            key=lambda x: (x[0], x[0] - x[1]),
        )
        last_end = -1
        for start, end, term, who in found:
            if start >= last_end and end > start:
                hits.append(GuardHit(field_id, term, start, end, _context(text, start, end), who))
                last_end = end
    return hits


def check_public(
    text_by_field: Mapping[str, str],
    customers: Iterable[Customer],
    *,
    own: Customer | None = None,
    audience: Customer | None = None,
) -> list[GuardHit]:
    """Find every mention of any known customer in text that is about to be made public.

    Args:
        text_by_field: the text that will be published, by field id.
        customers: every known customer (the ticket's own included or not).
        own: the customer the ticket is about: checked with every term, first names alone
            included ("Jane says..."), since the writer is talking about them.
        audience: a customer who is the audience itself (the customer's own shared chat
            channel): not a leak to name them there, so not checked.

    Returns:
        Hits in field order, then by position, each naming its customer; overlapping
        matches of several customers are reported once, as the longest.
    """
    sets: list[tuple[str, Sequence[_Term]]] = []
    seen: set[int] = set()
    skip = audience.id if audience is not None else None
    if own is not None and own.id != skip:
        sets.append((own.name, _customer_terms(own)))
        seen.add(own.id)
    for customer in customers:
        if customer.id in seen or customer.id == skip:
            continue
        seen.add(customer.id)
        sets.append((customer.name, _customer_terms(customer, False)))
    return _scan(text_by_field, sets)


def needs_guard(source: Source, kind: OpKind) -> bool:
    """True for a write that the public (or other customers) will read.

    Comments and labels on tracker issues, new tracker issues (bug reports) and messages
    into shared chat channels. A help-desk reply goes to the customer themselves and an
    internal note to colleagues: neither needs the guard.
    """
    if source is Source.TRACKER:
        return kind in (OpKind.REPLY, OpKind.ADD_LABELS, OpKind.CREATE_ISSUE)
    if source is Source.CHAT:
        return kind in (OpKind.REPLY, OpKind.POST_MESSAGE)
    return kind is OpKind.CREATE_ISSUE


#: ``@login``, ``@org/team``, ``#123``, ``owner/repo#123``, and Slack's ``<@U123>``,
#: ``<!here>``, ``<!channel>``, ``<!subteam^S1>``, ``<#C123>``: each notifies people or
#: links (and back-links) another issue when posted.
_REFERENCE = re.compile(
    r"<[@#!][^<>\s]{1,80}>"
    r"|(?<![\w`.+-])@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_.-]+)?(?![\w@])"
    r"|(?<![\w`&])(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?#[0-9]{1,9}(?![\w])"
)
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Reference:
    """An ``@mention`` or ``#123`` reference in public text."""

    text: str
    start: int
    end: int


def references(text: str) -> list[Reference]:
    """The mentions and issue references in ``text`` (outside code spans), in order."""
    code = [(m.start(), m.end()) for m in _CODE.finditer(text)]
    found = []
    for m in _REFERENCE.finditer(text):
        if any(a <= m.start() < b for a, b in code):
            continue
        found.append(Reference(m.group(0), m.start(), m.end()))
    return found


def neutralise(text: str, keep: Iterable[str] = ()) -> str:
    """``text`` with each reference made inert, except those in ``keep`` (kept on purpose).

    ``@alice`` and ``#123`` become code spans (`` `@alice` ``, `` `#123` ``): shown as
    written, notifying and linking nothing; Slack's ``<!here>`` becomes `` `@here` ``.
    """
    kept = set(keep)
    out: list[str] = []
    pos = 0
    for ref in references(text):
        if ref.text in kept:
            continue
        shown = ref.text
        if shown.startswith("<") and shown.endswith(">"):
            shown = "@" + shown[2:-1] if shown[1] == "!" else shown[1:-1]
        out.append(text[pos : ref.start])
        out.append(f"`{shown}`")
        pos = ref.end
    out.append(text[pos:])
    return "".join(out)


def replace_hits(text: str, hits: Iterable[GuardHit], replacement: str) -> str:
    """``text`` with each hit's span replaced, e.g. by the codename.

    ``hits`` must come from :func:`check` on this very text (one field's hits).
    """
    out: list[str] = []
    pos = 0
    for hit in sorted(hits, key=lambda h: h.start):
        if hit.start < pos or hit.end > len(text):
            continue
        out.append(text[pos : hit.start])
        out.append(replacement)
        pos = hit.end
    out.append(text[pos:])
    return "".join(out)


def describe(hit: GuardHit) -> str:
    """One line for a hit list: ``summary: "Acme" in "…runs at Acme's office…"``."""
    return f'{hit.field_id}: "{hit.term}" in "{hit.context}"'
