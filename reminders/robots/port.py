"""A robot kind as an outbox channel: one `RobotPort` per kind, one network edge for all three.

The outbox gives a message to a robot group (`group:ID`, whose chat id is its robot's
fingerprint) with a slot of the port's limits already taken. The limits hold one message at a
time per robot (its parts stay together and in order) and the robot's own rate. A message that
is several platform messages (markdown parts, the chart) takes a further slot for each; a
part already delivered is remembered, so a retry goes on from the next one rather than sending
the first again. A platform's rate-limit answer holds back only that robot.

Nothing here logs a URL or a secret: log lines name the robot kind and the group.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import NoReturn, assert_never

import aiohttp

from domain.events import Outgoing
from reminders.delivery import PermanentFailure, RetryAfter, TemporaryFailure, acquire
from reminders.limits import ChannelLimits, Limiter, Slot
from reminders.robots.base import (
    Delivered,
    Outcome,
    Piece,
    Refused,
    Robot,
    RobotTarget,
    Trouble,
    Wait,
)
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

TargetLookup = Callable[[str, str], Awaitable[RobotTarget | None]]
"""(kind, chat id) → the robot's target, or None when no group has that robot any more."""

_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def stored_targets(uow: Callable[[], UnitOfWork]) -> TargetLookup:
    """Targets read from the group chats table at each send (a changed secret applies at once)."""

    async def lookup(kind: str, chat_id: str) -> RobotTarget | None:
        async with uow() as u:
            hook = await u.groups.webhook(kind, chat_id)
        return None if hook is None else RobotTarget(hook.group_id, hook.url, hook.secret)

    return lookup


def _message_key(chat_id: str, message: Outgoing) -> tuple[str, str]:
    digest = hashlib.sha256(message.text.encode("utf-8"))
    digest.update(message.image or b"")
    return chat_id, digest.hexdigest()


class RobotPort:
    """The outbox channel of one robot kind (`channel` is the kind: "dingtalk", …)."""

    def __init__(self, robot: Robot, targets: TargetLookup, *, chart_note: str = "",
                 limits: ChannelLimits | None = None,
                 session: aiohttp.ClientSession | None = None, timeout: float = 15.0,
                 wall: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 remembered: int = 1000) -> None:
        self.robot = robot
        self.channel: str = robot.kind.value
        self.limiter = Limiter(limits or robot.limits)
        self._targets = targets
        self._chart_note = chart_note
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout
        self._wall = wall
        self._monotonic = monotonic
        self._sleep = sleep
        self._remembered = remembered
        self._progress: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._paused: dict[str, float] = {}
        self._last: dict[str, float] = {}

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout))
        return self._session

    async def deliver(self, chat_id: str, message: Outgoing, *, group: bool,
                      slot: Slot | None = None, kind: str = "", outbox_id: int = 0) -> None:
        target = await self._targets(self.channel, chat_id)
        if target is None:
            raise PermanentFailure(f"no group has this {self.channel} webhook any more")
        waiting = self._paused.get(chat_id, 0.0) - self._monotonic()
        if waiting > 0:
            raise RetryAfter(waiting, chat_only=True)
        self._paused.pop(chat_id, None)
        pieces = await self._pieces(message)
        key = _message_key(chat_id, message)
        start = self._progress.get(key, 0)
        for index in range(start, len(pieces)):
            own = slot if index == start else None
            outcome = await self._send(target, chat_id, pieces[index], own)
            if isinstance(outcome, Delivered):
                self._remember(key, index + 1)
                continue
            self._fail(target, chat_id, key, pieces[index], outcome)
        self._progress.pop(key, None)

    async def _pieces(self, message: Outgoing) -> list[Piece]:
        if message.image is None:
            return self.robot.pieces(message, chart_note=self._chart_note)
        # Re-encoding a large image takes a while: off the event loop.
        return await asyncio.to_thread(self.robot.pieces, message, chart_note=self._chart_note)

    async def _send(self, target: RobotTarget, chat_id: str, piece: Piece,
                    slot: Slot | None) -> Outcome:
        """One platform message, in the caller's slot or in one taken here (the caller's
        covers only the first part of a message)."""
        own = None
        if slot is None:
            own = await acquire(self.limiter, chat_id, group=False, monotonic=self._monotonic,
                                sleep=self._sleep)
            gap = self._last.get(chat_id, float("-inf")) + self.robot.min_interval \
                - self._monotonic()
            if gap > 0:
                await self._sleep(gap)
        try:
            return await self._post(target, piece)
        finally:
            self._last[chat_id] = self._monotonic()
            if own is not None:
                self.limiter.done(own, self._monotonic())

    async def _post(self, target: RobotTarget, piece: Piece) -> Outcome:
        request = self.robot.request(target, piece, now=self._wall())
        try:
            async with self._http().post(request.url, data=request.body,
                                         headers=_HEADERS) as response:
                body = await response.read()
                return self.robot.read_answer(response.status, body)
        except aiohttp.InvalidURL:  # its text is the URL: never shown
            return Refused(None, "the webhook URL is not a valid URL")
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Trouble(target.scrub(f"{type(exc).__name__}: {exc}"))

    def _remember(self, key: tuple[str, str], delivered: int) -> None:
        self._progress[key] = delivered
        self._progress.move_to_end(key)
        while len(self._progress) > self._remembered:
            self._progress.popitem(last=False)

    def _fail(self, target: RobotTarget, chat_id: str, key: tuple[str, str], piece: Piece,
              outcome: Wait | Refused | Trouble) -> NoReturn:
        """Raise what the outbox understands for a piece that was not delivered."""
        kind, group = self.channel, target.group_id
        if isinstance(outcome, Wait):
            self._paused[chat_id] = self._monotonic() + outcome.seconds
            logger.warning("robots: the %s webhook of group %d is rate-limited (errcode %s %s); "
                           "it waits %g s", kind, group, outcome.errcode,
                           target.scrub(outcome.message), outcome.seconds)
            raise RetryAfter(outcome.seconds, chat_only=True)
        if isinstance(outcome, Refused):  # the outbox logs it, with the message and group
            self._progress.pop(key, None)
            hint = f" — {outcome.hint}" if outcome.hint else ""
            code = "" if outcome.errcode is None else f"errcode {outcome.errcode} "
            reason = target.scrub(f"{code}{outcome.message}".strip())
            raise PermanentFailure(f"the {kind} webhook of group {group} refused the "
                                   f"{piece.what}: {reason}{hint}")
        if isinstance(outcome, Trouble):
            raise TemporaryFailure(f"the {kind} webhook of group {group}: {outcome.detail}")
        assert_never(outcome)
