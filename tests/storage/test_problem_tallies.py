"""The year's problem figures, summed in the database, agree with counting the rows by hand."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select

from domain.clock import FixedClock
from domain.model import ProblemCategory, ProblemState
from domain.problems import ProblemFacts, figures_of, problem_figures, tally
from domain.scope import project_scope
from storage import models as m
from storage.uow import UnitOfWorkFactory
from tests.conftest import ZONE
from tests.world import World

TODAY = date(2026, 11, 22)
YEAR_START = datetime(2026, 1, 1, tzinfo=ZONE)


async def crafted(uow: UnitOfWorkFactory, world: World) -> None:
    """120 problems of every state and level over the four projects, some filed last year."""
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not a secret
    async with uow() as u:
        for n in range(120):
            created = datetime(2026, 1, 1, 8, tzinfo=ZONE) + timedelta(
                days=rng.randrange(-30, 320), seconds=rng.randrange(86400))
            state = rng.choice(list(ProblemState))
            closed = (created + timedelta(seconds=rng.randrange(3600, 40 * 86400))
                      if state is ProblemState.CLOSED else None)
            u.session.add(m.Problem(
                number=f"P-2026-{n + 1:04d}", year=2026, seq=n + 1,
                project_id=rng.choice(sorted(world.projects.values())),
                category=ProblemCategory.FUNDS, description="资金", urgent=False, state=state,
                level=rng.randint(1, 5), reporter_id=world.liaison,
                assignee_unit_id=world.unit_industry,
                deadline=TODAY + timedelta(days=rng.randrange(-20, 10)), created_at=created,
                resolved_at=None, closed_at=closed))
        await u.commit()


async def by_hand(uow: UnitOfWorkFactory, project_ids: set[int]) -> list[ProblemFacts]:
    async with uow() as u:
        rows = await u.session.scalars(select(m.Problem).where(m.Problem.created_at >= YEAR_START))
        return [ProblemFacts(p.project_id, p.state, p.level, p.deadline, p.created_at,
                             p.closed_at) for p in rows if p.project_id in project_ids]


async def test_tallies_per_project_match_the_rows(uow: UnitOfWorkFactory, world: World) -> None:
    await crafted(uow, world)
    async with uow() as u:
        tallies = await u.problems.tallies(None, YEAR_START, TODAY)
    facts = await by_hand(uow, set(world.projects.values()))
    assert set(tallies) == {f.project_id for f in facts}
    for project_id, counted in tallies.items():
        mine = [f for f in facts if f.project_id == project_id]
        expected = tally(mine, TODAY)
        assert (counted.collected, counted.resolved, counted.overdue_by_level) == (
            expected.collected, expected.resolved, expected.overdue_by_level)
        # whole seconds: the database may drop the fraction where Python rounds it
        assert sorted(counted.close_seconds) == sorted(expected.close_seconds) or all(
            abs(a - b) <= 1 for a, b in zip(sorted(counted.close_seconds),
                                            sorted(expected.close_seconds), strict=True))
    assert figures_of(tallies.values()) == problem_figures(facts, TODAY)


async def test_tallies_in_a_scope_leave_out_other_counties(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    await crafted(uow, world)
    async with uow() as u:
        xunyang_liaison = await u.people.get(world.outsider_liaison)
        assert xunyang_liaison is not None
        scope = project_scope(xunyang_liaison, await u.places.regions())
        visible = await u.projects.visible_ids(scope)
        tallies = await u.problems.tallies(scope, YEAR_START, TODAY)
    assert visible and set(tallies) <= visible
    assert figures_of(tallies.values()) == problem_figures(await by_hand(uow, visible), TODAY)
