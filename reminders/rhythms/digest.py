"""What every digest shares: how a project reads in a list, the days owed, the completion chart,
and posting a digest (text and chart) to a group chat."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

from domain.events import Outgoing
from domain.figures import ProjectFigures, completion, lag, standings
from domain.progress import light_for, planned_pct
from handlers.context import Texts
from reminders.chart_types import Bar
from reminders.rhythms.base import RhythmDeps, draw, to_group
from reminders.scheduler import Due
from storage.repositories.groups import Group

MAX_BARS = 20


def project_line(project: ProjectFigures) -> str:
    return f"· {project.code} {project.name}"


def lag_line(t: Texts, project: ProjectFigures, day: date) -> str:
    return t("rhythm.lag_line", code=project.code, name=project.name,
             rate=t.number(completion(project) or 0), lag=t.number(lag(project, day) or 0))


def day_start(deps: RhythmDeps, day: date) -> datetime:
    """Local midnight at the start of `day`."""
    return datetime.combine(day, time(0), tzinfo=deps.zone)


def days_owed(deps: RhythmDeps, projects: list[ProjectFigures], start: date,
              end: date) -> dict[int, int]:
    """Per project, the report days due from `start` to `end` (0 unless under construction)."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    workdays = sum(deps.calendar.is_workday(d) for d in days)
    return {p.id: 0 if not p.under_construction else len(days) if p.works_rest_days
            else workdays for p in projects}


def completion_chart(deps: RhythmDeps, t: Texts, projects: list[ProjectFigures],
                     day: date) -> bytes:
    """Completion by unit (or by project in a single unit's group) against the plan line."""
    units = standings(projects, by=lambda p: (p.unit_id, p.unit_name), as_of=day)
    plan = float(planned_pct(day))
    if len(units) > 1:
        bars = [Bar(s.name, float(s.rate or 0),
                    None if s.rate is None else light_for(Decimal(plan) - s.rate).value)
                for s in units]
    else:
        ranked = sorted((p for p in projects if completion(p) is not None),
                        key=lambda p: completion(p) or 0)
        bars = [Bar(p.name, float(completion(p) or 0), p.light.value if p.light else None)
                for p in ranked]
    return deps.charts.bars(t("rhythm.chart_completion", day=t.short_date(day)),
                            bars[:MAX_BARS], unit="%", reference=plan,
                            reference_label=t("rhythm.chart_plan"))


class CompletionCharts:
    """The completion charts of one run, one drawing per distinct set of projects: groups that
    follow the same scope (a county's HQ group and its leaders' group) share it."""

    def __init__(self, deps: RhythmDeps, t: Texts, day: date, *, kind: str) -> None:
        self._deps, self._t, self._day, self._kind = deps, t, day, kind
        self._drawn: dict[tuple[int, ...], bytes | None] = {}

    async def of(self, projects: list[ProjectFigures]) -> bytes | None:
        key = tuple(p.id for p in projects)
        if key not in self._drawn:
            self._drawn[key] = await draw(
                self._deps, self._kind,
                partial(completion_chart, self._deps, self._t, projects, self._day))
        return self._drawn[key]


async def post_digest(due: Due, group: Group, text: str, *, kind: str, period: str,
                      image: bytes | None = None) -> bool:
    """Queue a digest for a group chat, with its chart when one was drawn."""
    message = Outgoing(text=text, image=image, image_name=f"{kind.replace('.', '-')}.png")
    return await to_group(due, group, message, kind=kind, period=period)
