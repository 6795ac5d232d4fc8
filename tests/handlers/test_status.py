"""`/status` as people type it: codes, parts of names, pinyin, initials and typos, through the
real router and storage; the scope, and an index that follows changes to the projects."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.model import Category, ProjectLevel, Stage
from handlers.router import Router
from storage import models as m
from storage.repositories.projects import NewProject
from storage.uow import UnitOfWorkFactory
from tests.handlers.phone import Phone
from tests.world import World

MAORONG = "【汉滨区毛绒文创总部产业园建设项目】HB-001"


def not_found(query: str) -> str:
    return f"没有找到与“{query}”相符的项目。"


@pytest.fixture
async def county(uow: UnitOfWorkFactory, people: World, clock: FixedClock) -> World:
    """The handler tests' people, and the 旬阳 liaison (1005) and the city viewer (1006)."""
    async with uow() as u:
        await u.people.bind_identity(people.outsider_liaison, "test", "1005", clock.now())
        await u.people.bind_identity(people.viewer, "test", "1006", clock.now())
        await u.commit()
    return people


@pytest.fixture
def liu(router: Router, county: World) -> Phone:
    """刘芳, dispatcher of 汉滨区."""
    return Phone(router, "1003")


@pytest.fixture
def sun(router: Router, county: World) -> Phone:
    """孙强, liaison of XY-001 in 旬阳市 only."""
    return Phone(router, "1005")


@pytest.mark.parametrize("query", ["mrwc", "hb001", "HB-001", "ｈｂ－００１", "毛绒", "maorong",
                                   "毛绒园", "mao rong yuan", "MRWCCYY", "毛绒文创产业园"])
async def test_status_finds_a_project_however_it_is_typed(liu: Phone, query: str) -> None:
    assert MAORONG in await liu.say(f"/status {query}")


@pytest.mark.parametrize("query", ["毛绒文创产业圆", "maorogn", "毛戎文创"])
async def test_a_typo_gets_a_did_you_mean_button(liu: Phone, query: str) -> None:
    text = await liu.say(f"/status {query}")
    assert not_found(query) in text and "您是不是要找" in text
    assert liu.buttons[0].data == "/status HB-001"
    assert MAORONG in await liu.press("毛绒文创总部")


async def test_several_matches_are_listed_shorter_names_first(liu: Phone) -> None:
    assert "找到 2 个项目" in await liu.say("/status 产业园")
    assert [b.data for b in liu.buttons] == ["/status HB-001", "/status HB-002"]
    assert "【汉滨区数字经济产业园】HB-002" in await liu.press("数字经济")


OUTSIDE = ["HB-001", "hb001", "mrwc", "毛绒", "maorong", "毛绒园", "毛绒文创产业圆", "毛戎文创",
           "汉滨区数字经济产业园", "szjj", "汉滨", "hb"]


async def test_outside_the_scope_reads_exactly_like_a_name_that_does_not_exist(
        sun: Phone, engine: AsyncEngine, clock: FixedClock, county: World) -> None:
    async def answers() -> list[tuple[str, list[str]]]:
        return [(await sun.say(f"/status {query}"), [b.data for b in sun.buttons])
                for query in OUTSIDE]

    seen = await answers()
    assert all(text.startswith(not_found(query)) for (text, _), query in zip(seen, OUTSIDE,
                                                                             strict=True))
    assert not any("HB-" in data for _, buttons in seen for data in buttons)
    async with engine.begin() as conn:  # 汉滨区's projects gone: now they really do not exist
        await conn.execute(update(m.Project).where(m.Project.region_id == county.hanbin)
                           .values(active=False, updated_at=clock.now() + timedelta(hours=1)))
    assert await answers() == seen


async def test_the_city_viewer_sees_every_county(router: Router, county: World) -> None:
    viewer = Phone(router, "1006")
    assert "【旬阳市富硒食品产业园】XY-001" in await viewer.say("/status fxsp")
    assert MAORONG in await viewer.say("/status mrwc")


async def test_a_unit_admin_finds_only_the_unit_projects(router: Router, county: World) -> None:
    zhao = Phone(router, "1004")
    assert "HB-003" in await zhao.say("/status szyz")  # 生猪养殖
    assert await zhao.say("/status mrwc") == not_found("mrwc")


async def test_a_pasted_page_is_cut_and_answered(liu: Phone) -> None:
    text = await liu.say("/status " + "毛绒文创" * 500)
    assert "没有找到" in text or MAORONG in text
    assert len(text) < 400


async def test_renamed_added_and_reassigned_projects_are_found_by_the_next_query(
        liu: Phone, sun: Phone, uow: UnitOfWorkFactory, engine: AsyncEngine,
        clock: FixedClock, county: World) -> None:
    assert await liu.say("/status 云计算") == not_found("云计算")
    assert await sun.say("/status mrwc") == not_found("mrwc")
    later = clock.now() + timedelta(minutes=10)
    async with engine.begin() as conn:  # another instance's edits, behind this router's back
        await conn.execute(update(m.Project).where(m.Project.id == county.projects["HB-002"])
                           .values(name="汉滨区云计算产业园", updated_at=later))
        await conn.execute(insert(m.ProjectLiaison).values(
            project_id=county.projects["HB-001"], person_id=county.outsider_liaison))
    assert "【汉滨区云计算产业园】HB-002" in await liu.say("/status 云计算")
    assert "【汉滨区云计算产业园】HB-002" in await liu.say("/status yunjisuan")
    assert MAORONG in await sun.say("/status mrwc")

    async with uow() as u:
        await u.projects.add(NewProject(
            code="HB-020", name="汉滨区锂电池正极材料项目", region_id=county.hanbin,
            unit_id=county.unit_industry, level=ProjectLevel.COUNTY,
            category=Category.INDUSTRIAL, stage=Stage.PRELIMINARY,
            total_investment=Decimal(50000), aliases=("锂电项目",)), clock.now())
        await u.commit()
    assert "【汉滨区锂电池正极材料项目】HB-020" in await liu.say("/status 锂电")
    assert "HB-020" in await liu.say("/status lidian")

    async with engine.begin() as conn:
        await conn.execute(update(m.Project).where(m.Project.code == "HB-020")
                           .values(active=False, updated_at=later + timedelta(minutes=1)))
    assert await liu.say("/status 锂电") == not_found("锂电")
