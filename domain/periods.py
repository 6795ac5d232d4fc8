"""Reporting periods: days, ISO weeks, ten-day spans (旬), months, quarters and years.

A period is named by a key that sorts and reads well in storage and messages ("2026-11-2" is
the middle ten days of November 2026); `parse_key` turns any key back into its period.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# Cumulative % of the year's new projects started by the end of Q1..Q4 (SPEC).
QUARTER_START_TARGETS = (40, 80, 100, 100)
# Cumulative % of the annual investment plan completed by the end of Q1..Q4.
DEFAULT_QUARTER_SHARES = (20, 50, 80, 100)


class PeriodKind(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    TEN_DAY = "ten_day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """The days from `start` through `end`, both included, of one kind of period.

    Only whole periods exist: `Period(MONTH, 2026-11-05, 2026-11-09)` is refused, so a key
    always names exactly the days the period holds.
    """

    kind: PeriodKind
    start: date
    end: date

    def __post_init__(self) -> None:
        if (self.start, self.end) != _BOUNDS[self.kind](self.start):
            raise ValueError(f"not a whole {self.kind}: {self.start} to {self.end}")

    @property
    def key(self) -> str:
        year, month = self.start.year, self.start.month
        match self.kind:
            case PeriodKind.DAY:
                return self.start.isoformat()
            case PeriodKind.WEEK:
                iso = self.start.isocalendar()  # the ISO year: 2027-01-01 is in 2026-W53
                return f"{iso.year:04d}-W{iso.week:02d}"
            case PeriodKind.TEN_DAY:
                return f"{year:04d}-{month:02d}-{self.part}"
            case PeriodKind.MONTH:
                return f"{year:04d}-{month:02d}"
            case PeriodKind.QUARTER:
                return f"{year:04d}-Q{self.part}"
            case PeriodKind.YEAR:
                return f"{year:04d}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def part(self) -> int:
        """Which one of its kind within the larger period: 旬 1–3, quarter 1–4, ISO week…"""
        match self.kind:
            case PeriodKind.DAY:
                return self.start.day
            case PeriodKind.WEEK:
                return self.start.isocalendar().week
            case PeriodKind.TEN_DAY:
                return _ten_day_part(self.start.day)
            case PeriodKind.MONTH:
                return self.start.month
            case PeriodKind.QUARTER:
                return (self.start.month - 1) // 3 + 1
            case PeriodKind.YEAR:
                return 1

    def __contains__(self, day: object) -> bool:
        """Whether `day` falls in the period; a datetime is not a day and never does."""
        if not isinstance(day, date) or isinstance(day, datetime):
            return False
        return self.start <= day <= self.end

    def previous(self) -> Period:
        return period_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        return period_of(self.kind, self.end + timedelta(days=1))

    def elapsed(self, on: date) -> int:
        """Days of the period gone by `on`, counting `on` itself: 0 before it, `days` after."""
        return min(max((on - self.start).days + 1, 0), self.days)


def last_day_of_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def is_ten_day_end(d: date) -> bool:
    """The 10th, the 20th and the last day of the month: the days a 旬 report is due."""
    return d == ten_day_of(d).end


def _ten_day_part(day_of_month: int) -> int:
    """1 for the 1st–10th (上旬), 2 for the 11th–20th (中旬), 3 from the 21st (下旬)."""
    return min((day_of_month - 1) // 10, 2) + 1


def _day_bounds(d: date) -> tuple[date, date]:
    return d, d


def _week_bounds(d: date) -> tuple[date, date]:
    monday = d - timedelta(days=d.weekday())
    return monday, monday + timedelta(days=6)


def _ten_day_bounds(d: date) -> tuple[date, date]:
    part = _ten_day_part(d.day)
    last = 10 * part if part < 3 else last_day_of_month(d.year, d.month)
    return d.replace(day=10 * part - 9), d.replace(day=last)


def _month_bounds(d: date) -> tuple[date, date]:
    return d.replace(day=1), d.replace(day=last_day_of_month(d.year, d.month))


def _quarter_bounds(d: date) -> tuple[date, date]:
    first_month = (d.month - 1) // 3 * 3 + 1
    last_month = first_month + 2
    return (date(d.year, first_month, 1),
            date(d.year, last_month, last_day_of_month(d.year, last_month)))


def _year_bounds(d: date) -> tuple[date, date]:
    return date(d.year, 1, 1), date(d.year, 12, 31)


_BOUNDS: dict[PeriodKind, Callable[[date], tuple[date, date]]] = {
    PeriodKind.DAY: _day_bounds,
    PeriodKind.WEEK: _week_bounds,
    PeriodKind.TEN_DAY: _ten_day_bounds,
    PeriodKind.MONTH: _month_bounds,
    PeriodKind.QUARTER: _quarter_bounds,
    PeriodKind.YEAR: _year_bounds,
}


def period_of(kind: PeriodKind, d: date) -> Period:
    """The period of `kind` that holds `d`."""
    return Period(kind, *_BOUNDS[kind](d))


def day_of(d: date) -> Period:
    return period_of(PeriodKind.DAY, d)


def week_of(d: date) -> Period:
    """The ISO week, Monday to Sunday, that holds `d`."""
    return period_of(PeriodKind.WEEK, d)


def ten_day_of(d: date) -> Period:
    return period_of(PeriodKind.TEN_DAY, d)


def month_of(d: date) -> Period:
    return period_of(PeriodKind.MONTH, d)


def quarter_of(d: date) -> Period:
    return period_of(PeriodKind.QUARTER, d)


def year_of(d: date) -> Period:
    return period_of(PeriodKind.YEAR, d)


# Only the exact shapes `Period.key` writes: "2026-1" or "２０２６" are not keys.
_KEY_SHAPES = (
    (PeriodKind.DAY, re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")),
    (PeriodKind.WEEK, re.compile(r"([0-9]{4})-W([0-9]{2})")),
    (PeriodKind.TEN_DAY, re.compile(r"([0-9]{4})-([0-9]{2})-([1-3])")),
    (PeriodKind.MONTH, re.compile(r"([0-9]{4})-([0-9]{2})")),
    (PeriodKind.QUARTER, re.compile(r"([0-9]{4})-Q([1-4])")),
    (PeriodKind.YEAR, re.compile(r"([0-9]{4})")),
)


def parse_key(key: str) -> Period:
    """The period a key names; ValueError for anything `Period.key` would not write."""
    for kind, shape in _KEY_SHAPES:
        match = shape.fullmatch(key)
        if match is None:
            continue
        try:
            return period_of(kind, _first_day(kind, [int(field) for field in match.groups()]))
        except ValueError as error:  # month 13, 2026-02-30, 2026-W54
            raise ValueError(f"no such period: {key!r}") from error
    raise ValueError(f"not a period key: {key!r}")


def _first_day(kind: PeriodKind, fields: list[int]) -> date:
    """The first day of the period whose key held `fields`: (year, month, day), (year, week)…"""
    year = fields[0]
    match kind:
        case PeriodKind.DAY:
            return date(year, fields[1], fields[2])
        case PeriodKind.WEEK:
            return date.fromisocalendar(year, fields[1], 1)
        case PeriodKind.TEN_DAY:
            return date(year, fields[1], 10 * fields[2] - 9)
        case PeriodKind.MONTH:
            return date(year, fields[1], 1)
        case PeriodKind.QUARTER:
            return date(year, 3 * fields[1] - 2, 1)
        case PeriodKind.YEAR:
            return date(year, 1, 1)


def quarter_target(shares: Sequence[int], quarter: int) -> int:
    """The cumulative % due by the end of `quarter` (1–4), e.g. of DEFAULT_QUARTER_SHARES.

    Shares come from configuration, so they are checked: four values in 0..100 that never go
    down, since a cumulative target cannot shrink from one quarter to the next.
    """
    if not 1 <= quarter <= 4:
        raise ValueError(f"no quarter {quarter}: quarters are 1 to 4")
    values = list(shares)
    if len(values) != 4 or any(not 0 <= value <= 100 for value in values):
        raise ValueError(f"quarter shares must be four percentages 0..100, not {values}")
    if values != sorted(values):
        raise ValueError(f"quarter shares are cumulative and cannot go down: {values}")
    return values[quarter - 1]
