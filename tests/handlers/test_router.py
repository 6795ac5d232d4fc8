"""The core as a user meets it: events in, messages out, on the real storage."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import translator
from domain.clock import FixedClock
from domain.events import EventKind, Incoming, Outgoing
from domain.model import ProblemCategory, SiteStatus
from handlers.router import Router
from storage.models import Base
from storage.repositories.problems import NewProblem
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWorkFactory
from tests.world import World


@pytest.fixture
def router(uow: UnitOfWorkFactory, clock: FixedClock) -> Router:
    return Router(uow, clock, translator, "zh-CN")


@pytest.fixture
async def chat(uow: UnitOfWorkFactory, world: World, clock: FixedClock,
               router: Router) -> Chat:
    async with uow() as u:
        for person_id, external in ((world.liaison, "1001"), (world.viewer, "1002"),
                                    (world.unit_admin, "1003")):
            await u.people.bind_identity(person_id, "test", external, clock.now())
        await u.reports.save(ReportInput(
            project_id=world.projects["HB-001"], report_date=date(2026, 11, 21),
            reporter_id=world.liaison, site_status=SiteStatus.WORKING,
            progress_pct=Decimal("45.5"), work_done="钢结构吊装6榀", workers=130,
            ytd_investment=Decimal("8200.5")), clock.now())
        await u.problems.open(NewProblem(
            project_id=world.projects["HB-001"], category=ProblemCategory.UTILITIES,
            description="施工用电容量不足", urgent=True, reporter_id=world.liaison,
            assignee_unit_id=world.unit_industry, deadline=date(2026, 11, 25)),
            clock.now(), 2026)
        await u.visits.add(world.projects["HB-001"], world.leader, date(2026, 11, 18),
                           "协调用电增容", clock.now())
        await u.commit()
    return Chat(router)


class Chat:
    def __init__(self, router: Router) -> None:
        self.router = router

    async def say(self, text: str, user: str = "1001") -> list[Outgoing]:
        return await self.router.handle(Incoming.from_text("test", user, user, text))

    async def press(self, data: str, user: str = "1001") -> list[Outgoing]:
        return await self.router.handle(
            Incoming("test", user, user, EventKind.BUTTON, button_data=data))


def text_of(replies: list[Outgoing]) -> str:
    return "\n".join(r.text for r in replies)


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {t.name: int(await conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables}


async def test_unknown_identity_is_refused_politely_and_nothing_is_stored(
        chat: Chat, engine: AsyncEngine) -> None:
    before = await row_counts(engine)
    for text in ("/start", "/status 毛绒", "你好", "/my"):
        replies = await chat.say(text, user="9999")
        assert len(replies) == 1
        assert "还没有绑定" in replies[0].text and "邀请码" in replies[0].text
    assert await row_counts(engine) == before


async def test_unknown_identity_with_english_client_is_refused_in_english(chat: Chat) -> None:
    event = replace(Incoming.from_text("test", "9", "9", "/start"), language_hint="en")
    [reply] = await chat.router.handle(event)
    assert "not linked" in reply.text


async def test_help_lists_the_commands(chat: Chat) -> None:
    text = text_of(await chat.say("/help"))
    assert "王磊" in text
    for command in ("/my", "/status", "/help"):
        assert command in text


async def test_unknown_command_gets_the_help(chat: Chat) -> None:
    text = text_of(await chat.say("/frobnicate now"))
    assert "/frobnicate" in text and "/status" in text and "/my" in text


async def test_plain_text_points_to_help(chat: Chat) -> None:
    assert "/help" in text_of(await chat.say("今天天气不错"))


async def test_my_lists_my_projects_with_stage_and_last_report(chat: Chat) -> None:
    text = text_of(await chat.say("/my"))
    assert "共 2 个" in text
    assert "汉滨区毛绒文创总部产业园建设项目（HB-001）· 在建" in text
    assert "11月21日 施工中，形象进度 45.5%" in text
    assert "HB-002" in text and "暂无日报" in text
    assert "HB-003" not in text and "XY-001" not in text


async def test_status_by_part_of_a_name_shows_the_card(chat: Chat) -> None:
    text = text_of(await chat.say("/status 毛绒"))
    assert "【汉滨区毛绒文创总部产业园建设项目】HB-001" in text
    assert "汉滨区工信局" in text and "张建华" in text
    assert "年度计划：12,000 万元 · 累计完成：8,200.5 万元（68.3%）" in text
    assert "形象进度 45.5%" in text and "在岗 130 人" in text
    assert "P-2026-0001" in text and "水电气讯" in text
    assert "11月18日 张建华：协调用电增容" in text


@pytest.mark.parametrize("query", ["HB-001", "hb-001", "毛绒园", "毛绒文创产业园"])
async def test_status_by_code_or_alias(chat: Chat, query: str) -> None:
    assert "【汉滨区毛绒文创总部产业园建设项目】" in text_of(await chat.say(f"/status {query}"))


async def test_several_matches_offer_buttons_and_a_press_answers(chat: Chat) -> None:
    [reply] = await chat.say("/status 汉滨区")
    assert "找到 2 个项目" in reply.text
    data = [button.data for row in reply.buttons for button in row]
    assert data == ["/status HB-002", "/status HB-001"]  # the shorter name first
    assert "【汉滨区数字经济产业园】HB-002" in text_of(await chat.press(data[0]))


async def test_no_match_says_so_and_offers_the_closest(chat: Chat) -> None:
    [reply] = await chat.say("/status 毛绒产业园区")
    assert "没有找到与“毛绒产业园区”相符的项目" in reply.text
    assert "您是不是要找" in reply.text
    assert reply.buttons[0][0].data == "/status HB-001"


async def test_a_project_outside_my_scope_is_not_found(chat: Chat) -> None:
    mine = text_of(await chat.say("/status 旬阳"))
    assert "没有找到" in mine and "XY-001" not in mine
    assert "旬阳市富硒食品产业园" in text_of(await chat.say("/status 旬阳", user="1002"))


async def test_unit_admin_sees_only_the_unit_projects(chat: Chat) -> None:
    assert "HB-003" in text_of(await chat.say("/my", user="1003"))
    assert "没有找到" in text_of(await chat.say("/status HB-001", user="1003"))


async def test_status_without_a_name_explains_itself(chat: Chat) -> None:
    assert "/status 毛绒" in text_of(await chat.say("/status"))


async def test_a_very_long_query_is_answered(chat: Chat) -> None:
    [reply] = await chat.say("/status " + "项目" * 1000)
    assert "没有找到" in reply.text
    assert len(reply.text) < 400


async def test_english_speaker_gets_english(chat: Chat, uow: UnitOfWorkFactory,
                                            world: World) -> None:
    async with uow() as u:
        await u.people.set_language(world.liaison, "en")
        await u.commit()
    text = text_of(await chat.say("/status HB-001"))
    assert "Last report: Nov 21 (王磊) working, progress 45.5%" in text
