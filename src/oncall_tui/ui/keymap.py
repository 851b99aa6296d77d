"""Checking the config's ``[keys]`` table against the app's own bindings.

Textual's ``App.set_keymap`` takes any binding id and any key: an unknown id does nothing, a
misspelt key name binds a key nobody can press, and a key already used takes the other
action over without a word (``assign-me = "q"`` leaves no way to quit). :func:`check_keymap`
refuses each of these with one line, before the app starts. It reads the bindings from the
classes themselves (every screen and widget module under ``oncall_tui.ui``), so a binding
added anywhere is known here without a list to keep up to date.

Which bindings can meet: a key pressed goes to the focused widget, then its screen, then the
app, and the first binding wins. So the app's bindings meet every screen's; a screen's meet
the bindings of the widgets its module uses (the queue and its table). A remapped key that
lands on a key another binding in the same chain still holds is a collision: remap that one
too, or pick another key. Collisions the shipped bindings have among themselves (the sync log
has its own ``ctrl+r``) are by design and not reported.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys, _character_to_key, key_to_character
from textual.screen import Screen

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
#: Named keys Textual knows (``enter``, ``f5``, ``pageup``...), without their modifiers.
NAMED_KEYS = frozenset(
    key.value.rpartition("+")[2] for key in Keys if not key.value.startswith("<")
) - {"", "@"} | {"space", "tab", "enter", "escape", "backspace", "delete"}
EXAMPLES = '"a", "A", "ctrl+r", "f5", "pageup", "?" or "question_mark"'


class KeymapError(ValueError):
    """A ``[keys]`` entry that cannot be applied; the message names the key (one line)."""


@dataclass(frozen=True)
class Bound:
    """One binding as the keymap sees it."""

    ident: str
    """The binding id, or ``action:<name>`` for a binding without one (not remappable)."""
    keys: tuple[str, ...]
    """Its default keys, normalised (``question_mark``, not ``?``)."""
    description: str
    remappable: bool


@dataclass(frozen=True)
class Scope:
    """Bindings that are active together (one screen with the app and its widgets)."""

    name: str
    bindings: tuple[Bound, ...]


def normalise(key: str) -> str:
    """Textual's spelling of one key: a single character becomes its name (``?`` →
    ``question_mark``), as ``App.set_keymap`` does."""
    key = key.strip()
    return _character_to_key(key) if len(key) == 1 else key


def valid_key(key: str) -> bool:
    """True for a key Textual can deliver: optional modifiers, then one printable character
    or a key name (``ctrl+shift+f5``, ``A``, ``question_mark``)."""
    if not key or key != key.strip() or "+" in key and key.endswith("+"):
        return False
    *mods, base = key.split("+")
    if any(m not in MODIFIERS for m in mods) or len(set(mods)) != len(mods):
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    return base in NAMED_KEYS or key_to_character(base) is not None


def _bindings_of(node: type[DOMNode]) -> tuple[Bound, ...]:
    found = []
    merged = node._merged_bindings
    for key, items in merged.key_to_bindings.items() if merged is not None else ():
        for binding in items:
            if not isinstance(binding, Binding):
                continue
            ident = binding.id or f"action:{binding.action}"
            found.append(
                Bound(ident, (normalise(key),), binding.description, binding.id is not None)
            )
    return tuple(found)


def _our_classes() -> list[type[DOMNode]]:
    import oncall_tui.ui.screens as screens
    import oncall_tui.ui.widgets as widgets

    for package in (screens, widgets):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)
    seen: list[type[DOMNode]] = []
    stack: list[type[DOMNode]] = [DOMNode]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("oncall_tui.ui.") and sub not in seen:
                seen.append(sub)
    return seen


@cache
def scopes() -> tuple[Scope, ...]:
    """Every chain of bindings the app can have active at once."""
    from oncall_tui.ui.app import OncallApp

    classes = _our_classes()
    app = _bindings_of(OncallApp)
    widgets = [c for c in classes if not issubclass(c, Screen | App) and _bindings_of(c)]
    result = []
    for screen in classes:
        if not issubclass(screen, Screen):
            continue
        module = vars(sys.modules[screen.__module__]).values()
        used = [w for w in widgets if w in module]
        bound = app + _bindings_of(screen) + tuple(b for w in used for b in _bindings_of(w))
        result.append(Scope(screen.__name__.removesuffix("Screen") or screen.__name__, bound))
    return tuple(result)


def known_ids() -> set[str]:
    """Every binding id the keymap can remap."""
    return {b.ident for scope in scopes() for b in scope.bindings if b.remappable}


def _merged(scope: Scope) -> dict[str, list[Bound]]:
    """The scope's bindings by id, each with all its default keys."""
    by_id: dict[str, list[Bound]] = {}
    for bound in scope.bindings:
        by_id.setdefault(bound.ident, []).append(bound)
    return by_id


def check_keymap(keys: Mapping[str, str]) -> dict[str, str]:
    """Validate ``[keys]`` (binding id → comma-separated keys); returns it normalised.

    Raises:
        KeymapError: an unknown binding id, a key name Textual does not know, or a key that
            would take over another binding active at the same time.
    """
    ids = known_ids()
    wanted: dict[str, tuple[str, ...]] = {}
    for ident, text in keys.items():
        if ident not in ids:
            close = difflib.get_close_matches(ident, sorted(ids), n=1)
            hint = f"; did you mean {close[0]}?" if close else f" (ids: {', '.join(sorted(ids))})"
            raise KeymapError(f"keys.{ident}: no binding has this id{hint}")
        parts = [p.strip() for p in text.split(",")]
        for part in parts:
            if not valid_key(part):
                raise KeymapError(f"keys.{ident}: {part!r} is not a key name (e.g. {EXAMPLES})")
        wanted[ident] = tuple(dict.fromkeys(normalise(p) for p in parts))
    for scope in scopes():
        _check_scope(scope, wanted)
    return {ident: ",".join(keys_) for ident, keys_ in wanted.items()}


def _check_scope(scope: Scope, wanted: Mapping[str, tuple[str, ...]]) -> None:
    owners: dict[str, list[tuple[str, bool, str]]] = {}  # key → (id, newly claimed, what)
    for ident, bounds in _merged(scope).items():
        defaults = [k for b in bounds for k in b.keys]
        effective: Iterable[str] = wanted.get(ident, defaults)
        for key in dict.fromkeys(effective):
            claimed = ident in wanted and key not in defaults
            owners.setdefault(key, []).append((ident, claimed, bounds[0].description))
    for key, holders in owners.items():
        if len(holders) < 2 or not any(claimed for _, claimed, _ in holders):
            continue
        mine = next(h for h in holders if h[1])
        other = next(h for h in holders if h is not mine)
        what = f"{other[2]!r} ({other[0]})" if other[2] else other[0]
        fix = (
            f"remap {other[0]} too, or pick another key"
            if not other[0].startswith("action:")
            else "pick another key (that one cannot be remapped)"
        )
        raise KeymapError(
            f"keys.{mine[0]}: {key} is already {what} on the {scope.name} screen; {fix}"
        )
