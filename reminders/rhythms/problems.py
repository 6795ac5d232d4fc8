"""The problem ladder: each morning, every problem past its deadline climbs one level.

Each climb is its own transaction step under the problem's row lock and writes its messages with
it, so a run repeated after a crash (or by a second scheduler) never climbs twice or tells twice.
The new level's chat hears of it: groups subscribed to `problem_l<N>` (the county weekly meeting
at L2, the city department at L3, …) or to `problem_alerts` (every climb), for their region or
unit; the unit and the lead leader are told too. A level nobody follows goes to the region's
dispatchers, so that no escalation goes unheard.
"""

from __future__ import annotations

import logging

from domain.events import Button, Outgoing
from domain.model import Person, ProblemView
from handlers.context import Texts
from handlers.notify import dispatchers_over, unit_and_leader
from reminders.rhythms.base import GroupScope, RhythmDeps, to_group, to_person
from reminders.scheduler import Due
from storage.repositories.groups import Group
from storage.repositories.projects import ProjectSite

logger = logging.getLogger(__name__)

ALL_CLIMBS = "problem_alerts"


def level_feed(level: int) -> str:
    """The subscription of the chat that deals with problems at `level`."""
    return f"problem_l{level}"


def climb_period(problem: ProblemView) -> str:
    """One climb: "P-2026-0042/L3" (the outbox sends each climb once per recipient)."""
    return f"{problem.number}/L{problem.level}"


def climb_text(t: Texts, problem: ProblemView, site: ProjectSite) -> str:
    return t("problem.escalated", number=problem.number, project=site.name,
             category=t(f"problem.{problem.category.value}"), level=problem.level,
             ladder=t(f"problem_level.{problem.level}"), description=problem.description[:80],
             deadline=t.short_date(problem.deadline))


async def problem_escalation(deps: RhythmDeps, due: Due) -> int:
    today = deps.day(due)
    uow = due.uow
    queued = 0
    regions = await uow.places.regions()
    feeds: dict[int, list[Group]] = {}
    for problem_id in await uow.problems.overdue_ids(today):
        problem = await uow.problems.escalate(problem_id, today, deps.deadlines, due.now)
        if problem is None:
            continue
        site = await uow.projects.site(problem.project_id)
        if site is None:
            continue
        logger.info("problem %s overdue: climbed to L%s", problem.number, problem.level)
        if problem.level not in feeds:
            feeds[problem.level] = [*await uow.groups.subscribed(level_feed(problem.level)),
                                    *await uow.groups.subscribed(ALL_CLIMBS)]
        groups = [g for g in feeds[problem.level] if GroupScope(g, regions).covers(site)]
        t = deps.texts(None)
        for group in {g.id: g for g in groups}.values():
            queued += await to_group(due, group, Outgoing(text=climb_text(t, problem, site)),
                                     kind="problem.escalated", period=climb_period(problem))
        people = await unit_and_leader(uow, problem.assignee_unit_id, site.lead_leader_id)
        if not groups:
            people += await dispatchers_over(due.uow, frozenset({site.region_id}),
                                             regions=regions)
        queued += await _tell(deps, due, problem, site, people)
    return queued


async def _tell(deps: RhythmDeps, due: Due, problem: ProblemView, site: ProjectSite,
                people: list[Person]) -> int:
    queued = 0
    for person in {p.id: p for p in people}.values():
        t = deps.texts(person.language)
        buttons = ((Button(t("problem.update_button"), f"/update {problem.number}"),),)
        queued += await to_person(deps, due, person,
                                  Outgoing(text=climb_text(t, problem, site), buttons=buttons),
                                  kind="problem.escalated", period=climb_period(problem))
    return queued
