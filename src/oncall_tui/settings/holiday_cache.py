"""The public holidays the app read from the ``holidays`` library, kept in the state folder.

The status line says whether the desk is in business hours from the first tick after the
first paint, which needs this year's public holidays: importing the library (every country's
module) costs ~0.25 s of CPU at every start, for the same dozen dates. So the app reads them
through :class:`HolidayFileCache` (``domain.calendars.read_holidays_through``): a small JSON
file (``holidays.json``) keyed by the library's installed files (a new version of the library
answers again), written whole to a temporary file and renamed. A file that cannot be read or
written, or is not ours, is no error: the library is asked, as without the file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from oncall_tui.domain.calendars import HolidayTable, library_holidays

CACHE_FILE = "holidays.json"
#: A few years of a few countries are a few kilobytes; anything larger is not ours.
MAX_BYTES = 512 * 1024


def library_stamp() -> str:
    """Which ``holidays`` library is installed (its place, and its version file's size and
    time), found without importing it; "" when it cannot be told (nothing is kept then)."""
    try:
        spec = importlib.util.find_spec("holidays")
        origin = spec.origin if spec is not None else None
        if not origin:
            return ""
        version = Path(origin).with_name("version.py")
        st = version.stat()
    except (ImportError, OSError, ValueError):
        return ""
    return f"{origin}|{st.st_size}|{st.st_mtime_ns}"


class HolidayFileCache:
    """A holiday source (``(country, year) -> HolidayTable``) that asks ``library`` once per
    country and year and installed library, and keeps its answers in ``folder``."""

    def __init__(
        self,
        folder: Path,
        *,
        library: Callable[[str, int], HolidayTable] = library_holidays,
        stamp: Callable[[], str] = library_stamp,
    ) -> None:
        self.path = folder / CACHE_FILE
        self.library = library
        self.stamp = stamp
        self._lock = threading.Lock()
        self._tables: dict[str, Any] | None = None
        self._stamp = ""

    def __call__(self, country: str, year: int) -> HolidayTable:
        key = f"{country}:{year}"
        with self._lock:
            tables = self._load()
            kept = _decoded(tables.get(key))
            if kept is not None:
                return kept
            table = self.library(country, year)  # ValueError for an unknown country: not kept
            if self._stamp:
                tables[key] = [[d.isoformat(), name] for d, name in table]
                self._save(tables)
            return table

    def _load(self) -> dict[str, Any]:
        if self._tables is not None:
            return self._tables
        self._stamp = self.stamp()
        self._tables = {}
        try:
            with self.path.open("rb") as f:
                raw = f.read(MAX_BYTES + 1)
            data = json.loads(raw.decode("utf-8")) if len(raw) <= MAX_BYTES else None
        except (OSError, ValueError):
            data = None
        if (
            isinstance(data, dict)
            and self._stamp
            and data.get("library") == self._stamp
            and isinstance(data.get("tables"), dict)
        ):
            self._tables = dict(data["tables"])
        return self._tables

    def _save(self, tables: dict[str, Any]) -> None:
        from oncall_tui.settings.paths import ensure_private_dir

        folder = self.path.parent
        try:
            ensure_private_dir(folder)
            fd, tmp = tempfile.mkstemp(prefix=".holidays-", suffix=".json", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump({"library": self._stamp, "tables": tables}, f, sort_keys=True)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # not kept: the library is asked again at the next start


def _decoded(value: object) -> HolidayTable | None:
    """A kept table, or None if it is not one (then the library is asked)."""
    if not isinstance(value, list):
        return None
    try:
        return tuple((date.fromisoformat(d), str(name)) for d, name in value)
    except (TypeError, ValueError):
        return None
