from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.model import Light
from domain.progress import lag_points, light_for, planned_pct


def test_plan_is_proportional_to_the_days_elapsed() -> None:
    assert planned_pct(date(2026, 12, 31)) == Decimal(100)
    assert planned_pct(date(2026, 7, 2)) == Decimal("50.1")  # day 183 of 365
    assert planned_pct(date(2028, 12, 31)) == Decimal(100)  # leap year


def test_lag_is_plan_minus_completion() -> None:
    # 30 June 2026 is day 181 of 365: 49.6 % of the plan is due
    assert lag_points(Decimal(3000), Decimal(10000), date(2026, 6, 30)) == Decimal("19.6")
    assert lag_points(Decimal(1), Decimal(0), date(2026, 6, 30)) is None


@pytest.mark.parametrize(("lag", "previous", "letter", "expected"), [
    (Decimal(0), None, False, Light.GREEN),
    (Decimal("9.9"), Light.GREEN, False, Light.GREEN),
    (Decimal(10), Light.GREEN, False, Light.YELLOW),
    (Decimal("19.9"), Light.YELLOW, False, Light.YELLOW),
    (Decimal(20), Light.YELLOW, False, Light.RED),
    (Decimal(-5), None, True, Light.RED),  # a supervision letter open makes it red
    (Decimal(15), Light.RED, False, Light.RED),  # red stays red until caught up
    (Decimal(5), Light.RED, False, Light.YELLOW),  # caught up: yellow first, not green
    (Decimal(5), Light.YELLOW, False, Light.GREEN),
])
def test_traffic_lights(lag: Decimal, previous: Light | None, letter: bool,
                        expected: Light) -> None:
    assert light_for(lag, supervision_open=letter, previous=previous) is expected
