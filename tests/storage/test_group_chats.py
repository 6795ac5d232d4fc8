"""A bound group follows its chat to a new id, and lets go of a chat the bot is out of."""

from __future__ import annotations

import pytest

from domain.clock import FixedClock
from storage.repositories.groups import Group
from storage.uow import UnitOfWorkFactory
from tests.world import World

CHANNEL = "telegram"


@pytest.fixture
async def group(uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> Group:
    """汉滨区指挥部群, bound to Telegram chat -500 and subscribed to two digests."""
    async with uow() as u:
        group = await u.groups.prepare("汉滨区指挥部群", region_id=world.hanbin, unit_id=None,
                                       subscriptions=["daily_summary", "weekly_digest"],
                                       now=clock.now())
        assert await u.groups.bind(group.id, channel=CHANNEL, chat_id="-500", title=None,
                                   by=world.dispatcher, now=clock.now())
        await u.commit()
    return group


async def test_a_group_follows_its_chat_once(uow: UnitOfWorkFactory, clock: FixedClock,
                                            group: Group) -> None:
    async with uow() as u:
        moved = await u.groups.move_chat(CHANNEL, "-500", "-1001500", now=clock.now())
        await u.commit()
    assert moved is not None and moved.id == group.id and moved.chat_id == "-1001500"
    async with uow() as u:
        # The second news of the same move (the service message after the send's answer,
        # or the other way round) finds nothing bound to the old id.
        assert await u.groups.move_chat(CHANNEL, "-500", "-1001500", now=clock.now()) is None
        await u.commit()
    async with uow() as u:
        assert await u.groups.by_chat(CHANNEL, "-500") is None
        found = await u.groups.by_chat(CHANNEL, "-1001500")
        assert found is not None and found.subscriptions == ("daily_summary", "weekly_digest")
        assert await u.groups.chats([group.id]) == {group.id: (CHANNEL, "-1001500")}
        history = await u.audit.history("group_chat", group.id)
    assert history == [("moved", {"channel": CHANNEL, "chat_id": "-500"},
                        {"channel": CHANNEL, "chat_id": "-1001500"})]


async def test_a_move_takes_the_new_chat_from_an_older_binding(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock, group: Group) -> None:
    async with uow() as u:
        older = await u.groups.prepare("旧群", region_id=world.hanbin, unit_id=None,
                                       subscriptions=[], now=clock.now())
        await u.groups.bind(older.id, channel=CHANNEL, chat_id="-1001500", title=None,
                            by=world.dispatcher, now=clock.now())
        await u.commit()
    async with uow() as u:
        assert await u.groups.move_chat(CHANNEL, "-500", "-1001500", now=clock.now())
        await u.commit()
    async with uow() as u:
        assert await u.groups.chats([group.id, older.id]) == {group.id: (CHANNEL, "-1001500")}


async def test_unbinding_keeps_scope_and_feeds_and_a_fresh_code_binds_again(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock, group: Group) -> None:
    async with uow() as u:
        unbound = await u.groups.unbind(CHANNEL, "-500", now=clock.now())
        await u.commit()
    assert unbound is not None and unbound.chat_id is None and unbound.bind_code
    assert (unbound.region_id, unbound.subscriptions) == (world.hanbin,
                                                          ("daily_summary", "weekly_digest"))
    async with uow() as u:
        assert await u.groups.unbind(CHANNEL, "-500", now=clock.now()) is None  # once
        assert await u.groups.chats([group.id]) == {}
        assert [g.id for g in await u.groups.subscribed("daily_summary")] == []
        again = await u.groups.by_code(unbound.bind_code)
        assert again is not None and again.id == group.id
        assert await u.groups.bind(group.id, channel=CHANNEL, chat_id="-500", title=None,
                                   by=world.dispatcher, now=clock.now())
        await u.commit()
    async with uow() as u:
        assert [g.id for g in await u.groups.subscribed("daily_summary")] == [group.id]
        history = await u.audit.history("group_chat", group.id)
    assert history == [("unbound", {"channel": CHANNEL, "chat_id": "-500"}, None)]
