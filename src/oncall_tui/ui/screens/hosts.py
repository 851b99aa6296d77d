"""What a screen's parts need of the screen they work for, as Protocols.

A part (``queue_notices``, ``queue_empty``, ``queue_layout``, ...) takes its host as an
argument; typing it by these Protocols rather than by the host's class keeps the part from
importing the screen that imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel

    from oncall_tui.settings.config import Config
    from oncall_tui.store import Store


class ScreenHost(Protocol):
    """A screen as its parts see it: the app it is on, its toasts."""

    @property
    def app(self) -> App[object]: ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...


class StoreHost(ScreenHost, Protocol):
    """A screen over the store and the settings (the queue, the detail)."""

    config: Config
    store: Store


class ActionsHost(Protocol):
    """What the reply, note and label actions need of the screen they act for (a
    ``TicketActions`` screen: the queue, the detail)."""

    store: Store
    config: Config
    clock: Any
    templates: list[Any]

    @property
    def app(self) -> Any: ...

    @property
    def notify(self) -> Any: ...

    def current_id(self) -> int | None: ...

    def _ticket_name(self, tid: int, *, subject: bool = True) -> str: ...

    def _guard(self, fn: Callable[..., Any], *args: Any, message: str) -> Any: ...

    def _relabel(self, tid: int, change: Any) -> None: ...
