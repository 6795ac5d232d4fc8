"""The outbox sender, shared by every channel.

One pass: read the due messages, find each recipient's chat on a running channel, take a slot
under that channel's limits for as many as fit now, claim those (one commit), send them
concurrently and mark them sent as their platforms answer. What does not fit waits for the next
pass; a flood wait pauses the channel; server errors and time-outs retry with backoff; a person
who blocked the bot is marked unreachable and the dispatchers told; a group whose chat moved
(upgraded to a supergroup) follows it and gets the message there; a group the bot was removed
from is unbound, with a fresh code, and the dispatchers told.

Only one sender may run per deployment (the limits are per bot, not per process): the caller
holds the leader lock (`storage.leader`). A crash can repeat only the messages in flight at that
moment: the platform took them but the mark was not yet committed. To keep that window short,
successes are marked by group commit: one marker commits, in one statement, every success that
arrived while its previous commit was being made, instead of one commit per message queueing
for the database (on SQLite units of work take turns).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.clock import Clock, local_today
from domain.events import Outgoing
from handlers.context import Texts
from handlers.groups import unbind_and_tell
from handlers.notify import unreachable
from reminders.delivery import (
    Blocked,
    DeliveryPort,
    Moved,
    PermanentFailure,
    RetryAfter,
    TemporaryFailure,
)
from reminders.limits import Slot
from storage.repositories.outbox import OutboxItem
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Address:
    channel: str
    chat_id: str
    group: bool


@dataclass(frozen=True, slots=True)
class SenderSettings:
    batch: int = 500
    concurrency: int = 64
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 8
    backoff_base: float = 2.0  # seconds; doubled per attempt
    backoff_cap: float = 600.0
    idle_poll: float = 2.0  # seconds between looks when nothing is due (other processes write)


def _recipient(item: OutboxItem) -> tuple[str, int]:
    """("person" or "group", its id) from "person:12"."""
    kind, _, ident = item.recipient.partition(":")
    return kind, int(ident)


def backoff(attempts: int, settings: SenderSettings) -> float:
    return float(min(settings.backoff_base * 2 ** attempts, settings.backoff_cap))


class OutboxSender:
    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock,
                 ports: Sequence[DeliveryPort], *, texts_for: Callable[[str | None], Texts],
                 settings: SenderSettings | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._uow = uow
        self._clock = clock
        self._ports: Mapping[str, DeliveryPort] = {p.channel: p for p in ports}
        self._texts_for = texts_for
        self.settings = settings or SenderSettings()
        self._monotonic = monotonic
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[int] = set()
        self._unmarked: dict[int, asyncio.Future[None]] = {}  # answered, waiting for the marker
        self._marker: asyncio.Task[None] | None = None
        self.sent = 0

    def wake(self) -> None:
        """Something was written to the outbox: look now rather than at the next poll."""
        self._wake.set()

    async def recover(self, *, all_claims: bool) -> int:
        async with self._uow() as uow:
            count = await uow.outbox.recover(self._clock.now(), all_claims=all_claims)
            await uow.commit()
        if count:
            logger.warning("outbox: %d message(s) were being sent when the sender stopped; "
                           "sending them again", count)
        return count

    async def run(self, stop: asyncio.Event) -> None:
        await self.recover(all_claims=True)
        while not stop.is_set():
            try:
                wait = await self.drain_once()
            except Exception:
                logger.exception("outbox: pass failed; trying again shortly")
                wait = self.settings.idle_poll
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()),
                       asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        await self.settle()

    async def settle(self) -> None:
        """Wait for every send in flight to be answered and its mark committed."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def drain_once(self) -> float:
        """Start every due message that fits the limits now; returns seconds until the next
        pass is worth making (0 when more can go at once)."""
        room = self.settings.concurrency - len(self._in_flight)
        if room <= 0:
            return 0.01
        now = self._clock.now()
        async with self._uow() as uow:
            # What fits now is at most `room`; reading a few times that leaves room for rows
            # whose chat must wait, without reading the whole backlog on every pass.
            limit = min(self.settings.batch, room * 4)
            items = [i for i in await uow.outbox.due(now, limit=limit)
                     if i.id not in self._in_flight]
            addresses = await self._addresses(uow, items)
        if not items:
            return await self._idle_wait(now)
        unaddressed = [i for i in items if i.id not in addresses]
        if unaddressed:
            await self._fail_unaddressed(unaddressed)
        picked: list[tuple[OutboxItem, Address, Slot]] = []
        wait = self.settings.idle_poll
        t = self._monotonic()
        for item in items:
            address = addresses.get(item.id)
            if address is None:
                continue
            if len(picked) >= room:
                wait = 0.01
                break
            limiter = self._ports[address.channel].limiter
            slot = limiter.try_acquire(address.chat_id, group=address.group, now=t)
            if slot is None:
                free_at = limiter.free_at(address.chat_id, group=address.group, now=t)
                wait = min(wait, max(free_at - t, 0.005) if free_at != float("inf") else 0.01)
                continue
            picked.append((item, address, slot))
        if not picked:
            return wait
        async with self._uow() as uow:
            claimed = await uow.outbox.claim([i.id for i, _, _ in picked],
                                             lease_until=now + self.settings.lease)
            await uow.commit()
        for item, address, slot in picked:
            if item.id not in claimed:  # another sender took it: should not happen, harmless
                self._ports[address.channel].limiter.cancel(slot)
                continue
            self._in_flight.add(item.id)
            task = asyncio.create_task(self._send(item, address, slot))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return 0.0 if len(picked) >= room else min(wait, self.settings.idle_poll)

    async def _idle_wait(self, now: datetime) -> float:
        async with self._uow() as uow:
            next_at = await uow.outbox.next_due_at()
        if next_at is None:
            return self.settings.idle_poll
        return min(max((next_at - now).total_seconds(), 0.005), self.settings.idle_poll)

    async def _addresses(self, uow: UnitOfWork, items: Sequence[OutboxItem],
                         ) -> dict[int, Address]:
        recipients = {item.id: _recipient(item) for item in items}
        people = await uow.people.chats([n for kind, n in recipients.values() if kind == "person"])
        groups = await uow.groups.chats([n for kind, n in recipients.values() if kind == "group"])
        found: dict[int, Address] = {}
        for item in items:
            kind, ident = recipients[item.id]
            if kind == "group":
                if (chat := groups.get(ident)) and chat[0] in self._ports \
                        and item.channel in (None, chat[0]):
                    found[item.id] = Address(chat[0], chat[1], group=True)
                continue
            chats = people.get(ident, {})
            for channel in ([item.channel] if item.channel else list(self._ports)):
                if channel in chats and channel in self._ports:
                    found[item.id] = Address(channel, chats[channel], group=False)
                    break
        return found

    async def _fail_unaddressed(self, items: Sequence[OutboxItem]) -> None:
        async with self._uow() as uow:
            for item in items:
                await uow.outbox.fail(item.id, "no reachable chat on a running channel")
            await uow.commit()
        for item in items:
            logger.info("outbox: %s %s not sent: no reachable chat on a running channel",
                        item.kind, item.recipient)

    async def _send(self, item: OutboxItem, address: Address, slot: Slot) -> None:
        port = self._ports[address.channel]
        outcome: BaseException | None = None
        try:
            if port.limiter.paused_until > self._monotonic():
                port.limiter.cancel(slot)
                await self._put_back(item, port.limiter.paused_until - self._monotonic())
                return
            try:
                await port.deliver(address.chat_id, Outgoing.from_payload(item.payload),
                                   group=address.group, slot=slot, kind=item.kind,
                                   outbox_id=item.id)
            except (RetryAfter, Blocked, Moved, TemporaryFailure, PermanentFailure) as exc:
                outcome = exc
            except (TimeoutError, OSError) as exc:
                outcome = TemporaryFailure(str(exc) or type(exc).__name__)
            port.limiter.done(slot, self._monotonic())
            if isinstance(outcome, RetryAfter) and not outcome.chat_only:
                # Paused now, not once the retry is written: sends about to start must see it.
                port.limiter.pause(self._monotonic() + outcome.seconds)
            if outcome is None:
                await self._mark_sent(item.id)
            else:
                await self._mark(item, address, outcome)
        except Exception:
            logger.exception("outbox: message %d could not be marked", item.id)
        finally:
            self._in_flight.discard(item.id)
            self._wake.set()

    async def _put_back(self, item: OutboxItem, seconds: float) -> None:
        async with self._uow() as uow:
            await uow.outbox.retry(item.id, at=self._clock.now() + timedelta(seconds=seconds),
                                   error=None, count_attempt=False)
            await uow.commit()

    async def _mark_sent(self, message_id: int) -> None:
        """Hand a success to the marker; returns once its mark is committed."""
        committed = asyncio.get_running_loop().create_future()
        self._unmarked[message_id] = committed
        if self._marker is None:
            self._marker = asyncio.create_task(self._mark_answered())
        await committed

    async def _mark_answered(self) -> None:
        """The marker: while successes wait, mark all that have arrived in one commit.

        A batch is taken once the unit of work is open (on SQLite, once its turn came), so what
        arrived while waiting for the turn goes in it too.
        """
        batch: dict[int, asyncio.Future[None]] = {}
        try:
            while self._unmarked:
                try:
                    async with self._uow() as uow:
                        batch, self._unmarked = self._unmarked, {}
                        await uow.outbox.mark_sent_many(list(batch), self._clock.now())
                        await uow.commit()
                except Exception as exc:
                    if not batch:  # failed before taking it: nothing of what waits is marked
                        batch, self._unmarked = self._unmarked, {}
                    _answer(batch, exc)
                else:
                    self.sent += len(batch)
                    _answer(batch, None)
                batch = {}
        finally:
            self._marker = None
            _answer(batch | self._unmarked, asyncio.CancelledError())  # only when cancelled
            self._unmarked = {}

    async def _mark(self, item: OutboxItem, address: Address, outcome: BaseException) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            if isinstance(outcome, RetryAfter):
                await uow.outbox.retry(item.id, at=now + timedelta(seconds=outcome.seconds),
                                       error=str(outcome), count_attempt=False)
                if outcome.chat_only:  # its port holds that chat back
                    logger.info("outbox: message %d to %s waits %g s for its %s robot",
                                item.id, item.recipient, outcome.seconds, address.channel)
                else:  # paused when the answer came (`_send`)
                    logger.warning("outbox: %s asked to wait %g s; channel paused",
                                   address.channel, outcome.seconds)
            elif isinstance(outcome, Moved) and _recipient(item)[0] == "group":
                await self._follow(uow, item, address, outcome.chat_id, now)
            elif isinstance(outcome, TemporaryFailure) \
                    and item.attempts + 1 < self.settings.max_attempts:
                delay = backoff(item.attempts, self.settings)
                await uow.outbox.retry(item.id, at=now + timedelta(seconds=delay),
                                       error=str(outcome)[:500], count_attempt=True)
                logger.warning("outbox: message %d to %s failed (%s); retry %d in %g s",
                               item.id, item.recipient, outcome, item.attempts + 1, delay)
            else:
                await uow.outbox.fail(item.id, f"{type(outcome).__name__}: {outcome}")
                logger.warning("outbox: message %d to %s given up: %s", item.id,
                               item.recipient, outcome)
                kind, ident = _recipient(item)
                if isinstance(outcome, Blocked) and kind == "person":
                    if (person := await uow.people.get(ident)) is not None:
                        await unreachable(uow, person, texts_for=self._texts_for, now=now,
                                          today=local_today(self._clock))
                        logger.warning("outbox: person %d blocked the bot; marked unreachable",
                                       ident)
                elif isinstance(outcome, Blocked) and kind == "group":
                    await unbind_and_tell(uow, address.channel, address.chat_id, now=now,
                                          today=local_today(self._clock),
                                          texts_for=self._texts_for)
            await uow.commit()

    async def _follow(self, uow: UnitOfWork, item: OutboxItem, address: Address,
                      new_chat_id: str, now: datetime) -> None:
        """The group's chat has a new id: bind the group to it and send again at once.

        No attempt is counted when the group is at the new id (moved now, or already by the
        service message or another send's answer); otherwise (the group was unbound meanwhile,
        or a chat says it moved to itself) one is, so a chat that keeps saying it moved is
        given up like any other failure."""
        moved = await uow.groups.move_chat(address.channel, address.chat_id, new_chat_id,
                                           now=now)
        group_id = _recipient(item)[1]
        there = moved is not None or (await uow.groups.chats([group_id])).get(group_id) == (
            address.channel, new_chat_id)
        await uow.outbox.retry(item.id, at=now, error=f"moved to {new_chat_id}",
                               count_attempt=not there)
        if moved is not None:
            logger.warning("outbox: %s group %d moved from chat %s to %s; message %d goes "
                           "there", address.channel, moved.id, address.chat_id, new_chat_id,
                           item.id)


def _answer(waiting: Mapping[int, asyncio.Future[None]], error: BaseException | None) -> None:
    for future in waiting.values():
        if future.done():  # its send was cancelled
            continue
        if error is None:
            future.set_result(None)
        elif isinstance(error, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(error)
