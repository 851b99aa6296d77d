"""Naming a ticket on the command line: :func:`find_ref`, the reverse of
:func:`~oncall_tui.cli.output.ref_of` (``zendesk:41165``, ``acme/product#1204``, ``local:12``).

Shared by ``ticket show``, the actions (:mod:`oncall_tui.cli.actions`) and the bug report
(:mod:`oncall_tui.cli.bug`).
"""

from __future__ import annotations

from typing import Any

from oncall_tui.cli.output import CliProblem, ref_of
from oncall_tui.domain.tickets import Source, Ticket

_PREFIXES = {
    "zendesk": Source.HELPDESK,
    "desk": Source.HELPDESK,
    "helpdesk": Source.HELPDESK,
    "slack": Source.CHAT,
    "chat": Source.CHAT,
    "github": Source.TRACKER,
    "tracker": Source.TRACKER,
}


def find_ref(store: Any, ref: str) -> Ticket:
    """The ticket ``ref`` names (see :func:`ref_of`; ``zendesk #41165``, ``#41165`` and a bare
    number work too when one ticket has that number). Raises :class:`CliProblem`."""
    text = " ".join(ref.split())
    name, sep, rest = text.partition(":")
    if sep and name.lower() == "local":
        if not rest.isdigit():
            raise CliProblem(f"{ref!r}: a local ticket is local:NUMBER")
        try:
            return store.tickets.get_ticket(int(rest))  # type: ignore[no-any-return]
        except LookupError:
            raise CliProblem(f"{ref}: no such ticket") from None
    if not sep and " #" in text:  # "zendesk #41165", as toasts show it
        name, _, rest = text.partition(" #")
        sep = ":"
    if sep and name.lower() in _PREFIXES:
        source = _PREFIXES[name.lower()]
        remote = rest.strip().lstrip("#")
        if source is Source.CHAT and " thread " in remote:  # "slack C0123 thread 1700…"
            channel, _, ts = remote.partition(" thread ")
            remote = f"{channel}:{ts}"
        found = store.tickets.find_ticket(str(source), remote) if remote else None
        if found is None:
            raise CliProblem(f"{ref}: no such ticket in the local cache (try `oncall-tui sync`)")
        return found  # type: ignore[no-any-return]
    if "#" in text and "/" in text.partition("#")[0]:  # acme/product#1204
        found = store.tickets.find_ticket(str(Source.TRACKER), text)
        if found is None:
            raise CliProblem(f"{ref}: no such issue in the local cache")
        return found  # type: ignore[no-any-return]
    number = text.lstrip("#")
    if number.isdigit():
        ids = store.queue.numbered(number)
        if len(ids) == 1:
            return store.tickets.get_ticket(ids[0])  # type: ignore[no-any-return]
        if len(ids) > 1:
            names = ", ".join(ref_of(store.tickets.get_ticket(i)) for i in ids[:5])
            raise CliProblem(f"{ref}: several tickets have that number ({names}); name one")
        raise CliProblem(f"{ref}: no ticket has that number")
    raise CliProblem(
        f"{ref!r}: not a ticket reference (zendesk:41165, acme/product#1204, "
        "slack:C0123:1700000000.000100, local:12)"
    )
