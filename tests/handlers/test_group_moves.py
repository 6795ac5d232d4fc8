"""A bound group whose chat moves (a Telegram group upgraded to a supergroup) follows it."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from domain.clock import FixedClock
from domain.events import EventKind
from handlers.router import Router
from storage import models as m
from storage.uow import UnitOfWorkFactory
from tests.handlers.test_onboarding import group_event
from tests.world import World


async def test_a_bound_group_follows_its_chat_when_it_moves(router: Router, people: World,
                                                           uow: UnitOfWorkFactory,
                                                           clock: FixedClock) -> None:
    async with uow() as u:
        group = await u.groups.prepare("汉滨区指挥部", region_id=people.hanbin, unit_id=None,
                                       subscriptions=["daily_summary"], now=clock.now())
        await u.commit()
    await router.handle(group_event("1003", f"/bindgroup {group.bind_code}"))
    moved = replace(group_event("", ""), kind=EventKind.CHAT_MOVED, moved_to="-1009500",
                    receipts=("77",))
    assert await router.handle(moved) == []  # quietly
    assert await router.handle(replace(moved, receipts=("78",))) == []  # the other news of it
    status = await router.handle(group_event("1002", "/status 毛绒", chat="-1009500"))
    assert "毛绒" in status[0].text
    assert not await router.handle(group_event("1002", "/status 毛绒"))  # the old id: unbound
    async with uow() as u:
        assert [a for a, _, _ in await u.audit.history("group_chat", group.id)] == ["moved"]


async def test_a_group_the_bot_was_removed_from_is_unbound_and_the_dispatcher_told_once(
        router: Router, people: World, uow: UnitOfWorkFactory, clock: FixedClock) -> None:
    """Telegram says at once when a member removes the bot (`my_chat_member`): the group is
    unbound then, not at the next digest, with its scope and subscriptions kept."""
    async with uow() as u:
        group = await u.groups.prepare("汉滨区指挥部", region_id=people.hanbin, unit_id=None,
                                       subscriptions=["daily_summary"], now=clock.now())
        await u.commit()
    await router.handle(group_event("1003", f"/bindgroup {group.bind_code}"))
    removed = replace(group_event("1002", ""), kind=EventKind.BOT_REMOVED, receipts=("90",))
    assert await router.handle(removed) == []  # nobody left in the chat to answer
    assert await router.handle(replace(removed, receipts=("91",))) == []  # said twice
    async with uow() as u:
        after = next(g for g in await u.groups.all() if g.id == group.id)
        notices = [(row.recipient, row.payload["text"])
                   for row in await u.session.scalars(select(m.OutboxMessage))
                   if row.kind == "group.removed"]
        history = [a for a, _, _ in await u.audit.history("group_chat", group.id)]
    assert after.chat_id is None and after.bind_code and after.bind_code != group.bind_code
    assert after.subscriptions == ("daily_summary",) and after.region_id == people.hanbin
    assert [recipient for recipient, _ in notices] == [f"person:{people.dispatcher}"]
    assert f"/bindgroup {after.bind_code}" in notices[0][1]
    assert history.count("unbound") == 1
    rebound = await router.handle(group_event("1003", f"/bindgroup {after.bind_code}"))
    assert "汉滨区" in rebound[0].text
