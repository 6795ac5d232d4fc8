"""The official Chinese workday calendar (法定节假日 and 调休), failing safe.

The State Council publishes next year's holidays only in November or December, and
`chinese_calendar` raises NotImplementedError for any year it has no data for (1.11 knows
2004–2026). Reminders must keep going regardless, so for such a year Saturday and Sunday are
taken as the rest days, and the year is remembered so the dispatchers can be warned once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import MAXYEAR, MINYEAR, date

import chinese_calendar


class WorkCalendar:
    """Which days are workdays, by configuration first, then the official calendar.

    `extra_holidays` and `extra_workdays` (a county's own rest day, an announced 调休 the
    installed `chinese_calendar` does not have yet) override everything else. Listing any day
    of a year counts as covering that year: `knows` is then True and no fallback is recorded.
    """

    def __init__(self, *, extra_holidays: Iterable[date] = (),
                 extra_workdays: Iterable[date] = ()) -> None:
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        both = self._extra_holidays & self._extra_workdays
        if both:
            days = ", ".join(sorted(day.isoformat() for day in both))
            raise ValueError(f"configured both as holiday and as workday: {days}")
        self._configured_years = frozenset(
            day.year for day in self._extra_holidays | self._extra_workdays)
        self._fallback_years: set[int] = set()

    def is_workday(self, day: date) -> bool:
        if day in self._extra_workdays:
            return True
        if day in self._extra_holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # a year the installed calendar has no data for
            if day.year not in self._configured_years:
                self._fallback_years.add(day.year)
            return day.weekday() < 5

    def is_rest_day(self, day: date) -> bool:
        return not self.is_workday(day)

    def reports_due(self, day: date, *, works_rest_days: bool) -> bool:
        """A site that works rest days reports every day; any other only on workdays."""
        return works_rest_days or self.is_workday(day)

    def knows(self, year: int) -> bool:
        """Whether the official calendar or the configuration covers `year`."""
        if year in self._configured_years:
            return True
        if not MINYEAR <= year <= MAXYEAR:
            return False
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            return False
        return True

    @property
    def fallback_years(self) -> frozenset[int]:
        """Years for which a day was decided by the Saturday/Sunday rule alone, so far."""
        return frozenset(self._fallback_years)

    def holiday_name(self, day: date) -> str | None:
        """The official holiday's name, in English as `chinese_calendar` gives it ("National
        Day"); None for any other day, for an adjusted workday (调休) and for a year the
        official calendar does not know.
        """
        if day in self._extra_workdays:
            return None
        try:
            detail: tuple[bool, str | None] = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return None
        is_holiday, name = detail
        return name if is_holiday else None
