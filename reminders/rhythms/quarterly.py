"""每季必考, the quarterly review: on the first day of a quarter, for the one before, the start
rate of the year's new projects against 40/80/100 %, investment against the plan shares
(20/50/80/100 %), the proposed awards (开工奖, 推进奖, 竣工奖) and the laggards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from domain.figures import ProjectFigures, completion, started
from domain.model import Light
from domain.periods import QUARTER_START_TARGETS, Period, quarter_of, quarter_target
from domain.progress import ONE_DECIMAL
from handlers.context import Texts
from reminders.rhythms.base import GroupScope, RhythmDeps, percent
from reminders.rhythms.digest import CompletionCharts, post_digest, project_line
from reminders.scheduler import Due

LAGGARD_POINTS = Decimal(20)  # behind the quarter's share by this much
AHEAD_POINTS = Decimal(10)  # ahead of it by this much earns the 推进奖
MAX_ROWS = 10


@dataclass(frozen=True, slots=True)
class QuarterFacts:
    new_projects: int  # planned to start this year
    started: int  # of them, started by the quarter's end
    start_target: int  # %
    done: Decimal
    target: Decimal  # 万元 due by the quarter's end by the plan shares
    plan: Decimal
    on_time: list[ProjectFigures]  # 开工奖
    ahead: list[ProjectFigures]  # 推进奖
    completed: list[ProjectFigures]  # 竣工奖
    laggards: list[ProjectFigures]


def _percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL) if whole else None


def quarter_facts(projects: list[ProjectFigures], quarter: Period) -> QuarterFacts:
    end, year = quarter.end, quarter.end.year
    new = [p for p in projects
           if p.planned_start is not None and p.planned_start.year == year]
    planned = [p for p in projects if p.annual_plan]
    share = {p.id: Decimal(quarter_target(p.shares, quarter.part)) for p in planned}
    target = sum(((p.annual_plan or Decimal(0)) * share[p.id] / 100 for p in planned),
                 Decimal(0))

    def behind(p: ProjectFigures) -> Decimal:
        return share[p.id] - (completion(p) or Decimal(0))

    return QuarterFacts(
        new_projects=len(new), started=sum(started(p, end) for p in new),
        start_target=QUARTER_START_TARGETS[quarter.part - 1],
        done=sum((p.ytd_investment or Decimal(0) for p in planned), Decimal(0)),
        target=target, plan=sum((p.annual_plan or Decimal(0) for p in planned), Decimal(0)),
        on_time=[p for p in new if p.actual_start is not None and p.actual_start in quarter
                 and p.planned_start is not None and p.actual_start <= p.planned_start],
        ahead=sorted((p for p in planned if p.under_construction
                      and behind(p) <= -AHEAD_POINTS), key=behind),
        completed=[p for p in projects if p.actual_end is not None and p.actual_end in quarter],
        laggards=sorted((p for p in planned if p.under_construction
                         and (behind(p) >= LAGGARD_POINTS or p.light is Light.RED)),
                        key=lambda p: -behind(p)))


async def quarterly_review(deps: RhythmDeps, due: Due) -> int:
    groups = await due.uow.groups.subscribed("quarterly_review")
    if not groups:
        return 0
    as_of = deps.day(due) - timedelta(days=1)
    quarter = quarter_of(as_of)
    projects = await due.uow.figures.projects(as_of, since=quarter.start)
    regions = await due.uow.places.regions()
    t = deps.texts(None)
    charts = CompletionCharts(deps, t, as_of, kind="digest.quarterly")
    queued = 0
    for group in groups:
        mine = GroupScope(group, regions).select(projects)
        queued += await post_digest(due, group,
                                    quarter_text(t, quarter, quarter_facts(mine, quarter)),
                                    kind="digest.quarterly", period=quarter.key,
                                    image=await charts.of(mine))
    return queued


def _names(t: Texts, projects: list[ProjectFigures]) -> list[str]:
    return [project_line(p) for p in projects[:MAX_ROWS]] or [t("rhythm.none")]


def quarter_text(t: Texts, quarter: Period, facts: QuarterFacts) -> str:
    start_rate = _percent(facts.started, facts.new_projects)
    rate = _percent(facts.done, facts.plan)
    target_rate = _percent(facts.target, facts.plan)
    lines = [t("rhythm.quarterly_title", year=quarter.start.year, quarter=quarter.part),
             t("rhythm.quarterly_starts", started=facts.started, new=facts.new_projects,
               rate=percent(t, start_rate),
               target=facts.start_target),
             t("rhythm.quarterly_investment", done=t.number(facts.done),
               plan=t.number(facts.plan), rate=percent(t, rate),
               target=t.number(target_rate) if target_rate is not None else "—"),
             t("rhythm.award_on_time", count=len(facts.on_time)), *_names(t, facts.on_time),
             t("rhythm.award_ahead", count=len(facts.ahead)), *_names(t, facts.ahead),
             t("rhythm.award_completed", count=len(facts.completed)),
             *_names(t, facts.completed),
             t("rhythm.laggards", count=len(facts.laggards)), *_names(t, facts.laggards)]
    return "\n".join(lines)
