from __future__ import annotations

from datetime import date

import pytest

from domain.workdays import WorkCalendar

NATIONAL_DAY = date(2026, 10, 1)  # Thursday
NATIONAL_DAY_WEEKEND = date(2026, 10, 3)  # Saturday inside the 10/1–10/7 holiday
AFTER_NATIONAL_DAY = date(2026, 10, 8)  # Thursday, back at work
ADJUSTED_SATURDAY = date(2026, 10, 10)  # 调休: worked to make up for National Day
ADJUSTED_SUNDAY = date(2026, 9, 20)  # 调休, also for National Day
ADJUSTED_SPRING_SATURDAY = date(2026, 2, 14)  # 调休 before the nine-day Spring Festival
ORDINARY_SATURDAY = date(2026, 11, 21)
ORDINARY_MONDAY = date(2026, 11, 23)
SATURDAY_2027 = date(2027, 1, 2)
SUNDAY_2027 = date(2027, 1, 3)
MONDAY_2027 = date(2027, 1, 4)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


def test_national_day_is_a_rest_day(calendar: WorkCalendar) -> None:
    assert calendar.is_rest_day(NATIONAL_DAY)
    assert not calendar.is_workday(NATIONAL_DAY)
    assert calendar.is_rest_day(NATIONAL_DAY_WEEKEND)
    assert calendar.is_workday(AFTER_NATIONAL_DAY)


@pytest.mark.parametrize("day", [ADJUSTED_SATURDAY, ADJUSTED_SUNDAY, ADJUSTED_SPRING_SATURDAY])
def test_adjusted_weekend_day_is_a_workday(calendar: WorkCalendar, day: date) -> None:
    assert day.weekday() >= 5
    assert calendar.is_workday(day)
    assert not calendar.is_rest_day(day)


def test_ordinary_weekend_and_weekday(calendar: WorkCalendar) -> None:
    assert calendar.is_rest_day(ORDINARY_SATURDAY)
    assert calendar.is_workday(ORDINARY_MONDAY)
    assert calendar.fallback_years == frozenset()


def test_a_site_that_works_rest_days_reports_every_day(calendar: WorkCalendar) -> None:
    for day in (NATIONAL_DAY, ORDINARY_SATURDAY, ORDINARY_MONDAY, ADJUSTED_SATURDAY, SUNDAY_2027):
        assert calendar.reports_due(day, works_rest_days=True)


def test_any_other_site_reports_on_workdays_only(calendar: WorkCalendar) -> None:
    assert not calendar.reports_due(NATIONAL_DAY, works_rest_days=False)
    assert not calendar.reports_due(ORDINARY_SATURDAY, works_rest_days=False)
    assert calendar.reports_due(ORDINARY_MONDAY, works_rest_days=False)
    assert calendar.reports_due(ADJUSTED_SATURDAY, works_rest_days=False)


def test_configuration_overrides_the_official_calendar_both_ways() -> None:
    county_fair = date(2026, 11, 23)  # a Monday the county rests
    calendar = WorkCalendar(extra_holidays=[county_fair], extra_workdays=[NATIONAL_DAY])
    assert calendar.is_rest_day(county_fair)
    assert calendar.is_workday(NATIONAL_DAY)
    assert calendar.holiday_name(NATIONAL_DAY) is None
    assert calendar.holiday_name(county_fair) is None
    assert calendar.is_workday(date(2026, 11, 24))


def test_configuration_overrides_the_weekend_fallback() -> None:
    calendar = WorkCalendar(extra_holidays=[MONDAY_2027], extra_workdays=[SATURDAY_2027])
    assert calendar.is_rest_day(MONDAY_2027)
    assert calendar.is_workday(SATURDAY_2027)


def test_a_day_cannot_be_configured_both_ways() -> None:
    with pytest.raises(ValueError, match="2026-10-01"):
        WorkCalendar(extra_holidays=[NATIONAL_DAY], extra_workdays=[NATIONAL_DAY])


def test_unknown_year_falls_back_to_weekends(calendar: WorkCalendar) -> None:
    assert calendar.knows(2026)
    assert not calendar.knows(2027)
    assert calendar.is_rest_day(SATURDAY_2027)
    assert calendar.is_rest_day(SUNDAY_2027)
    assert calendar.is_workday(MONDAY_2027)
    assert calendar.reports_due(MONDAY_2027, works_rest_days=False)
    assert not calendar.reports_due(SUNDAY_2027, works_rest_days=False)
    assert calendar.fallback_years == {2027}
    assert calendar.knows(2027) is False
    assert calendar.holiday_name(date(2027, 1, 1)) is None


def test_fallback_years_are_only_those_asked_about(calendar: WorkCalendar) -> None:
    assert calendar.fallback_years == frozenset()
    calendar.is_workday(date(2026, 12, 31))
    assert calendar.fallback_years == frozenset()
    calendar.is_workday(date(2028, 6, 1))
    calendar.is_workday(date(2027, 6, 1))
    calendar.is_workday(date(2027, 6, 2))
    assert calendar.fallback_years == {2027, 2028}


def test_each_calendar_keeps_its_own_fallback_years() -> None:
    first, second = WorkCalendar(), WorkCalendar()
    first.is_workday(MONDAY_2027)
    assert first.fallback_years == {2027}
    assert second.fallback_years == frozenset()


def test_a_year_listed_in_configuration_is_known() -> None:
    calendar = WorkCalendar(extra_holidays=[date(2027, 2, 8)])
    assert calendar.knows(2027)
    assert calendar.is_workday(MONDAY_2027)
    assert calendar.fallback_years == frozenset()


def test_years_beyond_any_calendar_are_not_known(calendar: WorkCalendar) -> None:
    assert not calendar.knows(2003)  # chinese_calendar's data starts in 2004
    assert calendar.knows(2004)
    assert not calendar.knows(0)
    assert not calendar.knows(10_000)


@pytest.mark.parametrize(("day", "name"), [
    (NATIONAL_DAY, "National Day"),
    (NATIONAL_DAY_WEEKEND, "National Day"),
    (date(2026, 2, 17), "Spring Festival"),
    (date(2026, 1, 1), "New Year's Day"),
    (date(2026, 9, 25), "Mid-autumn Festival"),
    (ADJUSTED_SATURDAY, None),  # a workday, though chinese_calendar labels it "National Day"
    (ORDINARY_SATURDAY, None),
    (ORDINARY_MONDAY, None),
    (date(2027, 10, 1), None),
])
def test_holiday_name(calendar: WorkCalendar, day: date, name: str | None) -> None:
    assert calendar.holiday_name(day) == name
