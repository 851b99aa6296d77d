"""Process start-up: the cyclic garbage collector rests while the modules load.

Loading what the queue's first frame needs (~460 modules) makes ~95 collections, ~12 ms before
the first paint, that find next to nothing: what imports create lives as long as the process.
The console script pauses the collector first thing (:func:`pause_collector`, in
:mod:`oncall_tui.cli.launch` and ``python -m oncall_tui``); the app resumes it when it moves
what start-up made out of the collector's way (``gc.freeze()``, see ``ui/app.py``), and every
subcommand resumes it once its arguments are read. The few hundred cyclic leftovers of the
imports (~600 objects) stay, once per process.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collector() -> None:
    """Stop automatic collections until :func:`resume_collector` (if they were on)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collector() -> None:
    """Automatic collections again, if :func:`pause_collector` stopped them (a collector that
    someone else turned off stays off)."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
