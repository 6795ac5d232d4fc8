"""A project's figures as the rhythms see them, and the arithmetic of rates and rankings.

Pure: storage fills `ProjectFigures` with aggregates computed in the database; everything here
works on those few thousand rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from domain.model import Light, ProblemCategory, SiteStatus, Stage
from domain.progress import ONE_DECIMAL, completion_pct, planned_pct


@dataclass(frozen=True, slots=True)
class ProjectFigures:
    """One active project as a rhythm sees it on `as_of`."""

    id: int
    code: str
    name: str
    region_id: int
    unit_id: int
    unit_name: str
    lead_leader_id: int | None
    stage: Stage
    light: Light | None
    works_rest_days: bool
    planned_start: date | None
    actual_start: date | None
    planned_end: date | None
    actual_end: date | None
    annual_plan: Decimal | None
    shares: tuple[int, int, int, int]
    last_report: date | None
    progress_pct: Decimal | None
    site_status: SiteStatus | None
    ytd_investment: Decimal | None
    reported_days: int  # reports in the window asked for
    open_problems: int = 0
    top_level: int = 0  # the highest escalation level among open problems, 0 if none

    @property
    def under_construction(self) -> bool:
        return self.stage is Stage.CONSTRUCTION

    def reported_on(self, day: date) -> bool:
        return self.last_report == day


@dataclass(frozen=True, slots=True)
class OpenProblem:
    number: str
    project_id: int
    category: ProblemCategory
    description: str
    urgent: bool
    level: int
    deadline: date



def completion(project: ProjectFigures) -> Decimal | None:
    """Year-to-date investment as a percentage of the annual plan (None without a plan)."""
    if project.annual_plan is None:
        return None
    return completion_pct(project.ytd_investment or Decimal(0), project.annual_plan)


class Started(Protocol):
    """Anything with an actual start: a project's figures, its summary."""

    @property
    def actual_start(self) -> date | None: ...


def plan_to_date(project: Started, day: date) -> Decimal:
    """The share of the annual plan due by `day` (time-proportional), in percent.

    A project that started this year is due in proportion to the time since its start, not
    since 1 January: a site that broke ground in March is not three months behind on day one.
    """
    start = project.actual_start
    if start is None or start.year != day.year or start.month == start.day == 1:
        return planned_pct(day)
    if day < start:
        return Decimal(0)
    elapsed = Decimal((day - start).days + 1)
    span = Decimal((date(day.year, 12, 31) - start).days + 1)
    return (elapsed * 100 / span).quantize(ONE_DECIMAL)


def lag(project: ProjectFigures, day: date) -> Decimal | None:
    """Points behind the time-proportional plan on `day` (negative: ahead)."""
    done = completion(project)
    return None if done is None else plan_to_date(project, day) - done


def start_due(project: ProjectFigures, *, year: int, until: date) -> bool:
    """Planned to start this year, by `until` (the projects a start rate counts)."""
    start = project.planned_start
    return start is not None and date(year, 1, 1) <= start <= until


def started(project: ProjectFigures, until: date) -> bool:
    return project.actual_start is not None and project.actual_start <= until


@dataclass(frozen=True, slots=True)
class Standing:
    """A unit or region in a ranking: investment completion and start rate."""

    key: int
    name: str
    projects: int
    done: Decimal
    plan: Decimal
    rate: Decimal | None  # completion, % of the annual plan
    starts_due: int
    started: int

    @property
    def start_rate(self) -> Decimal | None:
        if not self.starts_due:
            return None
        return (Decimal(100) * self.started / self.starts_due).quantize(ONE_DECIMAL)


Grouping = Callable[[ProjectFigures], tuple[int, str]]


def standings(projects: Iterable[ProjectFigures], *, by: Grouping,
              as_of: date) -> list[Standing]:
    """Group the projects (by unit, say) and rank the groups, best completion rate first."""
    groups: dict[tuple[int, str], list[ProjectFigures]] = {}
    for project in projects:
        groups.setdefault(by(project), []).append(project)
    found = []
    for (key, name), members in groups.items():
        planned = [p for p in members if p.annual_plan]
        done = sum((p.ytd_investment or Decimal(0) for p in planned), Decimal(0))
        plan = sum((p.annual_plan or Decimal(0) for p in planned), Decimal(0))
        due = [p for p in members if start_due(p, year=as_of.year, until=as_of)]
        found.append(Standing(key, name, len(members), done, plan, completion_pct(done, plan),
                              len(due), sum(started(p, as_of) for p in due)))
    return sorted(found, key=lambda s: (s.rate is None, -(s.rate or 0), s.name))


def light_counts(projects: Iterable[ProjectFigures]) -> dict[Light, int]:
    counts = dict.fromkeys(Light, 0)
    for project in projects:
        if project.light is not None:
            counts[project.light] += 1
    return counts
