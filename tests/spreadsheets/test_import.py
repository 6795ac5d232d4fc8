"""The template filled in and imported: what a dispatcher then sees in the bot, and what a
second import of a corrected file changes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from bot.i18n import translator
from domain.clock import FixedClock
from domain.model import Category, ProjectLevel, Role, RoleKind, Stage
from domain.scope import ProjectScope
from spreadsheets.importer import ImportResult, import_workbook, result_lines
from storage import models as m
from storage.uow import UnitOfWorkFactory
from tests.spreadsheets.books import edit, filled
from tests.world import World

TEA: dict[str, Any] = {"项目编号": "HB-101", "项目名称": "汉滨区富硒茶精深加工产业园",
       "简称": "富硒茶园、茶产业园", "所属区域": "汉滨区", "责任单位": "汉滨区工信局",
       "项目级别": "县级重点", "产业链": "富硒食品", "项目类别": "产业项目", "项目阶段": "在建",
       "总投资（万元）": "3.5亿", "年度计划投资（万元）": 12000, "计划开工日期": date(2026, 3, 1),
       "计划竣工日期": "2027/12/31", "实际开工日期": "2026年3月18日", "纬度": 32.6853,
       "经度": 109.0293, "现场范围（米）": 800, "节假日施工": "否"}
SILK: dict[str, Any] = {
    "项目编号": "HB-102", "项目名称": "汉滨区蚕桑丝绸产业园", "所属区域": "610902",
    "责任单位": "HB-NYJ", "项目级别": "市级重点", "项目类别": "产业项目", "项目阶段": "前期",
    "总投资（万元）": "８０００"}
CHEN: dict[str, Any] = {
    "账号": "liaison_chen", "姓名": "陈静", "职务": "富硒茶产业园联络员", "电话": "13800000000",
    "所在单位": "汉滨区工信局"}
STAFF = [{"人员": "liaison_chen", "职责": "联络员", "项目编号": "HB-101"},
         {"人员": "张建华", "职责": "牵头领导", "项目编号": "HB-101"},
         {"人员": "陈静", "职责": "联络员", "项目编号": "HB-102"}]


def county(projects: list[dict[str, Any]] | None = None,
           people: list[dict[str, Any]] | None = None,
           staff: list[dict[str, Any]] | None = None) -> bytes:
    return filled({"项目": [TEA, SILK] if projects is None else projects,
                   "人员": [CHEN] if people is None else people,
                   "分工": STAFF if staff is None else staff})


async def run(uow: UnitOfWorkFactory, clock: FixedClock, data: bytes, **options: Any,
              ) -> ImportResult:
    return await import_workbook(uow, data, clock=clock, language="zh-CN", **options)


def everything(world: World) -> ProjectScope:
    return ProjectScope(world.dispatcher, frozenset({world.city, world.hanbin, world.xunyang}),
                        frozenset())


async def test_the_filled_template_becomes_projects_the_bot_knows(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    result = await run(uow, clock, county())
    assert not result.refused, result.errors
    assert (result.counts.projects_new, result.counts.people_new) == (2, 1)
    assert result_lines(translator("zh-CN"), result) == [
        "已导入：项目 2 个（新增 2，更新 0，无变化 0），人员 1 人（新增 1，更新 0，无变化 0），"
        "分工 3 条。"]
    async with uow() as u:
        found = {p.code: p for p in await u.projects.visible(everything(world), 2026)}
        chen = (await u.people.find("liaison_chen"))[0]
        site = await u.projects.site(found["HB-101"].id)
    tea, silk = found["HB-101"], found["HB-102"]
    assert tea.name == "汉滨区富硒茶精深加工产业园"
    assert tea.aliases == ("富硒茶园", "茶产业园")
    assert (tea.region_name, tea.unit_name) == ("汉滨区", "汉滨区工信局")
    assert (tea.level, tea.category, tea.stage, tea.chain) == (
        ProjectLevel.COUNTY, Category.INDUSTRIAL, Stage.CONSTRUCTION, "富硒食品")
    assert (tea.total_investment, tea.annual_plan) == (Decimal(35000), Decimal(12000))
    assert (tea.planned_start, tea.planned_end, tea.actual_start) == (
        date(2026, 3, 1), date(2027, 12, 31), date(2026, 3, 18))
    assert tea.lead_leader_name == "张建华"
    assert tea.liaison_names == ("陈静",)
    assert site is not None and (site.lat, site.lon, site.radius_m) == (32.6853, 109.0293, 800)
    assert (silk.region_name, silk.unit_name, silk.total_investment) == (
        "汉滨区", "汉滨区农业农村局", Decimal(8000))
    assert silk.annual_plan is None and silk.liaison_names == ("陈静",)
    assert (chen.name, chen.title, chen.unit_id) == (
        "陈静", "富硒茶产业园联络员", world.unit_industry)
    assert chen.roles == (Role(RoleKind.LIAISON, world.hanbin, None),)


async def test_rest_days_and_the_example_row(uow: UnitOfWorkFactory, clock: FixedClock,
                                             world: World) -> None:
    await run(uow, clock, county())
    async with uow() as u:
        rows = dict(list(await u.session.execute(
            select(m.Project.code, m.Project.works_rest_days))))
    assert rows["HB-101"] is False and rows["HB-102"] is True
    assert "HB-101" in rows and len(rows) == 6  # the world's 4, the sheet's 2: no example row


async def test_importing_again_changes_nothing_and_keeps_updated_at(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    await run(uow, clock, county())
    first = clock.now()
    clock.advance(timedelta(hours=2))
    again = await run(uow, clock, county())
    assert (again.counts.projects_new, again.counts.projects_updated,
            again.counts.projects_unchanged) == (0, 0, 2)
    assert (again.counts.people_new, again.counts.people_updated,
            again.counts.people_unchanged) == (0, 0, 1)
    async with uow() as u:
        stamps = set(await u.session.scalars(
            select(m.Project.updated_at).where(m.Project.code.in_(["HB-101", "HB-102"]))))
        projects = await u.projects.count()
        people = await u.people.count()
    assert stamps == {first}
    assert (projects, people) == (6, 7)


async def test_a_corrected_file_updates_by_code_and_replaces_aliases_and_liaisons(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    await run(uow, clock, county())
    clock.advance(timedelta(days=1))
    renamed = TEA | {"项目名称": "汉滨区富硒茶产业园（一期）", "简称": "茶园一期",
                     "年度计划投资（万元）": "1.5亿"}
    staff = [{"人员": "王磊", "职责": "联络员", "项目编号": "HB-101"},
             {"人员": "leader_zhang", "职责": "牵头领导", "项目编号": "HB-101"}]
    result = await run(uow, clock, county([renamed, SILK], staff=staff))
    assert not result.refused, result.errors
    assert (result.counts.projects_new, result.counts.projects_updated,
            result.counts.projects_unchanged) == (0, 1, 1)
    async with uow() as u:
        tea = next(p for p in await u.projects.visible(everything(world), 2026)
                   if p.code == "HB-101")
        updated = await u.session.scalar(
            select(m.Project.updated_at).where(m.Project.code == "HB-101"))
        silk_updated = await u.session.scalar(
            select(m.Project.updated_at).where(m.Project.code == "HB-102"))
        history = await u.audit.history("project", tea.id)
        copies = await u.session.scalar(
            select(func.count()).select_from(m.Project).where(m.Project.code == "HB-101"))
    assert tea.name == "汉滨区富硒茶产业园（一期）"
    assert tea.aliases == ("茶园一期",)
    assert tea.liaison_names == ("王磊",)
    assert tea.annual_plan == Decimal(15000)
    assert updated == clock.now() and silk_updated == clock.now() - timedelta(days=1)
    assert copies == 1
    assert [action for action, _, _ in history] == ["import_create", "import_update"]
    _, before, after = history[-1]
    assert before is not None and after is not None
    assert before["name"] == "汉滨区富硒茶精深加工产业园"
    assert after["aliases"] == ["茶园一期"]
    assert after["annual_plan_2026"] == "15000"


async def test_an_existing_project_is_updated_from_the_sheet(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    clock.advance(timedelta(minutes=5))
    row = {"项目编号": "HB-001", "项目名称": "汉滨区毛绒文创总部产业园建设项目", "简称": "毛绒园",
           "所属区域": "汉滨区", "责任单位": "汉滨区工信局", "项目级别": "县级重点",
           "项目类别": "产业项目", "项目阶段": "投产", "总投资（万元）": 36000,
           "计划开工日期": "2025-09-01", "计划竣工日期": "2027-06-30", "实际开工日期": "2025-09-18",
           "实际竣工日期": "2026-11-20", "年度计划投资（万元）": 12000}
    result = await run(uow, clock, county([row], people=[], staff=[]))
    assert result.counts.projects_updated == 1, result.errors
    async with uow() as u:
        hb1 = (await u.projects.by_ids([world.projects["HB-001"]], 2026))[0]
        updated = await u.session.scalar(
            select(m.Project.updated_at).where(m.Project.code == "HB-001"))
    assert (hb1.stage, hb1.actual_end, hb1.aliases) == (Stage.PRODUCTION, date(2026, 11, 20),
                                                        ("毛绒园",))
    assert hb1.liaison_names == ("王磊",)  # not named in 分工: kept
    assert updated == clock.now()


async def test_roles_of_a_person_named_in_assignments_are_replaced(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    staff = [{"人员": "unit_farming", "职责": "项目办", "区域": "汉滨区"},
             {"人员": "unit_farming", "职责": "查看", "区域": "安康市"}]
    result = await run(uow, clock, county([], people=[], staff=staff))
    assert not result.refused, result.errors
    assert result.counts.people_updated == 1
    async with uow() as u:
        zhao = await u.people.get(world.unit_admin)
        liu = await u.people.get(world.dispatcher)
    assert zhao is not None and set(zhao.roles) == {
        Role(RoleKind.DISPATCHER, world.hanbin, None), Role(RoleKind.VIEWER, world.city, None)}
    assert liu is not None and liu.roles == (Role(RoleKind.DISPATCHER, world.hanbin, None),)


async def test_naming_someone_a_liaison_keeps_their_other_roles(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    staff = [{"人员": "刘芳", "职责": "联络员", "项目编号": "HB-003"}]
    result = await run(uow, clock, county([], people=[], staff=staff))
    assert not result.refused, result.errors
    async with uow() as u:
        liu = await u.people.get(world.dispatcher)
        hb3 = (await u.projects.by_ids([world.projects["HB-003"]], 2026))[0]
    assert liu is not None and set(liu.roles) == {
        Role(RoleKind.DISPATCHER, world.hanbin, None), Role(RoleKind.LIAISON, world.hanbin, None)}
    assert hb3.liaison_names == ("刘芳",)


async def test_english_headers_and_choices_in_either_language(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    data = filled({"Projects": [{
        "Project code": "HB-201", "Project name": "Hanbin logistics park", "Region": "Hanbin",
        "Responsible unit": "HB-GXJ", "Level": "city key", "Category": "基础设施",
        "Stage": "under construction", "Total investment (10k yuan)": "2,000",
        "Planned start": "2026.4.1", "Works on rest days": "yes"}]}, language="en")
    result = await import_workbook(uow, data, clock=clock, language="en")
    assert [e.ref for e in result.errors] == ["Projects!D3"]
    assert result.errors[0].message == "There is no region “Hanbin”"
    fixed = edit(data, lambda book: book["Projects"].cell(row=3, column=4, value="610902"))
    result = await import_workbook(uow, fixed, clock=clock, language="en")
    assert not result.refused, result.errors
    async with uow() as u:
        park = next(p for p in await u.projects.visible(everything(world), 2026)
                    if p.code == "HB-201")
    assert (park.level, park.category, park.stage, park.planned_start) == (
        ProjectLevel.CITY, Category.INFRASTRUCTURE, Stage.CONSTRUCTION, date(2026, 4, 1))


async def test_partial_takes_the_good_rows_and_lists_the_bad_ones(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    bad = SILK | {"项目编号": "HB-103", "总投资（万元）": "很多"}
    staff = [*STAFF[:2], {"人员": "陈静", "职责": "联络员", "项目编号": "HB-103"}]
    result = await run(uow, clock, county([TEA, bad], staff=staff), partial=True)
    assert result.imported and result.refused
    assert [(e.ref, e.message) for e in result.errors] == [
        ("项目!J4", "“很多”不是金额：单位是万元，可写 3500、3,500、3500万元 或 0.35亿"),
        ("分工!C5", "项目 HB-103 在项目表里的那一行有错误，没有导入"),
    ]
    assert result.counts.projects_new == 1
    async with uow() as u:
        codes = set(await u.session.scalars(select(m.Project.code)))
    assert "HB-101" in codes and "HB-103" not in codes


async def test_a_dispatcher_imports_only_into_their_regions(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    xunyang = SILK | {"项目编号": "XY-101", "所属区域": "旬阳市", "责任单位": "XY-FGJ"}
    moved = SILK | {"项目编号": "XY-001"}
    result = await run(uow, clock, county([xunyang, moved], people=[], staff=[]),
                       region_ids=frozenset({world.hanbin}))
    assert [(e.ref, e.message) for e in result.errors] == [
        ("项目!D3", "“旬阳市”不在您管辖的区域内"),
        ("项目!A4", "项目 XY-001 属于您管辖以外的区域"),
    ]
    assert not result.imported
