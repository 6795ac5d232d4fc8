"""每月必商, the monthly consultation: on the 1st, for the month before, units and counties
ranked by investment completion and start rate (按月通报排名), the open problems that need factor
support (要素保障: land, water, energy, funds), and in July the 双过半 check."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from domain.figures import OpenProblem, ProjectFigures, Standing, standings
from domain.model import ProblemCategory, Region, RegionLevel
from domain.periods import month_of
from handlers.context import Texts
from reminders.rhythms.base import GroupScope, RhythmDeps, names, percent
from reminders.rhythms.digest import CompletionCharts, post_digest
from reminders.scheduler import Due

FACTOR_CATEGORIES = (ProblemCategory.LAND, ProblemCategory.DEMOLITION,
                     ProblemCategory.UTILITIES, ProblemCategory.FUNDS)
HALF = Decimal(50)
MAX_ROWS = 10


def counties(regions: list[Region]) -> dict[int, Region]:
    """Each region's county (or the region itself when it is above county level)."""
    by_id = {r.id: r for r in regions}
    found: dict[int, Region] = {}
    for region in regions:
        current = region
        while current.level is RegionLevel.TOWN and current.parent_id in by_id:
            current = by_id[current.parent_id]
        found[region.id] = current
    return found


async def monthly_review(deps: RhythmDeps, due: Due) -> int:
    groups = await due.uow.groups.subscribed("monthly_ranking")
    if not groups:
        return 0
    as_of = deps.day(due) - timedelta(days=1)  # the last day of the month reviewed
    month = month_of(as_of)
    projects = await due.uow.figures.projects(as_of, since=month.start)
    problems = await due.uow.figures.open_problems(FACTOR_CATEGORIES)
    regions = await due.uow.places.regions()
    county_of = counties(regions)
    t = deps.texts(None)
    charts = CompletionCharts(deps, t, as_of, kind="digest.monthly")
    queued = 0
    for group in groups:
        scope = GroupScope(group, regions)
        mine = scope.select(projects)
        ids = {p.id for p in mine}
        text = month_text(t, as_of, mine, county_of=county_of,
                          problems=[p for p in problems if p.project_id in ids])
        queued += await post_digest(due, group, text, kind="digest.monthly",
                                    period=month.key,
                                    image=await charts.of(mine))
    return queued


def _ranking(t: Texts, rows: list[Standing]) -> list[str]:
    return [t("rhythm.rank_line", rank=i, name=s.name,
              rate=percent(t, s.rate), starts=percent(t, s.start_rate))
            for i, s in enumerate(rows[:MAX_ROWS], start=1)]


def month_text(t: Texts, as_of: date, projects: list[ProjectFigures], *,
               county_of: dict[int, Region], problems: list[OpenProblem]) -> str:
    by_unit = standings(projects, by=lambda p: (p.unit_id, p.unit_name), as_of=as_of)
    by_county = standings(projects, by=lambda p: (county_of[p.region_id].id,
                                                  county_of[p.region_id].name), as_of=as_of)
    by_id = {p.id: p for p in projects}
    lines = [t("rhythm.monthly_title", month=as_of.month, year=as_of.year)]
    if len(by_county) > 1:
        lines += [t("rhythm.monthly_by_county"), *_ranking(t, by_county)]
    lines += [t("rhythm.monthly_by_unit"), *_ranking(t, by_unit)]
    lines.append(t("rhythm.monthly_factors", count=len(problems)))
    lines += [t("rhythm.factor_line", number=p.number, name=by_id[p.project_id].name,
                category=t(f"problem.{p.category.value}"), level=p.level,
                description=p.description[:40])
              for p in problems[:MAX_ROWS]]
    if as_of.month == 6:
        lines += half_year_check(t, by_unit)
    return "\n".join(lines)


def half_year_check(t: Texts, by_unit: list[Standing]) -> list[str]:
    """双过半: by the end of June, half the annual plan done (time and task both past half)."""
    planned = [s for s in by_unit if s.rate is not None]
    passed = [s for s in planned if (s.rate or 0) >= HALF]
    done = sum((s.done for s in planned), Decimal(0))
    plan = sum((s.plan for s in planned), Decimal(0))
    overall = (done * 100 / plan).quantize(Decimal("0.1")) if plan else None
    lines = [t("rhythm.half_year", passed=len(passed), units=len(planned),
               rate=percent(t, overall))]
    failed = [s for s in planned if (s.rate or 0) < HALF]
    if failed:
        lines.append(t("rhythm.half_year_failed",
                       names=names((s.name for s in failed), limit=MAX_ROWS, t=t)))
    return lines
