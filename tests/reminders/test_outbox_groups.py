"""The outbox and group chats that change under it: a chat that moved, a chat the bot left."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.events import Outgoing
from domain.model import OutboxState
from reminders.delivery import Blocked, Moved
from reminders.limits import ChannelLimits, Limit, Limiter, Slot
from reminders.outbox import OutboxSender
from storage.repositories.groups import Group
from storage.uow import UnitOfWorkFactory
from tests.clocks import Ticker
from tests.reminders.test_outbox_sender import enqueue, make_sender, states
from tests.world import World


@dataclass
class GroupChannel:
    """A channel whose chats answer what the test set for each (nothing: delivered); while
    `hold` is clear, sends wait for it (the platform has not answered yet)."""

    limiter: Limiter
    channel: str = "test"
    answers: dict[str, BaseException] = field(default_factory=dict)
    delivered: list[tuple[str, Outgoing]] = field(default_factory=list)
    hold: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: asyncio.Event = field(default_factory=asyncio.Event)  # `expected` sends wait
    expected: int = 1
    tried: list[str] = field(default_factory=list)

    async def deliver(self, chat_id: str, message: Outgoing, *, group: bool,
                      slot: Slot | None = None, kind: str = "", outbox_id: int = 0) -> None:
        self.tried.append(chat_id)
        if len(self.tried) >= self.expected:
            self.waiting.set()
        await self.hold.wait()
        if (answer := self.answers.get(chat_id)) is not None:
            raise answer
        self.delivered.append((chat_id, message))


# Roomy enough for two sends to one chat at once, to see two answers cross.
LIMITS = ChannelLimits(overall=Limit(30, 1.0), per_chat=Limit(5, 1.0))


@pytest.fixture
def channel() -> GroupChannel:
    channel = GroupChannel(Limiter(LIMITS))
    channel.hold.set()
    return channel


@pytest.fixture
async def bound(uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> World:
    """刘芳, dispatcher of 汉滨区, on the test channel as chat 1003."""
    async with uow() as u:
        await u.people.bind_identity(world.dispatcher, "test", "1003", clock.now())
        await u.commit()
    return world


@pytest.fixture
async def group(uow: UnitOfWorkFactory, clock: FixedClock, bound: World) -> Group:
    """汉滨区指挥部群 on the test channel, chat -77, with two digests waiting for it."""
    async with uow() as u:
        group = await u.groups.prepare("汉滨区指挥部群", region_id=bound.hanbin, unit_id=None,
                                       subscriptions=["daily_summary"], now=clock.now())
        await u.groups.bind(group.id, channel="test", chat_id="-77", title=None,
                            by=bound.dispatcher, now=clock.now())
        await u.commit()
    await enqueue(uow, clock, f"group:{group.id}", "汇总一")
    await enqueue(uow, clock, f"group:{group.id}", "汇总二")
    return group


async def passes(sender: OutboxSender, ticker: Ticker, count: int = 3) -> None:
    for _ in range(count):
        await sender.drain_once()
        await sender.settle()
        ticker.now += 1


async def test_a_group_that_moved_gets_its_messages_at_the_new_id_at_no_cost(
        uow: UnitOfWorkFactory, clock: FixedClock, engine: AsyncEngine, group: Group,
        channel: GroupChannel, ticker: Ticker) -> None:
    channel.answers = {"-77": Moved("-10077")}
    await passes(make_sender(uow, clock, channel, ticker), ticker)
    assert sorted(m.text for _, m in channel.delivered) == ["汇总一", "汇总二"]
    assert {chat for chat, _ in channel.delivered} == {"-10077"}
    assert await states(engine) == [("汇总一", OutboxState.SENT, 0),
                                    ("汇总二", OutboxState.SENT, 0)]
    async with uow() as u:
        assert await u.groups.chats([group.id]) == {group.id: ("test", "-10077")}


async def test_a_move_the_bot_heard_of_first_is_followed_once(
        uow: UnitOfWorkFactory, clock: FixedClock, engine: AsyncEngine, group: Group,
        channel: GroupChannel, ticker: Ticker) -> None:
    sender = make_sender(uow, clock, channel, ticker)
    channel.answers = {"-77": Moved("-10077")}
    channel.hold.clear()
    channel.expected = 2
    await sender.drain_once()
    await channel.waiting.wait()  # both digests are on their way to the old id
    async with uow() as u:  # when the service message about the move comes in
        assert await u.groups.move_chat("test", "-77", "-10077", now=clock.now())
        await u.commit()
    channel.hold.set()
    await sender.settle()
    await passes(sender, ticker)
    assert {chat for chat, _ in channel.delivered} == {"-10077"}
    assert await states(engine) == [("汇总一", OutboxState.SENT, 0),
                                    ("汇总二", OutboxState.SENT, 0)]
    async with uow() as u:
        history = await u.audit.history("group_chat", group.id)
    assert [action for action, _, _ in history] == ["moved"]


async def test_a_group_the_bot_was_removed_from_is_unbound_and_the_dispatcher_told_once(
        uow: UnitOfWorkFactory, clock: FixedClock, engine: AsyncEngine, group: Group,
        channel: GroupChannel, ticker: Ticker) -> None:
    sender = make_sender(uow, clock, channel, ticker)
    channel.answers = {"-77": Blocked("Forbidden: bot was kicked from the group chat")}
    channel.hold.clear()
    channel.expected = 2
    await sender.drain_once()
    await channel.waiting.wait()
    assert channel.tried == ["-77", "-77"]  # both on their way when the first answer comes
    channel.hold.set()
    await sender.settle()
    await passes(sender, ticker)
    async with uow() as u:
        unbound = next(g for g in await u.groups.all() if g.id == group.id)
    assert unbound.chat_id is None and unbound.bind_code and unbound.bind_code != group.bind_code
    assert unbound.subscriptions == ("daily_summary",)
    assert [chat for chat, _ in channel.delivered] == ["1003"]  # 刘芳, dispatcher of 汉滨区
    notice = channel.delivered[0][1].text
    assert "汉滨区指挥部群" in notice and "汉滨区" in notice
    assert f"/bindgroup {unbound.bind_code}" in notice
    assert [st for _, st, _ in await states(engine)] == [
        OutboxState.FAILED, OutboxState.FAILED, OutboxState.SENT]


async def test_the_notice_is_in_the_dispatchers_language(
        uow: UnitOfWorkFactory, clock: FixedClock, bound: World, group: Group,
        channel: GroupChannel, ticker: Ticker) -> None:
    async with uow() as u:
        await u.people.set_language(bound.dispatcher, "en")
        await u.commit()
    channel.answers = {"-77": Blocked("Forbidden: bot is not a member of the group chat")}
    await passes(make_sender(uow, clock, channel, ticker), ticker)
    [(chat, notice)] = channel.delivered
    assert chat == "1003"
    assert notice.text.startswith("The group chat “汉滨区指挥部群” (汉滨区) no longer receives")
    assert "add the bot back to the group" in notice.text and "/bindgroup " in notice.text
