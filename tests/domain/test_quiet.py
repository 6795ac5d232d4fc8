"""Quiet hours as a person types them on a phone, and what they hold back."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.quiet import NEVER, NotQuietHours, Quiet, from_stored, parse_quiet, stored

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("typed", ["22:00-07:30", "22点到7点半", "２２：００～７：３０",
                                   "22时至7点30分", " 22:00 - 7:30 ", "22:00—07:30",
                                   "22:00 to 7:30"])
def test_the_usual_ways_of_typing_quiet_hours(typed: str) -> None:
    assert parse_quiet(typed) == Quiet(time(22), time(7, 30))


@pytest.mark.parametrize("typed", ["关闭", "off", "OFF", "无"])
def test_quiet_hours_can_be_turned_off(typed: str) -> None:
    quiet = parse_quiet(typed)
    assert quiet == NEVER and quiet.never
    assert not any(quiet.contains(time(hour, 30)) for hour in range(24))


@pytest.mark.parametrize("typed", ["", "晚上", "25:00-07:00", "22:61-07:00", "22:00",
                                   "22:00-07:00-08:00", "x" * 500])
def test_what_is_not_quiet_hours_is_refused(typed: str) -> None:
    with pytest.raises(NotQuietHours):
        parse_quiet(typed)


def test_quiet_hours_across_midnight_end_the_next_morning() -> None:
    quiet = parse_quiet("23:00-06:00")
    assert quiet.contains(time(23, 30)) and quiet.contains(time(5, 59))
    assert not quiet.contains(time(6)) and not quiet.contains(time(22, 59))
    late = datetime(2026, 11, 20, 23, 30, tzinfo=ZONE)
    assert quiet.ends_after(late) == datetime(2026, 11, 21, 6, tzinfo=ZONE)


def test_quiet_hours_within_a_day() -> None:
    nap = parse_quiet("12:00-14:00")
    assert nap.contains(time(13)) and not nap.contains(time(14)) and not nap.contains(time(2))
    assert nap.label() == "12:00-14:00"


def test_stored_and_read_back() -> None:
    for quiet in (parse_quiet("22:00-07:30"), NEVER, None):
        assert from_stored(*stored(quiet)) == quiet
