"""每周必访, the weekly visit: leaders reminded on Monday and Thursday of the projects they
have not visited this week, and the county leaders' weekly digest on Friday, with a chart."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from domain.events import Button, Outgoing
from domain.figures import ProjectFigures, lag, light_counts
from domain.model import Light, Stage
from domain.periods import week_of
from domain.problems import figures_of
from handlers.context import Texts
from handlers.problems import figures_text
from reminders.rhythms.base import GroupScope, RhythmDeps, percent, to_person
from reminders.rhythms.digest import (
    CompletionCharts,
    day_start,
    days_owed,
    lag_line,
    post_digest,
    project_line,
)
from reminders.scheduler import Due

MAX_BUTTONS = 6
VISITED_STAGES = (Stage.PRELIMINARY, Stage.CONSTRUCTION)


async def visit_reminder(deps: RhythmDeps, due: Due) -> int:
    """Each lead leader: the projects they lead and have not visited this week yet."""
    day = deps.day(due)
    week = week_of(day)
    projects = [p for p in await due.uow.figures.projects(day, since=day)
                if p.stage in VISITED_STAGES and p.lead_leader_id is not None]
    visited = await due.uow.figures.visits(week.start, day)
    owed: dict[int, list[ProjectFigures]] = defaultdict(list)
    for project in projects:
        leader_id = project.lead_leader_id
        if leader_id is not None and leader_id not in visited.get(project.id, set()):
            owed[leader_id].append(project)
    people = await due.uow.people.by_ids(owed)
    queued = 0
    for leader_id, owed_projects in owed.items():
        if (leader := people.get(leader_id)) is None:
            continue
        t = deps.texts(leader.language)
        text = "\n".join([t("rhythm.visit_reminder", count=len(owed_projects)),
                          *map(project_line, owed_projects)])
        buttons = tuple((Button(t("rhythm.visit_button", code=p.code), f"/visit {p.code}"),)
                        for p in owed_projects[:MAX_BUTTONS])
        queued += await to_person(deps, due, leader, Outgoing(text=text, buttons=buttons),
                                  kind="remind.visit", period=f"{week.key}@{day.isoformat()}")
    return queued


async def weekly_digest(deps: RhythmDeps, due: Due) -> int:
    """Each subscribed group: the week's reporting, problems, visits and lights, and a chart."""
    day = deps.day(due)
    groups = await due.uow.groups.subscribed("weekly_digest")
    if not groups:
        return 0
    week = week_of(day)
    start, end = day_start(deps, week.start), day_start(deps, day + timedelta(days=1))
    projects = await due.uow.figures.projects(day, since=week.start)
    created = await due.uow.figures.problems_created(start, end)
    resolved = await due.uow.figures.problems_resolved(start, end)
    visits = await due.uow.figures.visits(week.start, day)
    year_problems = await due.uow.problems.tallies(
        None, day_start(deps, day.replace(month=1, day=1)), day)
    regions = await due.uow.places.regions()
    owed = days_owed(deps, projects, week.start, day)
    t = deps.texts(None)
    charts = CompletionCharts(deps, t, day, kind="digest.weekly")
    queued = 0
    for group in groups:
        scope = GroupScope(group, regions)
        mine = scope.select(projects)
        facts = WeekFacts(
            owed=sum(owed[p.id] for p in mine),
            reported=sum(p.reported_days for p in mine if p.under_construction),
            created=sum(created.get(p.id, 0) for p in mine),
            resolved=sum(resolved.get(p.id, 0) for p in mine),
            visited=sum(1 for p in mine if visits.get(p.id)))
        problems = figures_of(year_problems[p.id] for p in mine if p.id in year_problems)
        text = "\n".join([week_text(t, day, mine, facts), t("digest.problems_year"),
                          figures_text(t, problems)])
        queued += await post_digest(due, group, text,
                                    kind="digest.weekly", period=week.key,
                                    image=await charts.of(mine))
    return queued


@dataclass(frozen=True, slots=True, kw_only=True)
class WeekFacts:
    owed: int  # report-days due from sites under construction
    reported: int
    created: int  # problems
    resolved: int
    visited: int  # projects visited by a leader


def week_text(t: Texts, day: date, projects: list[ProjectFigures], facts: WeekFacts) -> str:
    lights = light_counts(projects)
    building = [p for p in projects if p.under_construction]
    rate = percent(t, round(100 * min(facts.reported, facts.owed) / facts.owed, 1)
                   if facts.owed else None)
    worst = sorted((p for p in building if p.light is Light.RED),
                   key=lambda p: -(lag(p, day) or 0))[:5]
    lines = [t("rhythm.weekly_title", week=week_of(day).key, day=t.short_date(day)),
             t("rhythm.weekly_projects", projects=len(projects), building=len(building)),
             t("rhythm.weekly_reports", reported=facts.reported, owed=facts.owed, rate=rate),
             t("rhythm.weekly_problems", created=facts.created, resolved=facts.resolved),
             t("rhythm.weekly_visits", visited=facts.visited),
             t("rhythm.lights", green=lights[Light.GREEN], yellow=lights[Light.YELLOW],
               red=lights[Light.RED])]
    if worst:
        lines.append(t("rhythm.weekly_red"))
        lines += [lag_line(t, p, day) for p in worst]
    return "\n".join(lines)
