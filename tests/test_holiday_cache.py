"""The public holidays the app read from the library are kept in the state folder: the next
start reads them from there, not the library (~0.25 s of CPU to import), and gets the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from oncall_tui.domain import calendars
from oncall_tui.domain.calendars import HolidayTable, library_holidays
from oncall_tui.settings.holiday_cache import CACHE_FILE, HolidayFileCache, library_stamp


class Asked:
    """The library, counting what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def __call__(self, country: str, year: int) -> HolidayTable:
        self.asked.append((country, year))
        return library_holidays(country, year)


@pytest.fixture
def restored() -> Iterator[None]:
    yield
    calendars.read_holidays_through(calendars.library_holidays)


def test_the_next_start_reads_the_file_and_gets_the_same(tmp_path: Path) -> None:
    library = Asked()
    first = HolidayFileCache(tmp_path, library=library, stamp=lambda: "v1")
    assert first("US", 2026) == library_holidays("US", 2026)
    assert first("US", 2026) == library_holidays("US", 2026)
    assert library.asked == [("US", 2026)]
    assert (tmp_path / CACHE_FILE).exists()

    again = HolidayFileCache(tmp_path, library=library, stamp=lambda: "v1")  # a new start
    assert again("US", 2026) == library_holidays("US", 2026)
    assert again("US", 2027) == library_holidays("US", 2027)
    assert library.asked == [("US", 2026), ("US", 2027)]  # only the year it had not kept

    upgraded = HolidayFileCache(tmp_path, library=library, stamp=lambda: "v2")
    assert upgraded("US", 2026) == library_holidays("US", 2026)
    assert library.asked[-1] == ("US", 2026)  # another library: asked again


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[]", json.dumps({"library": "v1", "tables": {"US:2026": [[1, 2]]}}).encode()],
)
def test_a_file_that_is_not_ours_is_asked_past_and_replaced(tmp_path: Path, content: bytes) -> None:
    (tmp_path / CACHE_FILE).write_bytes(content)
    library = Asked()
    cache = HolidayFileCache(tmp_path, library=library, stamp=lambda: "v1")
    assert cache("US", 2026) == library_holidays("US", 2026)
    assert library.asked == [("US", 2026)]
    kept = json.loads((tmp_path / CACHE_FILE).read_text())
    assert kept["library"] == "v1" and "US:2026" in kept["tables"]


def test_an_unknown_country_is_an_error_and_an_unwritable_folder_none(tmp_path: Path) -> None:
    library = Asked()
    cache = HolidayFileCache(tmp_path, library=library, stamp=lambda: "v1")
    with pytest.raises(ValueError):
        cache("XX", 2026)
    with pytest.raises(ValueError):
        cache("XX", 2026)  # not kept
    assert library.asked == [("XX", 2026), ("XX", 2026)]

    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the folder should be
    cache = HolidayFileCache(blocked, library=library, stamp=lambda: "v1")
    assert cache("US", 2026) == library_holidays("US", 2026)


def test_the_calendar_reads_through_the_cache_the_app_sets(tmp_path: Path, restored: None) -> None:
    library = Asked()
    calendars.read_holidays_through(HolidayFileCache(tmp_path, library=library, stamp=lambda: "v"))
    assert calendars.holiday_closures("US", 2031) == library_holidays("US", 2031)
    assert library.asked == [("US", 2031)]
    calendars.read_holidays_through(HolidayFileCache(tmp_path, library=library, stamp=lambda: "v"))
    assert calendars.holiday_closures("US", 2031) == library_holidays("US", 2031)
    assert library.asked == [("US", 2031)]  # a new start: from the file


def test_the_installed_library_has_a_stamp() -> None:
    assert library_stamp()  # else nothing would ever be kept
