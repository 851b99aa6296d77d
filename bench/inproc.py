"""In-process measurement of a running Textual app: keypress-to-repaint and tick cost.

Why not ``await pilot.press(k); await pilot.pause()``: both wait with
``textual._wait.wait_for_idle``, which sleeps in 20 ms steps until the process looks idle, so
every figure would be 40-60 ms of polling plus noise, the same for a bare app and ours. Instead
the key event is sent the way Pilot sends it (``driver.send_message(events.Key(...))``), the
app's ``_display`` (called once per composed frame, also when headless) is wrapped to note when
each frame is done, and we wait, without sleeping in the measured path, until no message is
pending and no widget or screen needs a repaint. The latency is the time from sending the key
to the end of the last frame that followed it: what a user waits for, including Textual's own
frame pacing (a dirty screen repaints on its next 1/60 s update).
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from typing import Any

from textual import events
from textual.app import App
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key


class DisplaySpy:
    """Counts composed frames and remembers when (wall and thread CPU) the last one ended."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.count = 0
        self.last_wall = 0.0
        self.last_cpu = 0.0
        self._frame = asyncio.Event()
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                self.count += 1
                self.last_wall = time.perf_counter()
                self.last_cpu = time.thread_time()
                self._frame.set()

        app._display = display  # type: ignore[method-assign]

    async def next_frame(self, after: int, timeout: float = 5.0) -> bool:
        """Wait (without polling) until frame number ``after + 1`` is composed."""
        deadline = time.perf_counter() + timeout
        while self.count <= after:
            self._frame.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._frame.wait(), remaining)
            except TimeoutError:
                return False
        return True


def key_event(app: App[Any], key: str) -> events.Key:
    """The event Pilot would send for ``key``."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original = REPLACED_KEYS.get(key, key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    return event


def _pending(app: App[Any]) -> bool:
    screen = app.screen
    if (
        screen._dirty_widgets
        or screen._layout_required
        or screen._repaint_required
        or screen._scroll_required
        or screen._recompose_required
    ):
        return True
    for widget in screen.walk_children(with_self=False):
        if widget._repaint_required or widget._layout_required or widget._scroll_required:
            return True
    return bool(app._message_queue.qsize() or screen._message_queue.qsize())


def _queued(app: App[Any]) -> bool:
    """A message is waiting for the app, the screen or one of its widgets."""
    screen = app.screen
    if app._message_queue.qsize() or screen._message_queue.qsize():
        return True
    return any(w._message_queue.qsize() for w in screen.walk_children(with_self=False))


async def settle(app: App[Any], spy: DisplaySpy, frames: int, timeout: float = 0.1) -> float:
    """Thread CPU time once what was just done is handled: the messages it posted, and the
    frame that shows it if it asked for a repaint (then the end of that frame).

    Unlike :func:`quiesce` it posts nothing: Pilot's ``_wait_for_screen`` (which quiesce
    calls) sends a callback to every widget and waits for each, ~0.2 ms a widget on a busy
    machine, twice: at 25 widgets more than the 5 ms a tick may cost, though no widget had
    anything to do (issue 22).
    """
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if spy.count != frames:
            return spy.last_cpu
        if _pending(app):  # a repaint (or a layout) asked for: the next frame shows it
            if await spy.next_frame(frames, timeout=max(deadline - time.perf_counter(), 0)):
                return spy.last_cpu
            break
        if not _queued(app):
            return time.thread_time()
        await asyncio.sleep(0)  # let the widgets handle what was posted to them
    return time.thread_time()


async def quiesce(pilot: Any, spy: DisplaySpy, timeout: float = 10.0) -> None:
    """Return once every pending message is handled and the resulting frame is composed."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        await pilot._wait_for_screen()
        if _pending(pilot.app):
            await asyncio.sleep(0.0005)  # the screen's update timer composes the frame
            continue
        frames = spy.count
        await pilot._wait_for_screen()
        await asyncio.sleep(0)
        if spy.count == frames and not _pending(pilot.app):
            return
    raise TimeoutError("the app did not settle")


async def press(pilot: Any, spy: DisplaySpy, key: str) -> float:
    """Seconds from sending ``key`` to the end of the frame that shows its effect."""
    app = pilot.app
    event = key_event(app, key)
    frames = spy.count
    t0 = time.perf_counter()
    app._driver.send_message(event)
    await spy.next_frame(frames, timeout=2.0)  # no polling before the first frame
    await quiesce(pilot, spy)  # later frames the key caused count too
    end = spy.last_wall if spy.last_wall > t0 else time.perf_counter()
    return end - t0


async def press_untimed(pilot: Any, spy: DisplaySpy, key: str) -> None:
    """Send ``key`` and wait until the app settled."""
    pilot.app._driver.send_message(key_event(pilot.app, key))
    await quiesce(pilot, spy)


def product_app(db: str, config: str, now_iso: str) -> tuple[App[Any], Any]:
    """The app and its context, built exactly as ``oncall-tui --db --config --now`` does."""
    import oncall_tui.cli.main as cli
    from oncall_tui.ui.app import OncallApp

    args = cli.build_parser().parse_args(["--db", db, "--config", config, "--now", now_iso])
    ctx = cli.open_app_context(args)
    return OncallApp(ctx), ctx
