"""Telegram as an outbox channel: the sender's slot, Telegram's answers mapped to the port's."""

from __future__ import annotations

from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.telegram.mapping import CHANNEL
from bot.telegram.transport import TelegramBot
from domain.events import Outgoing
from reminders.delivery import Blocked, Moved, PermanentFailure, RetryAfter, TemporaryFailure
from reminders.limits import Limiter, Slot


class TelegramPort:
    channel = CHANNEL

    def __init__(self, telegram: TelegramBot) -> None:
        self._telegram = telegram
        self.limiter: Limiter = telegram.limiter

    async def deliver(self, chat_id: str, message: Outgoing, *, group: bool,
                      slot: Slot | None = None, kind: str = "", outbox_id: int = 0) -> None:
        try:
            await self._telegram.send(chat_id, message, group=group, first=slot)
        except TelegramRetryAfter as exc:
            raise RetryAfter(float(exc.retry_after)) from exc
        except TelegramMigrateToChat as exc:
            raise Moved(str(exc.migrate_to_chat_id)) from exc
        except TelegramForbiddenError as exc:
            raise Blocked(exc.message) from exc
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            raise TemporaryFailure(str(exc)) from exc
        except (TelegramBadRequest, TelegramNotFound, TelegramUnauthorizedError) as exc:
            raise PermanentFailure(str(exc)) from exc
