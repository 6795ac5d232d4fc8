"""The outbox sender against a fake channel: sent once, limits kept, every failure handled."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import translator
from domain.clock import FixedClock
from domain.events import Button, Outgoing
from domain.model import OutboxState
from reminders.delivery import (
    Blocked,
    DeliveryPort,
    PermanentFailure,
    RetryAfter,
    TemporaryFailure,
)
from reminders.limits import ChannelLimits, Limit, Limiter, Slot
from reminders.outbox import OutboxSender, SenderSettings
from storage import models as m
from storage.uow import UnitOfWorkFactory
from tests.clocks import Ticker
from tests.world import World


@dataclass
class FakeChannel:
    """A channel that records what it was given and answers what the test tells it to."""

    limiter: Limiter
    channel: str = "test"
    delivered: list[tuple[str, Outgoing]] = field(default_factory=list)
    answers: list[BaseException] = field(default_factory=list)

    async def deliver(self, chat_id: str, message: Outgoing, *, group: bool,
                      slot: Slot | None = None, kind: str = "", outbox_id: int = 0) -> None:
        if self.answers:
            raise self.answers.pop(0)
        self.delivered.append((chat_id, message))


LIMITS = ChannelLimits(overall=Limit(30, 1.0), per_chat=Limit(1, 1.0), per_group=Limit(20, 60.0))


@pytest.fixture
async def bound(uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> World:
    async with uow() as u:
        for person_id, external in ((world.liaison, "1001"), (world.leader, "1002"),
                                    (world.dispatcher, "1003")):
            await u.people.bind_identity(person_id, "test", external, clock.now())
        await u.commit()
    return world


async def enqueue(uow: UnitOfWorkFactory, clock: FixedClock, recipient: str, text: str,
                  *, subject: str = "") -> None:
    async with uow() as u:
        await u.outbox.enqueue(kind="test", period="2026-11-22", recipient=recipient,
                               subject=subject or text, now=clock.now(),
                               payload=Outgoing(text=text, buttons=(
                                   (Button("填报", "/report"),),)).to_payload())
        await u.commit()


async def states(engine: AsyncEngine) -> list[tuple[str, OutboxState, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(m.OutboxMessage.subject, m.OutboxMessage.state,
                                         m.OutboxMessage.attempts).order_by(m.OutboxMessage.id))
        return [(s, OutboxState(st), a) for s, st, a in rows]


def make_sender(uow: UnitOfWorkFactory, clock: FixedClock, channel: DeliveryPort,
                ticker: Ticker) -> OutboxSender:
    return OutboxSender(uow, clock, [channel], texts_for=translator, monotonic=ticker,
                        settings=SenderSettings(max_attempts=3))


@pytest.fixture
def channel() -> FakeChannel:
    return FakeChannel(Limiter(LIMITS))


async def test_each_message_is_sent_once_with_its_buttons(
        uow: UnitOfWorkFactory, clock: FixedClock, bound: World, engine: AsyncEngine,
        channel: FakeChannel, ticker: Ticker) -> None:
    await enqueue(uow, clock, f"person:{bound.liaison}", "请填报今日日报")
    await enqueue(uow, clock, f"person:{bound.leader}", "本周走访提醒")
    sender = make_sender(uow, clock, channel, ticker)
    await sender.drain_once()
    await sender.settle()
    assert sorted(c for c, _ in channel.delivered) == ["1001", "1002"]
    assert channel.delivered[0][1].buttons[0][0].data == "/report"
    assert [s for _, s, _ in await states(engine)] == [OutboxState.SENT] * 2
    await sender.drain_once()
    await sender.settle()
    assert len(channel.delivered) == 2  # nothing twice


async def test_one_chat_gets_one_message_a_second(
        uow: UnitOfWorkFactory, clock: FixedClock, bound: World, channel: FakeChannel,
        ticker: Ticker) -> None:
    for n in range(3):
        await enqueue(uow, clock, f"person:{bound.liaison}", f"第{n}条")
    sender = make_sender(uow, clock, channel, ticker)
    wait = await sender.drain_once()
    await sender.settle()
    assert len(channel.delivered) == 1
    assert await sender.drain_once() > 0  # the chat's second is not over
    await sender.settle()
    assert len(channel.delivered) == 1
    ticker.now += 1.0
    await sender.drain_once()
    await sender.settle()
    assert [m.text for _, m in channel.delivered] == ["第0条", "第1条"]
    assert wait >= 0


async def test_flood_wait_pauses_the_channel_and_costs_no_attempt(
        uow: UnitOfWorkFactory, clock: FixedClock, bound: World, engine: AsyncEngine,
        channel: FakeChannel, ticker: Ticker) -> None:
    await enqueue(uow, clock, f"person:{bound.liaison}", "甲")
    channel.answers = [RetryAfter(7)]
    sender = make_sender(uow, clock, channel, ticker)
    await sender.drain_once()
    await sender.settle()
    assert await states(engine) == [("甲", OutboxState.PENDING, 0)]
    clock.advance(timedelta(seconds=6))
    ticker.now += 6
    await sender.drain_once()
    await sender.settle()
    assert channel.delivered == []
    clock.advance(timedelta(seconds=1))
    ticker.now += 1
    await sender.drain_once()
    await sender.settle()
    assert [m.text for _, m in channel.delivered] == ["甲"]


async def test_server_errors_back_off_then_give_up(
        uow: UnitOfWorkFactory, clock: FixedClock, bound: World, engine: AsyncEngine,
        channel: FakeChannel, ticker: Ticker) -> None:
    await enqueue(uow, clock, f"person:{bound.liaison}", "乙")
    channel.answers = [TemporaryFailure("500"), TemporaryFailure("timeout"),
                       TemporaryFailure("500")]
    sender = make_sender(uow, clock, channel, ticker)
    for expected_attempts, wait in ((1, 2), (2, 4)):
        await sender.drain_once()
        await sender.settle()
        assert await states(engine) == [("乙", OutboxState.PENDING, expected_attempts)]
        clock.advance(timedelta(seconds=wait))
        ticker.now += wait
    await sender.drain_once()
    await sender.settle()
    assert await states(engine) == [("乙", OutboxState.FAILED, 3)]  # max_attempts=3


async def test_a_person_who_blocked_the_bot_is_marked_and_the_dispatcher_told(
        uow: UnitOfWorkFactory, clock: FixedClock, bound: World, engine: AsyncEngine,
        channel: FakeChannel, ticker: Ticker) -> None:
    await enqueue(uow, clock, f"person:{bound.liaison}", "丙")
    await enqueue(uow, clock, f"person:{bound.liaison}", "丁")
    channel.answers = [Blocked("Forbidden: bot was blocked by the user")]
    sender = make_sender(uow, clock, channel, ticker)
    await sender.drain_once()
    await sender.settle()
    ticker.now += 1
    await sender.drain_once()
    await sender.settle()
    async with uow() as u:
        wang = await u.people.get(bound.liaison)
    assert wang is not None and not wang.reachable
    assert [c for c, _ in channel.delivered] == ["1003"]  # only the dispatcher's notice
    assert "王磊" in channel.delivered[0][1].text and "屏蔽" in channel.delivered[0][1].text
    assert [(s, st) for s, st, _ in await states(engine)][:2] == [
        ("丙", OutboxState.FAILED), ("丁", OutboxState.FAILED)]


async def test_a_refused_message_fails_at_once_and_others_go_on(
        uow: UnitOfWorkFactory, clock: FixedClock, bound: World, engine: AsyncEngine,
        channel: FakeChannel, ticker: Ticker) -> None:
    await enqueue(uow, clock, f"person:{bound.liaison}", "戊")
    await enqueue(uow, clock, f"person:{bound.viewer}", "己")  # viewer has no chat bound
    channel.answers = [PermanentFailure("Bad Request: chat not found")]
    sender = make_sender(uow, clock, channel, ticker)
    await sender.drain_once()
    await sender.settle()
    assert [(s, st) for s, st, _ in await states(engine)] == [
        ("戊", OutboxState.FAILED), ("己", OutboxState.FAILED)]


async def test_messages_in_flight_at_a_crash_are_sent_again_on_start(
        uow: UnitOfWorkFactory, clock: FixedClock, bound: World, engine: AsyncEngine,
        channel: FakeChannel, ticker: Ticker) -> None:
    await enqueue(uow, clock, f"person:{bound.liaison}", "庚")
    async with uow() as u:
        ids = [i.id for i in await u.outbox.due(clock.now(), limit=10)]
        assert await u.outbox.claim(ids, lease_until=clock.now() + timedelta(minutes=5))
        await u.commit()
    sender = make_sender(uow, clock, channel, ticker)
    await sender.drain_once()
    assert channel.delivered == []  # claimed by the sender that died
    assert await sender.recover(all_claims=True) == 1
    await sender.drain_once()
    await sender.settle()
    assert [m.text for _, m in channel.delivered] == ["庚"]
    assert await states(engine) == [("庚", OutboxState.SENT, 0)]


async def test_a_group_gets_twenty_a_minute(
        uow: UnitOfWorkFactory, clock: FixedClock, bound: World, channel: FakeChannel,
        ticker: Ticker) -> None:
    async with uow() as u:
        group = await u.groups.prepare("指挥部群", region_id=bound.hanbin, unit_id=None,
                                       subscriptions=["daily_summary"], now=clock.now())
        await u.groups.bind(group.id, channel="test", chat_id="-77", title=None,
                            by=bound.dispatcher, now=clock.now())
        await u.commit()
    for n in range(25):
        await enqueue(uow, clock, f"group:{group.id}", f"汇总{n}")
    sender = make_sender(uow, clock, channel, ticker)
    for _ in range(60):
        await sender.drain_once()
        await sender.settle()
        ticker.now += 1
    assert len(channel.delivered) == 20
    assert all(chat == "-77" for chat, _ in channel.delivered)
    ticker.now += 1
    await sender.drain_once()
    await sender.settle()
    assert len(channel.delivered) == 21
