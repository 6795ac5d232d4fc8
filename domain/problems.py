"""The problem closed loop (问题清单销号), without the database.

States: open → assigned (交办) → in progress → resolved → closed (销号); a reopened problem goes
back to assigned. Each has a deadline (7 days, 3 when urgent). A problem still unresolved after
its deadline climbs the five-level ladder of Luohe's closed loop (seed 004) one level at a time,
each level with a fresh deadline:

    L1 project steward (首席服务官) → L2 county weekly meeting (县区周例会) → L3 city department
    (市直部门专题破解) → L4 city weekly meeting (市级周例会) → L5 party–government joint meeting
    (市党政联席会)
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from domain.model import ProblemState

TOP_LEVEL = 5
OPEN_STATES = (ProblemState.OPEN, ProblemState.ASSIGNED, ProblemState.IN_PROGRESS)
"""Still to be worked on by the unit: these escalate when overdue."""
UNCLOSED_STATES = (*OPEN_STATES, ProblemState.RESOLVED)
"""Not yet crossed off: a resolved problem waits for its reporter (or a dispatcher) to close it."""


@dataclass(frozen=True, slots=True)
class Deadlines:
    normal_days: int = 7
    urgent_days: int = 3

    def from_day(self, day: date, *, urgent: bool) -> date:
        return day + timedelta(days=self.urgent_days if urgent else self.normal_days)


def overdue(state: ProblemState, deadline: date, today: date) -> bool:
    return state in OPEN_STATES and today > deadline


def next_level(level: int) -> int | None:
    """The ladder's next step, or None at the top (L5 stays, and keeps being listed)."""
    return level + 1 if level < TOP_LEVEL else None


def may_close(state: ProblemState) -> bool:
    """Only a resolved problem is crossed off: the unit has said it is done, with a photo."""
    return state is ProblemState.RESOLVED


def may_reopen(state: ProblemState) -> bool:
    return state in (ProblemState.RESOLVED, ProblemState.CLOSED)


@dataclass(frozen=True, slots=True)
class ProblemFacts:
    """What the figures need of one problem."""

    project_id: int
    state: ProblemState
    level: int
    deadline: date
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ProblemFigures:
    """Collected, resolved, the rate, the median days to close, and what is overdue by level
    (seed 002 reports them as "63 collected, 56 solved")."""

    collected: int
    resolved: int
    rate: Decimal | None
    median_days_to_close: Decimal | None
    overdue_by_level: dict[int, int]

    @property
    def overdue(self) -> int:
        return sum(self.overdue_by_level.values())


@dataclass(frozen=True, slots=True)
class ProblemTally:
    """One project's problems as the figures count them (summed in the database)."""

    collected: int
    resolved: int  # resolved or closed
    overdue_by_level: dict[int, int]
    close_seconds: tuple[int, ...]  # from filing to 销号, for each closed problem


def tally(problems: Iterable[ProblemFacts], today: date) -> ProblemTally:
    """The tally of problems at hand (what the database sums for `ProblemsRepository.tallies`)."""
    rows = list(problems)
    done = [p for p in rows if p.state in (ProblemState.RESOLVED, ProblemState.CLOSED)]
    late = Counter(p.level for p in rows if overdue(p.state, p.deadline, today))
    seconds = tuple(round((p.closed_at - p.created_at).total_seconds()) for p in rows
                    if p.state is ProblemState.CLOSED and p.closed_at is not None)
    return ProblemTally(len(rows), len(done), dict(late), seconds)


def figures_of(tallies: Iterable[ProblemTally]) -> ProblemFigures:
    """Resolved counts resolved and closed ones; days to close run from filing to 销号."""
    collected = resolved = 0
    late: Counter[int] = Counter()
    seconds: list[int] = []
    for one in tallies:
        collected += one.collected
        resolved += one.resolved
        if one.overdue_by_level:
            late.update(one.overdue_by_level)
        seconds += one.close_seconds
    days = [s / 86400 for s in seconds]
    rate = (Decimal(100 * resolved) / collected).quantize(Decimal("0.1")) if collected else None
    median = Decimal(str(statistics.median(days))).quantize(Decimal("0.1")) if days else None
    return ProblemFigures(collected, resolved, rate, median,
                          {level: n for level, n in sorted(late.items()) if n})


def problem_figures(problems: Iterable[ProblemFacts], today: date) -> ProblemFigures:
    return figures_of([tally(problems, today)])
