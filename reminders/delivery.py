"""The port every channel's sender implements, and what a send can answer.

A channel (Telegram, WeCom, a robot) turns an `Outgoing` into its platform's calls and maps the
platform's answers to these exceptions; the outbox sender decides what each means.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from domain.events import Outgoing
from reminders.limits import Limiter, Slot


class RetryAfter(Exception):
    """Flood control (429): wait `seconds` before sending anything on this channel.

    `chat_only`: only this chat waits, not the whole channel. A robot is rate-limited by itself,
    not with every robot of its kind: its port holds it back, and the outbox pauses nothing.
    """

    def __init__(self, seconds: float, *, chat_only: bool = False) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds
        self.chat_only = chat_only


class Blocked(Exception):
    """The person blocked the bot or left, or the bot was removed from the group (403)."""


class Moved(Exception):
    """The group chat now has another id (a Telegram group upgraded to a supergroup): the
    message was not delivered, and is worth sending again at once to `chat_id`."""

    def __init__(self, chat_id: str) -> None:
        super().__init__(f"the chat moved to {chat_id}")
        self.chat_id = chat_id


class TemporaryFailure(Exception):
    """A server error or a time-out: worth trying again later."""


class PermanentFailure(Exception):
    """The platform refused this message for good (400 and the like)."""


class DeliveryPort(Protocol):
    channel: str
    limiter: Limiter

    async def deliver(self, chat_id: str, message: Outgoing, *, group: bool,
                      slot: Slot | None = None, kind: str = "", outbox_id: int = 0) -> None:
        """Send one message, its first call in `slot` (taken by the caller, who also stamps
        it); raise one of the exceptions above when it was not delivered.

        `kind` and `outbox_id` name the outbox row the message comes from (empty for a reply);
        a port may use them to label what it sends, and most ignore them."""
        ...


async def acquire(limiter: Limiter, chat: str, *, group: bool,
                  monotonic: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                  poll: float = 0.02) -> Slot:
    """Wait for a slot (for replies, which cannot be put off to a later pass)."""
    while True:
        now = monotonic()
        slot = limiter.try_acquire(chat, group=group, now=now)
        if slot is not None:
            return slot
        free_at = limiter.free_at(chat, group=group, now=now)
        await sleep(poll if free_at == float("inf") else max(free_at - now, 0.001))
