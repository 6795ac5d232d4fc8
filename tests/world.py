"""A small county built through the real repositories, shared by storage and handler tests.

City 安康市 with counties 汉滨区 (two units) and 旬阳市; projects HB-001..HB-003 in 汉滨区 and
XY-001 in 旬阳市; a liaison, a lead leader, a dispatcher, a city viewer and a unit admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.clock import Clock
from domain.model import Category, ProjectLevel, RegionLevel, RoleKind, Stage
from storage.repositories.projects import NewProject
from storage.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class World:
    city: int
    hanbin: int
    xunyang: int
    unit_industry: int
    unit_farming: int
    liaison: int
    leader: int
    dispatcher: int
    viewer: int
    unit_admin: int
    outsider_liaison: int
    projects: dict[str, int]


def _project(code: str, name: str, region: int, unit: int, *, leader: int | None,
             liaisons: tuple[int, ...], aliases: tuple[str, ...] = ()) -> NewProject:
    return NewProject(
        code=code, name=name, region_id=region, unit_id=unit, level=ProjectLevel.COUNTY,
        category=Category.INDUSTRIAL, stage=Stage.CONSTRUCTION, total_investment=Decimal(36000),
        planned_start=date(2025, 9, 1), planned_end=date(2027, 6, 30),
        actual_start=date(2025, 9, 18), lead_leader_id=leader, aliases=aliases,
        liaison_ids=liaisons)


async def build_world(uow_factory: UnitOfWorkFactory, clock: Clock) -> World:
    now = clock.now()
    async with uow_factory() as uow:
        city = (await uow.places.add_region("610900", "安康市", RegionLevel.CITY)).id
        hanbin = (await uow.places.add_region("610902", "汉滨区", RegionLevel.COUNTY, city)).id
        xunyang = (await uow.places.add_region("610981", "旬阳市", RegionLevel.COUNTY, city)).id
        industry = (await uow.places.add_unit("HB-GXJ", "汉滨区工信局", hanbin)).id
        farming = (await uow.places.add_unit("HB-NYJ", "汉滨区农业农村局", hanbin)).id
        xy_unit = (await uow.places.add_unit("XY-FGJ", "旬阳市发改局", xunyang)).id

        async def person(key: str, name: str, kind: RoleKind, *, region: int | None = None,
                         unit: int | None = None) -> int:
            added = await uow.people.add(key, name, now, title=kind.value)
            await uow.people.grant(added.id, kind, region_id=region, unit_id=unit)
            return added.id

        liaison = await person("liaison_wang", "王磊", RoleKind.LIAISON, region=hanbin)
        leader = await person("leader_zhang", "张建华", RoleKind.LEADER, region=hanbin)
        dispatcher = await person("hq_hanbin", "刘芳", RoleKind.DISPATCHER, region=hanbin)
        viewer = await person("viewer_city", "杜长青", RoleKind.VIEWER, region=city)
        unit_admin = await person("unit_farming", "赵敏", RoleKind.UNIT, unit=farming)
        outsider = await person("liaison_xy", "孙强", RoleKind.LIAISON, region=xunyang)
        specs = [
            ("HB-001", "汉滨区毛绒文创总部产业园建设项目", hanbin, industry, leader, (liaison,),
             ("毛绒园", "毛绒文创产业园")),
            ("HB-002", "汉滨区数字经济产业园", hanbin, industry, leader, (liaison,), ()),
            ("HB-003", "汉滨区年出栏10万头生猪养殖项目", hanbin, farming, None, (), ()),
            ("XY-001", "旬阳市富硒食品产业园", xunyang, xy_unit, None, (outsider,), ()),
        ]
        projects = {}
        for code, name, region, unit, lead, liaisons, aliases in specs:
            projects[code] = await uow.projects.add(
                _project(code, name, region, unit, leader=lead, liaisons=liaisons,
                         aliases=aliases), now)
        await uow.projects.set_plan(projects["HB-001"], 2026, Decimal(12000))
        await uow.commit()
    return World(city, hanbin, xunyang, industry, farming, liaison, leader, dispatcher, viewer,
                 unit_admin, outsider, projects)
