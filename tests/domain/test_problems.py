"""The closed loop's rules: deadlines, overdue, the ladder and the figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.model import ProblemState
from domain.problems import (
    Deadlines,
    ProblemFacts,
    may_close,
    may_reopen,
    next_level,
    overdue,
    problem_figures,
)

ZONE = ZoneInfo("Asia/Shanghai")
FILED = datetime(2026, 3, 1, 9, 0, tzinfo=ZONE)
TODAY = date(2026, 3, 20)


def fact(state: ProblemState, *, level: int = 1, deadline: date = date(2026, 3, 8),
         closed_days: float | None = None) -> ProblemFacts:
    closed = FILED + timedelta(days=closed_days) if closed_days is not None else None
    return ProblemFacts(1, state, level, deadline, FILED, closed)


def test_deadlines_are_seven_days_or_three_when_urgent() -> None:
    rules = Deadlines()
    assert rules.from_day(date(2026, 3, 1), urgent=False) == date(2026, 3, 8)
    assert rules.from_day(date(2026, 3, 1), urgent=True) == date(2026, 3, 4)
    assert Deadlines(10, 2).from_day(date(2026, 3, 1), urgent=True) == date(2026, 3, 3)


def test_only_unresolved_problems_past_their_deadline_are_overdue() -> None:
    assert not overdue(ProblemState.ASSIGNED, date(2026, 3, 8), date(2026, 3, 8))
    assert overdue(ProblemState.ASSIGNED, date(2026, 3, 8), date(2026, 3, 9))
    assert overdue(ProblemState.IN_PROGRESS, date(2026, 3, 8), date(2026, 3, 9))
    assert not overdue(ProblemState.RESOLVED, date(2026, 3, 8), date(2026, 3, 9))
    assert not overdue(ProblemState.CLOSED, date(2026, 3, 8), date(2026, 3, 9))


def test_the_ladder_has_five_levels() -> None:
    assert [next_level(level) for level in range(1, 6)] == [2, 3, 4, 5, None]


def test_closing_needs_a_resolution_and_reopening_a_finished_problem() -> None:
    assert [may_close(s) for s in ProblemState] == [False, False, False, True, False]
    assert [may_reopen(s) for s in ProblemState] == [False, False, False, True, True]


def test_figures_count_collected_resolved_rate_median_and_overdue_by_level() -> None:
    figures = problem_figures([
        fact(ProblemState.CLOSED, closed_days=2), fact(ProblemState.CLOSED, closed_days=5),
        fact(ProblemState.CLOSED, closed_days=30), fact(ProblemState.RESOLVED),
        fact(ProblemState.ASSIGNED, level=2), fact(ProblemState.IN_PROGRESS, level=2),
        fact(ProblemState.ASSIGNED, level=4),
        fact(ProblemState.ASSIGNED, deadline=date(2026, 3, 25)),  # not yet due
    ], TODAY)
    assert (figures.collected, figures.resolved) == (8, 4)
    assert figures.rate == Decimal("50.0")
    assert figures.median_days_to_close == Decimal("5.0")
    assert figures.overdue_by_level == {2: 2, 4: 1}
    assert figures.overdue == 3


def test_no_problems_give_no_rate_rather_than_zero() -> None:
    figures = problem_figures([], TODAY)
    assert (figures.collected, figures.rate, figures.median_days_to_close) == (0, None, None)
