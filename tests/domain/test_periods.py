from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.periods import (
    DEFAULT_QUARTER_SHARES,
    QUARTER_START_TARGETS,
    Period,
    PeriodKind,
    day_of,
    is_ten_day_end,
    last_day_of_month,
    month_of,
    parse_key,
    period_of,
    quarter_of,
    quarter_target,
    ten_day_of,
    week_of,
    year_of,
)

NEW_YEARS_EVE = date(2026, 12, 31)
NEW_YEARS_DAY = date(2027, 1, 1)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.mark.parametrize(("day", "key", "start", "end"), [
    (date(2026, 1, 1), "2026-01-1", date(2026, 1, 1), date(2026, 1, 10)),
    (date(2026, 1, 10), "2026-01-1", date(2026, 1, 1), date(2026, 1, 10)),
    (date(2026, 1, 11), "2026-01-2", date(2026, 1, 11), date(2026, 1, 20)),
    (date(2026, 1, 20), "2026-01-2", date(2026, 1, 11), date(2026, 1, 20)),
    (date(2026, 1, 21), "2026-01-3", date(2026, 1, 21), date(2026, 1, 31)),
    (date(2026, 1, 31), "2026-01-3", date(2026, 1, 21), date(2026, 1, 31)),
    (date(2026, 11, 30), "2026-11-3", date(2026, 11, 21), date(2026, 11, 30)),
    (date(2026, 2, 28), "2026-02-3", date(2026, 2, 21), date(2026, 2, 28)),
    (date(2028, 2, 28), "2028-02-3", date(2028, 2, 21), date(2028, 2, 29)),
    (date(2028, 2, 29), "2028-02-3", date(2028, 2, 21), date(2028, 2, 29)),
])
def test_ten_day_spans_end_on_the_10th_20th_and_last_day(
        day: date, key: str, start: date, end: date) -> None:
    span = ten_day_of(day)
    assert span.key == key
    assert (span.start, span.end) == (start, end)
    assert span.days == (end - start).days + 1


@pytest.mark.parametrize(("day", "part"), [
    (date(2026, 11, 1), 1), (date(2026, 11, 10), 1),
    (date(2026, 11, 11), 2), (date(2026, 11, 20), 2),
    (date(2026, 11, 21), 3), (date(2026, 11, 30), 3),
])
def test_ten_day_part_is_shang_zhong_xia_xun(day: date, part: int) -> None:
    assert ten_day_of(day).part == part


def test_last_ten_days_hold_eight_to_eleven_days() -> None:
    assert ten_day_of(date(2026, 1, 31)).days == 11
    assert ten_day_of(date(2026, 11, 30)).days == 10
    assert ten_day_of(date(2026, 2, 28)).days == 8
    assert ten_day_of(date(2028, 2, 29)).days == 9


@pytest.mark.parametrize(("day", "is_end"), [
    (date(2026, 11, 9), False),
    (date(2026, 11, 10), True),
    (date(2026, 11, 11), False),
    (date(2026, 11, 19), False),
    (date(2026, 11, 20), True),
    (date(2026, 11, 21), False),
    (date(2026, 11, 29), False),
    (date(2026, 11, 30), True),
    (date(2026, 1, 30), False),
    (date(2026, 1, 31), True),
    (date(2026, 2, 27), False),
    (date(2026, 2, 28), True),
    (date(2028, 2, 28), False),
    (date(2028, 2, 29), True),
])
def test_is_ten_day_end(day: date, is_end: bool) -> None:
    assert is_ten_day_end(day) is is_end


def test_exactly_three_ten_day_ends_in_every_month() -> None:
    for day in _days(date(2024, 1, 1), date(2028, 12, 31)):
        ends = [d for d in _days(month_of(day).start, month_of(day).end) if is_ten_day_end(d)]
        assert [d.day for d in ends] == [10, 20, last_day_of_month(day.year, day.month)]


@pytest.mark.parametrize(("year", "month", "last"), [
    (2026, 1, 31), (2026, 4, 30), (2026, 2, 28), (2028, 2, 29), (2100, 2, 28), (2000, 2, 29),
    (2026, 12, 31),
])
def test_last_day_of_month(year: int, month: int, last: int) -> None:
    assert last_day_of_month(year, month) == last


@pytest.mark.parametrize(("quarter_end", "key", "next_start"), [
    (date(2026, 3, 31), "2026-Q1", date(2026, 4, 1)),
    (date(2026, 6, 30), "2026-Q2", date(2026, 7, 1)),
    (date(2026, 9, 30), "2026-Q3", date(2026, 10, 1)),
    (date(2026, 12, 31), "2026-Q4", date(2027, 1, 1)),
])
def test_quarter_ends_and_the_next_quarter(quarter_end: date, key: str, next_start: date) -> None:
    quarter = quarter_of(quarter_end)
    assert quarter.key == key
    assert quarter.end == quarter_end
    assert quarter.next().start == next_start
    assert quarter.next().previous() == quarter
    assert quarter_end in quarter
    assert next_start not in quarter


def test_quarters_hold_their_days() -> None:
    assert [quarter_of(date(2026, month, 1)).days for month in (1, 4, 7, 10)] == [90, 91, 92, 92]
    assert quarter_of(date(2028, 2, 29)).days == 91
    assert [quarter_of(date(2026, month, 15)).part for month in range(1, 13)] == [
        1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]


@pytest.mark.parametrize(("kind", "before", "after"), [
    (PeriodKind.DAY, "2026-12-31", "2027-01-01"),
    (PeriodKind.TEN_DAY, "2026-12-3", "2027-01-1"),
    (PeriodKind.MONTH, "2026-12", "2027-01"),
    (PeriodKind.QUARTER, "2026-Q4", "2027-Q1"),
    (PeriodKind.YEAR, "2026", "2027"),
])
def test_new_year_for_every_kind(kind: PeriodKind, before: str, after: str) -> None:
    old, new = period_of(kind, NEW_YEARS_EVE), period_of(kind, NEW_YEARS_DAY)
    assert (old.key, new.key) == (before, after)
    assert old.end == NEW_YEARS_EVE
    assert new.start == NEW_YEARS_DAY
    assert old.next() == new
    assert new.previous() == old


def test_new_year_inside_iso_week_53() -> None:
    week = week_of(NEW_YEARS_EVE)
    assert week.key == "2026-W53"
    assert week == week_of(NEW_YEARS_DAY) == week_of(date(2027, 1, 3))
    assert (week.start, week.end) == (date(2026, 12, 28), date(2027, 1, 3))
    assert all(day in week for day in _days(NEW_YEARS_DAY, date(2027, 1, 3)))
    assert week.part == 53
    assert week.next().key == "2027-W01"
    assert week.next().start == date(2027, 1, 4)
    assert week.previous().key == "2026-W52"


def test_iso_week_of_a_new_year_can_start_in_december() -> None:
    week = week_of(date(2024, 12, 30))  # a Monday in week 1 of ISO year 2025
    assert week.key == "2025-W01"
    assert (week.start, week.end) == (date(2024, 12, 30), date(2025, 1, 5))


def test_week_runs_monday_to_sunday() -> None:
    week = week_of(date(2026, 11, 22))  # a Sunday
    assert week.key == "2026-W47"
    assert (week.start, week.end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert week.start.isoweekday() == 1
    assert week.days == 7


@pytest.mark.parametrize(("period", "key", "part", "days"), [
    (day_of(date(2026, 11, 22)), "2026-11-22", 22, 1),
    (week_of(date(2026, 11, 22)), "2026-W47", 47, 7),
    (ten_day_of(date(2026, 11, 22)), "2026-11-3", 3, 10),
    (month_of(date(2026, 11, 22)), "2026-11", 11, 30),
    (quarter_of(date(2026, 11, 22)), "2026-Q4", 4, 92),
    (year_of(date(2026, 11, 22)), "2026", 1, 365),
    (year_of(date(2028, 11, 22)), "2028", 1, 366),
])
def test_key_part_and_days(period: Period, key: str, part: int, days: int) -> None:
    assert (period.key, period.part, period.days) == (key, part, days)


@pytest.mark.parametrize("kind", list(PeriodKind))
def test_parse_key_round_trips_every_day_2024_to_2028(kind: PeriodKind) -> None:
    for day in _days(date(2024, 1, 1), date(2028, 12, 31)):
        period = period_of(kind, day)
        assert day in period
        assert parse_key(period.key) == period
        assert period.next().previous() == period
        assert period.next().start == period.end + timedelta(days=1)


@pytest.mark.parametrize("kind", list(PeriodKind))
def test_keys_sort_as_their_periods(kind: PeriodKind) -> None:
    periods = [period_of(kind, day) for day in _days(date(2024, 1, 1), date(2028, 12, 31))]
    assert sorted(periods, key=lambda period: period.key) == sorted(periods)


@pytest.mark.parametrize("key", [
    "", "2026-13", "2026-00", "2026-11-4", "2026-11-0", "2026-Q5", "2026-Q0", "2026-W54",
    "2025-W53", "2026-W00", "2026-02-30", "2026-1", "2026-1-5", "26", "2026-11-22 ", " 2026",
    "２０２６", "2026-q4", "2026-w47", "2026/11", "0000", "2026-11-22-1", "week",
])
def test_parse_key_refuses_junk(key: str) -> None:
    with pytest.raises(ValueError, match="period"):
        parse_key(key)


def test_only_whole_periods_exist() -> None:
    with pytest.raises(ValueError, match="not a whole month"):
        Period(PeriodKind.MONTH, date(2026, 11, 5), date(2026, 11, 9))
    with pytest.raises(ValueError, match="not a whole week"):
        Period(PeriodKind.WEEK, date(2026, 11, 17), date(2026, 11, 23))  # Tuesday to Monday


def test_contains_only_days() -> None:
    november = month_of(date(2026, 11, 1))
    assert date(2026, 11, 30) in november
    assert date(2026, 12, 1) not in november
    assert datetime(2026, 11, 15, 12, 0, tzinfo=UTC) not in november
    assert "2026-11-15" not in november


@pytest.mark.parametrize(("on", "elapsed"), [
    (date(2026, 10, 31), 0),
    (date(2026, 11, 1), 1),
    (date(2026, 11, 10), 10),
    (date(2026, 11, 30), 30),
    (date(2026, 12, 25), 30),
])
def test_elapsed_counts_the_day_itself_and_clips(on: date, elapsed: int) -> None:
    assert month_of(date(2026, 11, 1)).elapsed(on) == elapsed


def test_elapsed_of_a_day_is_zero_or_one() -> None:
    today = day_of(date(2026, 11, 22))
    assert [today.elapsed(date(2026, 11, d)) for d in (21, 22, 23)] == [0, 1, 1]


def test_quarter_targets() -> None:
    assert [quarter_target(QUARTER_START_TARGETS, q) for q in (1, 2, 3, 4)] == [40, 80, 100, 100]
    assert [quarter_target(DEFAULT_QUARTER_SHARES, q) for q in (1, 2, 3, 4)] == [20, 50, 80, 100]
    assert quarter_target([0, 0, 0, 0], 4) == 0


@pytest.mark.parametrize("quarter", [0, 5, -1])
def test_quarter_target_refuses_a_fifth_quarter(quarter: int) -> None:
    with pytest.raises(ValueError, match="quarter"):
        quarter_target(DEFAULT_QUARTER_SHARES, quarter)


@pytest.mark.parametrize("shares", [
    (20, 50, 80),
    (20, 50, 80, 100, 100),
    (),
    (50, 20, 80, 100),
    (20, 50, 80, 101),
    (-1, 50, 80, 100),
])
def test_quarter_target_refuses_bad_shares(shares: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="shares"):
        quarter_target(shares, 1)
