"""A person who blocks the bot (Telegram's `my_chat_member` in their private chat): marked
unreachable and the dispatchers told at once, once a day; writing again makes them reachable."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import ChatKind, EventKind, Incoming
from handlers.router import Router
from storage import models as m
from storage.uow import UnitOfWorkFactory
from tests.handlers.phone import CHANNEL, Phone, row_counts
from tests.world import World


def blocked_by(user: str, update_id: str) -> Incoming:
    return Incoming(CHANNEL, user, user, EventKind.BOT_REMOVED, chat_kind=ChatKind.PRIVATE,
                    receipts=(update_id,))


async def test_blocking_marks_the_person_unreachable_and_tells_the_dispatcher_once(
        router: Router, people: World, uow: UnitOfWorkFactory) -> None:
    assert await router.handle(blocked_by("1001", "70")) == []  # nobody to answer
    assert await router.handle(blocked_by("1001", "71")) == []  # blocked again the same day
    async with uow() as u:
        liaison = await u.people.get(people.liaison)
        notices = [(row.recipient, row.payload["text"])
                   for row in await u.session.scalars(select(m.OutboxMessage))
                   if row.kind == "person.unreachable"]
    assert liaison is not None and not liaison.reachable
    assert notices == [(f"person:{people.dispatcher}",
                        f"{liaison.name}（{liaison.title}）已屏蔽机器人或停用了账号，消息无法送达。"
                        "请电话联系，必要时重新发邀请。")]

    await Phone(router, "1001").say("/my")  # unblocked, and writes again
    async with uow() as u:
        again = await u.people.get(people.liaison)
    assert again is not None and again.reachable


async def test_a_stranger_blocking_the_bot_leaves_nothing(router: Router, people: World,
                                                          engine: AsyncEngine) -> None:
    before = await row_counts(engine)
    assert await router.handle(blocked_by("9001", "72")) == []
    assert await row_counts(engine) == before
