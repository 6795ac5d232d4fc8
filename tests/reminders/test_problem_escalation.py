"""The problem ladder: an overdue problem climbs one level a morning, each level's chat hears of
it once, and a resolved problem stays where it is."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from domain.clock import FixedClock
from domain.model import ProblemCategory, ProblemState
from storage import models as m
from storage.repositories.problems import NewProblem, ProblemUpdate
from storage.uow import UnitOfWorkFactory
from tests.reminders.test_rhythms import at, bind, outbox, scheduler, table
from tests.world import World


async def file(uow: UnitOfWorkFactory, world: World, clock: FixedClock, *, urgent: bool,
               project: str = "HB-003") -> int:
    async with uow() as u:
        problem = await u.problems.open(NewProblem(
            project_id=world.projects[project], category=ProblemCategory.LAND,
            description="养殖场用地指标未落实", urgent=urgent, reporter_id=world.dispatcher,
            assignee_unit_id=world.unit_farming,
            deadline=date(2026, 11, 25 if urgent else 29)), clock.now(), 2026)
        await u.commit()
    return problem.id


async def test_an_overdue_problem_climbs_one_level_a_day_and_each_level_hears_once(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    county_meeting = await bind(uow, clock, region=world.hanbin, subscriptions=["problem_l2"],
                                by=world.dispatcher, chat="-100")
    await file(uow, world, clock, urgent=False)
    resolved = await file(uow, world, clock, urgent=False, project="HB-002")
    async with uow() as u:
        await u.problems.record_update(ProblemUpdate(resolved, world.unit_admin, "resolved",
                                                     ProblemState.RESOLVED, "已解决"),
                                       clock.now())
        await u.commit()

    clock.set(at(date(2026, 11, 29), 8, 30))  # the deadline day itself: not overdue yet
    await scheduler(uow, clock).run_due()
    assert await outbox(uow, "problem.escalated") == []

    clock.set(at(date(2026, 11, 30), 8, 30))
    records = await scheduler(uow, clock).run_due()
    assert ("problem_escalation", "ran") in [(r.rhythm, r.outcome) for r in records]
    sent = await outbox(uow, "problem.escalated")
    assert {s.recipient for s in sent} == {f"group:{county_meeting}",
                                           f"person:{world.unit_admin}"}
    assert all("L2 县区周例会研究" in s.text and "12月7日" in s.text for s in sent)
    assert await scheduler(uow, clock).run_due() == []  # a restart: nothing again

    clock.set(at(date(2026, 12, 8), 8, 30))  # L2's deadline passed: L3, which no chat follows
    await scheduler(uow, clock).run_due()
    climbed = [s for s in await outbox(uow, "problem.escalated") if "L3" in s.text]
    assert {s.recipient for s in climbed} == {f"person:{world.unit_admin}",
                                              f"person:{world.dispatcher}"}

    problems = await table(uow, m.Problem, m.Problem.id)
    assert [(p.level, p.deadline) for p in problems] == [(3, date(2026, 12, 15)),
                                                         (1, date(2026, 11, 29))]
    async with uow() as u:
        events = list(await u.session.scalars(
            select(m.ProblemEvent.note).where(m.ProblemEvent.kind == "escalated")
            .order_by(m.ProblemEvent.id)))
        audit = list(await u.session.scalars(
            select(m.AuditEntry.after).where(m.AuditEntry.action == "escalated")
            .order_by(m.AuditEntry.id)))
    assert events == ["L2", "L3"]
    assert [a["level"] for a in audit if a] == [2, 3]


async def test_an_urgent_problem_gets_three_days_at_each_level(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    await file(uow, world, clock, urgent=True)
    clock.set(at(date(2026, 11, 26), 8, 30))
    await scheduler(uow, clock).run_due()
    problems = await table(uow, m.Problem, m.Problem.id)
    assert [(p.level, p.deadline) for p in problems] == [(2, date(2026, 11, 29))]


async def test_the_top_of_the_ladder_is_l5(uow: UnitOfWorkFactory, world: World,
                                           clock: FixedClock) -> None:
    problem_id = await file(uow, world, clock, urgent=True)
    for day in (26, 30):
        clock.set(at(date(2026, 11, day), 8, 30))
        await scheduler(uow, clock).run_due()
    for day in (4, 8, 12):
        clock.set(at(date(2026, 12, day), 8, 30))
        await scheduler(uow, clock).run_due()
    async with uow() as u:
        problem = await u.problems.get(problem_id)
    assert problem is not None and problem.level == 5
