"""WeCom as an outbox channel: the sender's slot, WeCom's answers mapped to the port's."""

from __future__ import annotations

from bot.wecom.api import RateLimited, TooBig, Unavailable, Undelivered, WeComError
from bot.wecom.mapping import CHANNEL
from bot.wecom.transport import WeComBot
from domain.events import Outgoing
from reminders.delivery import Blocked, PermanentFailure, RetryAfter, TemporaryFailure
from reminders.limits import Limiter, Slot


class WeComPort:
    channel = CHANNEL

    def __init__(self, wecom: WeComBot) -> None:
        self._wecom = wecom
        self.limiter: Limiter = wecom.limiter

    async def deliver(self, chat_id: str, message: Outgoing, *, group: bool,
                      slot: Slot | None = None, kind: str = "", outbox_id: int = 0) -> None:
        if group:  # an app writes to members; group chats get digests through robots
            raise PermanentFailure("the WeCom app does not post to group chats")
        try:
            await self._wecom.send(chat_id, message, first=slot)
        except RateLimited as exc:
            raise RetryAfter(exc.retry_after) from exc
        except Undelivered as exc:
            raise Blocked(str(exc)) from exc
        except Unavailable as exc:
            raise TemporaryFailure(str(exc)) from exc
        except (WeComError, TooBig, ValueError) as exc:
            raise PermanentFailure(str(exc)) from exc
