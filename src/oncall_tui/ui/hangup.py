"""Noticing that the terminal went away without a hang-up signal.

A terminal closed under the app (an SSH connection dropped where the app runs in its own
session, ``setsid``, or a pty whose other end a program closed) sends no ``SIGHUP`` to a
process it does not control: Textual's input thread then reads end-of-file at once, over and
over, and the app spun at about a core until killed. The app asks every few seconds, with a
zero-timeout ``poll``, whether its input hung up, and exits if it did (drafts are saved as
they are typed, so nothing is lost).
"""

from __future__ import annotations

import select

#: How often the app asks (seconds): one system call each time.
CHECK_SECONDS = 2.0

_GONE = 0
for _name in ("POLLHUP", "POLLERR", "POLLNVAL"):
    _GONE |= getattr(select, _name, 0)


def terminal_gone(fd: int) -> bool:
    """Whether the terminal on ``fd`` hung up (its other end is closed), without waiting.

    False where ``poll`` does not exist (Windows): there the console ends the process.
    """
    if not hasattr(select, "poll"):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLIN)  # hang-ups and errors are reported whatever is asked
    try:
        events = poller.poll(0)
    except OSError:
        return True
    return any(mask & _GONE for _fd, mask in events)
