"""`/quiet`: a person sets their own quiet hours from the phone; bad input changes nothing."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import translator
from domain.clock import FixedClock
from domain.quiet import Quiet
from handlers.router import Router
from storage.uow import UnitOfWorkFactory
from tests.handlers.test_router import Chat, row_counts, text_of
from tests.world import World


@pytest.fixture
async def chat(uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> Chat:
    async with uow() as u:
        await u.people.bind_identity(world.liaison, "test", "1001", clock.now())
        await u.commit()
    return Chat(Router(uow, clock, translator, "zh-CN", quiet=Quiet(time(21), time(7))))


async def quiet_of(uow: UnitOfWorkFactory, person_id: int) -> Quiet | None:
    async with uow() as u:
        person = await u.people.get(person_id)
    assert person is not None
    return person.quiet


async def test_a_liaison_sets_turns_off_and_resets_their_quiet_hours(
        chat: Chat, uow: UnitOfWorkFactory, world: World) -> None:
    shown = text_of(await chat.say("/quiet"))
    assert "21:00-07:00（系统默认）" in shown and "/quiet 22:30-07:00" in shown

    saved = text_of(await chat.say("/quiet 22点到6点半"))
    assert saved == "已保存。免打扰时段：22:00-06:30（您自己设置的）。"
    assert await quiet_of(uow, world.liaison) == Quiet(time(22), time(6, 30))
    assert "22:00-06:30（您自己设置的）" in text_of(await chat.say("/quiet"))

    assert "已关闭" in text_of(await chat.say("/quiet 关闭"))
    assert await quiet_of(uow, world.liaison) == Quiet(time(0), time(0))

    assert "21:00-07:00（系统默认）" in text_of(await chat.say("/quiet 默认"))
    assert await quiet_of(uow, world.liaison) is None
    async with uow() as u:
        history = await u.audit.history("person", world.liaison)
    assert [(b, a) for action, b, a in history if action == "quiet"] == [
        ({"quiet": None}, {"quiet": "22:00-06:30"}),
        ({"quiet": "22:00-06:30"}, {"quiet": "00:00-00:00"}),
        ({"quiet": "00:00-00:00"}, {"quiet": None})]


async def test_what_is_not_a_time_range_is_refused_and_changes_nothing(
        chat: Chat, uow: UnitOfWorkFactory, world: World, engine: AsyncEngine) -> None:
    await chat.say("/quiet 23:00-07:00")
    before = await row_counts(engine)
    for typed in ("晚上", "25:00-07:00", "23:00", "x" * 300):
        replies = await chat.say(f"/quiet {typed}")
        assert replies[0].refusal
        assert "不是时段" in replies[0].text and "/quiet 22:30-07:00" in replies[0].text
    assert await row_counts(engine) == before
    assert await quiet_of(uow, world.liaison) == Quiet(time(23), time(7))
