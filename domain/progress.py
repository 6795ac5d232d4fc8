"""Plan, lag and traffic lights (红黄绿), as pure arithmetic.

The time-proportional plan: by day d of the year, d/days_in_year of the annual plan is due.
A project behind it by `YELLOW_POINTS` or more is yellow, by `RED_POINTS` or more (or with a
supervision letter open) red. A red project stays red until it has caught up (less than
`YELLOW_POINTS` behind) and then turns yellow, not green, for one check.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from domain.model import Light

YELLOW_POINTS = Decimal(10)
RED_POINTS = Decimal(20)
ONE_DECIMAL = Decimal("0.1")


def year_fraction(day: date) -> Decimal:
    """The share of the year elapsed at the end of `day` (1 Jan → 1/365, 31 Dec → 1)."""
    start = date(day.year, 1, 1)
    days = (date(day.year + 1, 1, 1) - start).days
    return Decimal((day - start).days + 1) / Decimal(days)


@lru_cache(maxsize=64)  # the same for every project on a day; a rhythm asks thousands of times
def planned_pct(day: date) -> Decimal:
    return (year_fraction(day) * 100).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def completion_pct(done: Decimal, plan: Decimal) -> Decimal | None:
    if plan <= 0:
        return None
    return (done * 100 / plan).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def lag_points(done: Decimal, plan: Decimal, day: date) -> Decimal | None:
    """How many percentage points the project is behind its time-proportional plan."""
    rate = completion_pct(done, plan)
    return None if rate is None else planned_pct(day) - rate


def light_for(lag: Decimal, *, supervision_open: bool = False,
              previous: Light | None = None) -> Light:
    if supervision_open or lag >= RED_POINTS:
        return Light.RED
    if previous is Light.RED:
        return Light.RED if lag >= YELLOW_POINTS else Light.YELLOW
    if lag >= YELLOW_POINTS:
        return Light.YELLOW
    return Light.GREEN
