"""The lookup index against the database: its entries, the stamp that tells a process (or
another instance) its index is stale, and the scope rule in memory agreeing with the SQL one."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Executable, delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.model import Category, ProjectLevel, Stage
from domain.scope import ProjectScope, sees_project
from handlers.lookup import ProjectIndex
from storage import models as m
from storage.repositories.projects import IndexStamp, NewProject
from storage.uow import UnitOfWorkFactory
from tests.world import World


def new_project(code: str, name: str, region: int, unit: int, *aliases: str) -> NewProject:
    return NewProject(code=code, name=name, region_id=region, unit_id=unit,
                      level=ProjectLevel.COUNTY, category=Category.INDUSTRIAL,
                      stage=Stage.CONSTRUCTION, total_investment=Decimal(1000), aliases=aliases)


async def stamp(uow: UnitOfWorkFactory) -> IndexStamp:
    async with uow() as u:
        return await u.projects.index_stamp()


async def edit(engine: AsyncEngine, *statements: Executable) -> None:
    """A change made outside this process's repositories (another instance, an import)."""
    async with engine.begin() as conn:
        for statement in statements:
            await conn.execute(statement)


async def test_entries_hold_names_aliases_and_what_the_scope_reads(
        uow: UnitOfWorkFactory, world: World) -> None:
    async with uow() as u:
        entries = {e.code: e for e in await u.projects.index_entries()}
    assert list(entries) == ["HB-001", "HB-002", "HB-003", "XY-001"]
    first = entries["HB-001"]
    assert first.name == "汉滨区毛绒文创总部产业园建设项目"
    assert first.aliases == ("毛绒园", "毛绒文创产业园")
    assert (first.region_id, first.unit_id) == (world.hanbin, world.unit_industry)
    assert first.lead_leader_id == world.leader
    assert first.liaison_ids == {world.liaison}
    assert entries["XY-001"].liaison_ids == {world.outsider_liaison}
    assert entries["HB-003"].lead_leader_id is None and entries["HB-003"].aliases == ()


async def test_inactive_projects_are_not_in_the_index(uow: UnitOfWorkFactory, world: World,
                                                      engine: AsyncEngine) -> None:
    await edit(engine, update(m.Project).where(m.Project.id == world.projects["HB-002"])
               .values(active=False))
    async with uow() as u:
        assert [e.code for e in await u.projects.index_entries()] == ["HB-001", "HB-003",
                                                                      "XY-001"]


async def test_the_stamp_stays_while_nothing_changes(uow: UnitOfWorkFactory,
                                                     world: World) -> None:
    assert await stamp(uow) == await stamp(uow)


async def test_the_stamp_changes_with_every_kind_of_change(
        uow: UnitOfWorkFactory, world: World, engine: AsyncEngine, clock: FixedClock) -> None:
    hb1, hb2, xy1 = world.projects["HB-001"], world.projects["HB-002"], world.projects["XY-001"]
    later = clock.now() + timedelta(minutes=5)
    project = m.Project.id
    changes: dict[str, list[Executable]] = {
        "renamed": [update(m.Project).where(project == hb2)
                    .values(name="汉滨区数字经济产业园（二期）", updated_at=later)],
        "renamed, same length": [update(m.Project).where(project == hb2)
                                 .values(name="汉滨区数字经济创业园（二期）",
                                         updated_at=later + timedelta(minutes=1))],
        "alias added": [insert(m.ProjectAlias).values(project_id=hb2, alias="数字园")],
        "alias removed": [delete(m.ProjectAlias).where(m.ProjectAlias.alias == "毛绒园")],
        "liaisons swapped": [
            update(m.ProjectLiaison).where(m.ProjectLiaison.project_id == hb1)
            .values(person_id=world.outsider_liaison),
            update(m.ProjectLiaison).where(m.ProjectLiaison.project_id == xy1)
            .values(person_id=world.liaison)],
        "lead leader changed": [update(m.Project).where(project == hb1)
                                .values(lead_leader_id=world.dispatcher)],
        "moved to another unit": [update(m.Project).where(project == hb1)
                                  .values(unit_id=world.unit_farming)],
        "deactivated": [update(m.Project).where(project == hb2).values(active=False)],
    }
    seen = [await stamp(uow)]
    for what, statements in changes.items():
        await edit(engine, *statements)
        seen.append(await stamp(uow))
        assert seen[-1] not in seen[:-1], what
    async with uow() as u:
        await u.projects.add(new_project("HB-009", "汉滨区新项目", world.hanbin,
                                         world.unit_industry), clock.now())
        await u.commit()
    assert await stamp(uow) not in seen


def scopes(world: World) -> list[ProjectScope]:
    """Every person's own scope, and region and unit sets in every combination for each."""
    people = [world.liaison, world.leader, world.dispatcher, world.viewer, world.unit_admin,
              world.outsider_liaison, 999]
    regions = [world.city, world.hanbin, world.xunyang]
    units = [world.unit_industry, world.unit_farming]
    return [ProjectScope(person, frozenset(r), frozenset(u))
            for person in people
            for r in itertools.chain.from_iterable(
                itertools.combinations(regions, n) for n in range(4))
            for u in ((), *((unit,) for unit in units), tuple(units))]


async def test_the_scope_rule_in_memory_agrees_with_the_sql_filter(
        uow: UnitOfWorkFactory, world: World) -> None:
    async with uow() as u:
        entries = await u.projects.index_entries()
        for scope in scopes(world):
            in_sql = {p.id for p in await u.projects.visible(scope, 2026)}
            in_memory = {e.id for e in entries
                         if sees_project(scope, region_id=e.region_id, unit_id=e.unit_id,
                                         lead_leader_id=e.lead_leader_id,
                                         liaison_ids=e.liaison_ids)}
            assert in_memory == in_sql, scope


async def test_visible_by_ids_keeps_only_what_the_scope_may_see(uow: UnitOfWorkFactory,
                                                                world: World) -> None:
    hanbin = ProjectScope(world.dispatcher, frozenset({world.hanbin}), frozenset())
    async with uow() as u:
        found = await u.projects.visible_by_ids(hanbin, list(world.projects.values()), 2026)
    assert [p.code for p in found] == ["HB-001", "HB-002", "HB-003"]


async def test_an_index_is_built_once_and_again_only_after_a_change(
        uow: UnitOfWorkFactory, world: World, engine: AsyncEngine, clock: FixedClock) -> None:
    index = ProjectIndex()
    everyone = ProjectScope(world.viewer, frozenset({world.city, world.hanbin, world.xunyang}),
                            frozenset())
    for _ in range(3):
        async with uow() as u:
            assert (await index.lookup(u, "数字经济", everyone, 2026, shown=8)).matches
    assert index.builds == 1

    await edit(engine, update(m.Project).where(m.Project.id == world.projects["HB-002"])
               .values(name="汉滨区云计算产业园", updated_at=clock.now() + timedelta(hours=1)))
    async with uow() as u:
        result = await index.lookup(u, "yunjisuan", everyone, 2026, shown=8)
    assert [p.code for p in result.matches] == ["HB-002"]
    assert index.builds == 2


async def test_two_instances_on_one_database_each_see_the_other_s_change(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    first, second = ProjectIndex(), ProjectIndex()
    hanbin = ProjectScope(world.dispatcher, frozenset({world.hanbin}), frozenset())
    for index in (first, second):
        async with uow() as u:
            assert not (await index.lookup(u, "富硒茶", hanbin, 2026, shown=8)).matches
    async with uow() as u:  # what the first instance's import would do
        await u.projects.add(new_project("HB-010", "汉滨区富硒茶产业园", world.hanbin,
                                         world.unit_farming, "富硒茶园"), clock.now())
        await u.commit()
    for index in (first, second):
        async with uow() as u:
            result = await index.lookup(u, "fxcy", hanbin, 2026, shown=8)
        assert [p.code for p in result.matches] == ["HB-010"]
