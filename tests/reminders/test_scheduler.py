"""When the default rhythms fall due: period ends, month ends, quarters, New Year."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.config import RhythmSettings
from reminders.rhythms import JOBS
from reminders.scheduler import due_times
from tests.conftest import ZONE


def fires(rhythm: str, start: date, end: date) -> list[str]:
    trigger = CronTrigger.from_crontab(getattr(RhythmSettings(), rhythm), timezone=ZONE)
    after = datetime(start.year, start.month, start.day, tzinfo=ZONE) - timedelta(microseconds=1)
    until = datetime(end.year, end.month, end.day, 23, 59, tzinfo=ZONE)
    return [f"{t:%Y-%m-%d %H:%M %a}" for t in due_times(trigger, after=after, until=until)]


def test_every_rhythm_has_a_default_time() -> None:
    assert all(getattr(RhythmSettings(), name) for name in JOBS)


@pytest.mark.parametrize(("month_start", "expected"), [
    (date(2026, 1, 1), ["2026-01-10", "2026-01-20", "2026-01-31"]),  # 31 days
    (date(2026, 2, 1), ["2026-02-10", "2026-02-20", "2026-02-28"]),  # February
    (date(2028, 2, 1), ["2028-02-10", "2028-02-20", "2028-02-29"]),  # a leap year
    (date(2026, 4, 1), ["2026-04-10", "2026-04-20", "2026-04-30"]),  # 30 days
])
def test_ten_day_check_on_the_10th_20th_and_last_day(month_start: date,
                                                     expected: list[str]) -> None:
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    found = fires("ten_day_check", month_start, next_month - timedelta(days=1))
    assert [f[:10] for f in found] == expected
    assert all(" 17:00 " in f for f in found)


def test_monthly_and_quarterly_reviews_across_new_year() -> None:
    assert [f[:16] for f in fires("quarterly_review", date(2026, 1, 2), date(2027, 4, 30))] == [
        "2026-04-01 09:00", "2026-07-01 09:00", "2026-10-01 09:00", "2027-01-01 09:00",
        "2027-04-01 09:00"]
    assert [f[:10] for f in fires("monthly_review", date(2026, 11, 15), date(2027, 2, 15))] == [
        "2026-12-01", "2027-01-01", "2027-02-01"]


def test_weekly_rhythms_across_new_year() -> None:
    visits = fires("visit_reminder", date(2026, 12, 28), date(2027, 1, 10))
    assert visits == ["2026-12-28 09:00 Mon", "2026-12-31 09:00 Thu", "2027-01-04 09:00 Mon",
                      "2027-01-07 09:00 Thu"]
    assert fires("weekly_digest", date(2026, 12, 28), date(2027, 1, 3)) == [
        "2027-01-01 17:00 Fri"]


def test_daily_rhythms_twice_a_day_and_in_the_evening() -> None:
    day = date(2026, 3, 1)
    assert [f[11:16] for f in fires("liaison_reminder", day, day)] == ["16:00", "19:00"]
    assert [f[11:16] for f in fires("leader_unreported", day, day)] == ["21:00"]
    assert [f[11:16] for f in fires("daily_summary", day, day)] == ["21:30"]
