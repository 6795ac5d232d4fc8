"""Marks by group commit: answers that arrive together are marked in one commit, none is lost
when the sender stops, and failures among them are still retried or given up one by one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.events import Outgoing
from domain.model import OutboxState
from reminders.delivery import Blocked, RetryAfter, TemporaryFailure
from reminders.limits import ChannelLimits, Limit, Limiter, Slot
from storage import models as m
from storage.uow import UnitOfWorkFactory
from tests.clocks import Ticker
from tests.reminders.test_outbox_sender import make_sender
from tests.world import World

LIMITS = ChannelLimits(overall=Limit(30, 1.0), per_chat=Limit(1, 1.0))
CHATS = ("1001", "1002", "1003", "1004")


@dataclass
class HeldChannel:
    """A channel whose platform answers only when the test lets it, with what the test set
    for each chat (nothing: delivered)."""

    limiter: Limiter
    channel: str = "test"
    expected: int = len(CHATS)
    answers: dict[str, BaseException] = field(default_factory=dict)
    delivered: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    all_in_flight: asyncio.Event = field(default_factory=asyncio.Event)
    _entered: int = 0

    async def deliver(self, chat_id: str, message: Outgoing, *, group: bool,
                      slot: Slot | None = None, kind: str = "", outbox_id: int = 0) -> None:
        self._entered += 1
        if self._entered >= self.expected:
            self.all_in_flight.set()
        await self.release.wait()
        if (answer := self.answers.pop(chat_id, None)) is not None:
            raise answer
        self.delivered.append(chat_id)


@pytest.fixture
async def people(uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> dict[str, int]:
    """Four people with a chat each on the channel: {chat: person id}."""
    chats = dict(zip(CHATS, (world.liaison, world.leader, world.dispatcher, world.viewer),
                     strict=True))
    async with uow() as u:
        for chat, person_id in chats.items():
            await u.people.bind_identity(person_id, "test", chat, clock.now())
        await u.commit()
    return chats


@pytest.fixture
async def one_each(uow: UnitOfWorkFactory, clock: FixedClock, people: dict[str, int]) -> None:
    """One pending reminder to each of the four, its subject the chat it goes to."""
    async with uow() as u:
        for chat, person_id in people.items():
            await u.outbox.enqueue(kind="test", period="2026-11-22",
                                   recipient=f"person:{person_id}", subject=chat,
                                   payload=Outgoing(text=f"提醒{chat}").to_payload(),
                                   now=clock.now())
        await u.commit()


@pytest.fixture
def commits(engine: AsyncEngine) -> Iterator[list[object]]:
    """Every transaction the database committed while the test ran."""
    seen: list[object] = []

    def record(conn: Any) -> None:
        seen.append(conn)

    event.listen(engine.sync_engine, "commit", record)
    yield seen
    event.remove(engine.sync_engine, "commit", record)


async def states(engine: AsyncEngine) -> dict[str, tuple[OutboxState, int]]:
    """{subject: (state, attempts)} of every outbox row."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(m.OutboxMessage.subject, m.OutboxMessage.state,
                                         m.OutboxMessage.attempts))
        return {s: (OutboxState(st), a) for s, st, a in rows}


@pytest.fixture
def channel() -> HeldChannel:
    return HeldChannel(Limiter(LIMITS))


@pytest.mark.usefixtures("one_each")
async def test_answers_that_arrive_together_are_marked_in_one_commit(
        uow: UnitOfWorkFactory, clock: FixedClock, engine: AsyncEngine, channel: HeldChannel,
        ticker: Ticker, commits: list[object]) -> None:
    sender = make_sender(uow, clock, channel, ticker)
    await sender.drain_once()
    await channel.all_in_flight.wait()
    assert await states(engine) == dict.fromkeys(CHATS, (OutboxState.SENDING, 0))
    before = len(commits)
    channel.release.set()
    await sender.settle()
    assert sorted(channel.delivered) == list(CHATS)
    assert await states(engine) == dict.fromkeys(CHATS, (OutboxState.SENT, 0))
    assert sender.sent == 4
    assert len(commits) - before == 1  # four answers, one commit


@pytest.mark.usefixtures("one_each")
async def test_a_sender_stopped_with_sends_in_flight_leaves_no_answered_one_unmarked(
        uow: UnitOfWorkFactory, clock: FixedClock, engine: AsyncEngine, channel: HeldChannel,
        ticker: Ticker) -> None:
    channel.answers = {"1004": TemporaryFailure("HTTP 502")}
    sender = make_sender(uow, clock, channel, ticker)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await channel.all_in_flight.wait()
    stop.set()
    channel.release.set()
    await running
    assert await states(engine) == {"1001": (OutboxState.SENT, 0),
                                    "1002": (OutboxState.SENT, 0),
                                    "1003": (OutboxState.SENT, 0),
                                    "1004": (OutboxState.PENDING, 1)}
    assert sender.sent == 3
    assert await sender.recover(all_claims=True) == 0  # a restart finds nothing half-done


@pytest.mark.usefixtures("one_each")
async def test_failures_answered_with_successes_are_still_retried_or_given_up(
        uow: UnitOfWorkFactory, clock: FixedClock, engine: AsyncEngine, channel: HeldChannel,
        ticker: Ticker, people: dict[str, int]) -> None:
    channel.answers = {"1001": Blocked("Forbidden: bot was blocked by the user"),
                       "1002": TemporaryFailure("HTTP 500"),
                       "1004": RetryAfter(7)}
    sender = make_sender(uow, clock, channel, ticker)
    await sender.drain_once()
    channel.release.set()
    await sender.settle()
    found = await states(engine)
    assert {chat: found[chat] for chat in CHATS} == {
        "1001": (OutboxState.FAILED, 1),  # blocked: given up at once
        "1002": (OutboxState.PENDING, 1),  # server error: retried with backoff
        "1003": (OutboxState.SENT, 0),
        "1004": (OutboxState.PENDING, 0)}  # flood wait: no attempt counted
    assert found[f"person:{people['1001']}"] == (OutboxState.PENDING, 0)  # the dispatcher told
    assert channel.limiter.paused_until == ticker.now + 7
    assert sender.sent == 1
    async with uow() as u:
        blocked = await u.people.get(people["1001"])
    assert blocked is not None and not blocked.reachable

    clock.advance(timedelta(seconds=7))
    ticker.now += 7
    channel.expected = 0
    await sender.drain_once()
    await sender.settle()
    found = await states(engine)
    assert {s for s, _ in found.values()} == {OutboxState.SENT, OutboxState.FAILED}
    assert found["1001"] == (OutboxState.FAILED, 1)
    assert sorted(channel.delivered) == ["1002", "1003", "1003", "1004"]  # 1003: the notice
    assert sender.sent == 4


@pytest.mark.usefixtures("one_each")
async def test_a_flood_wait_pauses_the_channel_before_the_database_is_free(
        uow: UnitOfWorkFactory, clock: FixedClock, engine: AsyncEngine, channel: HeldChannel,
        ticker: Ticker) -> None:
    """Sends about to start must see a 429 at once, not once the sender gets its turn at the
    database (on SQLite a unit of work held elsewhere makes it wait)."""
    channel.answers = {"1004": RetryAfter(7)}
    sender = make_sender(uow, clock, channel, ticker)
    await sender.drain_once()
    await channel.all_in_flight.wait()
    async with uow() as held:
        await held.outbox.next_due_at()
        channel.release.set()
        for _ in range(50):  # let every answered send run as far as it can
            await asyncio.sleep(0)
        assert "1004" not in channel.answers
        assert channel.limiter.paused_until == ticker.now + 7
    await sender.settle()
    assert (await states(engine))["1004"] == (OutboxState.PENDING, 0)
