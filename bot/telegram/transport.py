"""The Telegram transport: updates in (polling or webhook), replies out, under the limits.

An update is confirmed to Telegram (by the next getUpdates offset, or the webhook's answer)
only after it has been handled, so a crash never loses one; one delivered again is recognised
by its receipt (see `handlers.router`) and skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    Message,
    Update,
)

from bot.telegram import mapping
from bot.telegram.inbox import Inbox
from domain.events import Attachment, Incoming, Outgoing
from handlers.context import Texts
from reminders.delivery import acquire
from reminders.limits import Limiter, Slot

logger = logging.getLogger(__name__)

MENU = ("report", "problem", "visit", "update", "my", "status", "letters", "quiet", "cancel",
        "help")
MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile's limit for bots
REPLY_TRIES = 4
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
BUSY_POLL = 0.2  # seconds between polls while updates are in hand and none finishes
MIN_POLL_GAP = 0.005  # seconds: polls on finished jobs, a burst of them asked for at once

Handle = Callable[[Incoming], Awaitable[list[Outgoing]]]


def pin_response_types() -> list[type]:
    """Keep aiogram's `Response[...]` classes alive for the methods the bot uses.

    aiogram builds `Response[method.__returning__]` on every call; pydantic caches it only
    weakly, so a garbage collection drops it and the next call rebuilds it (milliseconds each;
    a fifth of the transport's time in a profile). Holding them makes the cache stick.
    """
    from aiogram import methods  # noqa: PLC0415  (only needed once, at start-up)
    from aiogram.methods.base import Response  # noqa: PLC0415

    used = (methods.GetUpdates, methods.SendMessage, methods.SendPhoto, methods.SendDocument,
            methods.EditMessageText, methods.EditMessageReplyMarkup,
            methods.AnswerCallbackQuery, methods.GetFile, methods.GetMe, FetchUpdates)
    return [Response[m.__returning__] for m in used]  # type: ignore[name-defined]


class TelegramBot:
    def __init__(self, bot: Bot, handle: Handle, *, limiter: Limiter, files_dir: Path,
                 texts: Callable[[str | None], Texts], album_wait: float = 0.8,
                 poll_timeout: int = 25, monotonic: Callable[[], float] = time.monotonic,
                 ) -> None:
        self.bot = bot
        self._handle = handle
        self.limiter = limiter
        self._files = files_dir
        self._texts = texts
        self._poll_timeout = poll_timeout
        self._monotonic = monotonic
        self.inbox = Inbox(self._work, album_wait=album_wait, monotonic=monotonic)
        self.username: str | None = None
        self._pinned = pin_response_types()

    # --- start-up -----------------------------------------------------------------------

    async def start(self, languages: Sequence[str]) -> str:
        """Who the bot is, and its commands menu in each language; returns its username."""
        me = await self.bot.get_me()
        self.username = me.username
        for position, language in enumerate(languages):
            t = self._texts(language)
            commands = [BotCommand(command=c, description=t(f"menu.{c}")) for c in MENU]
            await self.bot.set_my_commands(commands, language_code=language.split("-")[0])
            if position == 0:  # the first language is also everyone else's menu
                await self.bot.set_my_commands(commands)
        logger.info("telegram: started as @%s", self.username)
        return self.username or ""

    def invite_link(self, code: str) -> str | None:
        return f"https://t.me/{self.username}?start={code}" if self.username else None

    # --- updates in -----------------------------------------------------------------------

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling, confirming an update only once it has been handled."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        last = 0  # the newest update id this process has taken
        pause = 1.0
        while not stop.is_set():
            # Confirm only what has been handled: the oldest update still in hand stays
            # unconfirmed (Telegram sends it again after a crash), everything before it goes.
            in_hand = set(self.inbox.in_progress)
            offset = min(in_hand) if in_hand else (last + 1 if last else None)
            self.inbox.progress.clear()  # a job finishing while this poll runs asks again
            poll = asyncio.ensure_future(self.bot(FetchUpdates(
                offset=offset, timeout=0 if in_hand else self._poll_timeout,
                allowed_updates=ALLOWED_UPDATES), request_timeout=self._poll_timeout + 10))
            await _wait(stop, self._poll_timeout + 15, poll)
            if not poll.done():  # stopping: a long poll confirms nothing, drop it
                poll.cancel()
                break
            try:
                raw = poll.result()
                pause = 1.0
            except (TelegramNetworkError, TelegramServerError, TelegramConflictError,
                    TimeoutError) as exc:
                logger.warning("telegram: getUpdates failed (%s); again in %g s", exc, pause)
                await _wait(stop, pause)
                pause = min(pause * 2, 30.0)
                continue
            for item in raw:
                update_id = item.get("update_id")
                if not isinstance(update_id, int) or update_id in in_hand or update_id <= last:
                    continue  # in hand, or handled already by this process: not parsed again
                last = update_id
                self.inbox.put(Update.model_validate(item, context={"bot": self.bot}))
            if self.inbox.in_progress:
                # Asking again returns the updates in hand too: ask once one of them has
                # finished (to confirm it and fetch what its chat sends next), or after
                # BUSY_POLL for other chats' new updates; never sooner than MIN_POLL_GAP.
                polled = self._monotonic()
                await _wait(stop, BUSY_POLL, self.inbox.progress)
                if (rest := MIN_POLL_GAP - (self._monotonic() - polled)) > 0:
                    await _wait(stop, rest)
        await self.inbox.drain()
        if last:  # confirm what was handled, so a restart does not fetch it again
            with suppress(TelegramAPIError, TimeoutError):
                await self.bot.get_updates(offset=last + 1, timeout=0)

    def feed(self, update: Update) -> asyncio.Future[None]:
        """An update from the webhook; the future is done once it has been handled."""
        return self.inbox.put(update)

    async def _work(self, updates: list[Update]) -> None:
        files: list[Path] = []
        try:
            event = await self._event(updates, files)
            if event is None:
                return
            replies = await self._handle(event)
            query = updates[0].callback_query
            if query is None:
                await self.reply(event, replies)
                return
            # The press is answered and marked on its message while the replies go out:
            # independent calls, all done before the update counts as handled.
            refusal = replies[0].text if replies and replies[0].refusal else None
            await asyncio.gather(self._settle_button(query, refusal),
                                 self.reply(event, replies[1:] if refusal is not None
                                            else replies))
        finally:
            for path in files:
                path.unlink(missing_ok=True)

    async def _event(self, updates: list[Update], files: list[Path]) -> Incoming | None:
        first = updates[0]
        if first.message is None:
            return mapping.from_update(first)  # a button, the bot's membership
        messages = [u.message for u in updates if u.message is not None]
        if not messages:
            return None
        attachments: list[Attachment] = []
        for message in messages:
            if message.chat.type != "private":
                break  # files in groups are not for the bot: never fetched
            t = self._texts(mapping.language(message.from_user))
            try:
                if (found := await self._download(message)) is not None:
                    attachments.append(found)
                    files.append(found.path)
            except FileTooBig as exc:
                await self.reply_to(message.chat.id, False, [Outgoing(
                    text=t("telegram.file_too_big", megabytes=exc.megabytes))])
                return None
            except (TelegramAPIError, TimeoutError, OSError) as exc:
                logger.warning("telegram: a file from chat %s could not be fetched: %s",
                               message.chat.id, exc)
                await self.reply_to(message.chat.id, False,
                                    [Outgoing(text=t("telegram.download_failed"))])
                return None
        if len(messages) > 1:
            return mapping.from_album(messages, update_ids=[u.update_id for u in updates],
                                      attachments=attachments)
        return mapping.from_message(messages[0], update_id=first.update_id,
                                    attachments=attachments)

    async def _download(self, message: Message) -> Attachment | None:
        """A photo or a file sent to the bot, fetched into the incoming folder."""
        if message.photo:
            size = message.photo[-1]
            file_id, unique, name, mime = size.file_id, size.file_unique_id, "photo.jpg", None
            file_size = size.file_size
        elif message.document is not None:
            doc = message.document
            file_id, unique = doc.file_id, doc.file_unique_id
            name, mime, file_size = doc.file_name or "file", doc.mime_type, doc.file_size
        else:
            return None
        if file_size is not None and file_size > MAX_DOWNLOAD:
            raise FileTooBig(file_size)
        self._files.mkdir(parents=True, exist_ok=True)
        path = self._files / f"{message.chat.id}-{message.message_id}-{unique}{Path(name).suffix}"
        await self.bot.download(file_id, destination=path)
        return Attachment(path, name, mime)

    async def _settle_button(self, query: CallbackQuery, refusal: str | None) -> None:
        """Answer the press; mark the choice on its message (or, when refused, say why)."""
        message = query.message
        answer = self._answer_press(query.id, refusal)
        if not isinstance(message, Message):
            await answer
            return
        label = mapping.button_label(message, query.data or "")
        if refusal is not None or label is None or message.text is None:
            edit: Awaitable[object] = self.bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=message.message_id)
        else:
            edit = self.bot.edit_message_text(
                text=f"{message.text}\n\n✔ {label}"[:mapping.TEXT_LIMIT],
                chat_id=message.chat.id, message_id=message.message_id)
        await asyncio.gather(answer, _quietly(edit))

    async def _answer_press(self, query_id: str, refusal: str | None) -> None:
        with suppress(TelegramAPIError, TimeoutError):
            await self.bot.answer_callback_query(
                query_id, text=refusal[:200] if refusal is not None else None)

    # --- messages out ---------------------------------------------------------------------

    async def reply(self, event: Incoming, replies: Sequence[Outgoing]) -> None:
        await self.reply_to(int(event.chat_id), event.chat_kind.value == "group", replies)

    async def reply_to(self, chat_id: int, group: bool, replies: Sequence[Outgoing]) -> None:
        for outgoing in replies:
            for attempt in range(REPLY_TRIES):
                try:
                    await self.send(str(chat_id), outgoing, group=group)
                    break
                except TelegramRetryAfter as exc:
                    self.limiter.pause(self._monotonic() + exc.retry_after)
                    logger.warning("telegram: reply to %s waits %s s (flood control)", chat_id,
                                   exc.retry_after)
                except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
                    logger.warning("telegram: reply to %s failed (%s), try %d", chat_id, exc,
                                   attempt + 1)
                    await asyncio.sleep(2.0 ** attempt)
                except TelegramForbiddenError:
                    logger.info("telegram: chat %s blocked the bot; reply dropped", chat_id)
                    return
                except TelegramBadRequest as exc:
                    logger.error("telegram: reply to %s refused: %s", chat_id, exc)
                    break

    async def send(self, chat_id: str, outgoing: Outgoing, *, group: bool,
                   first: Slot | None = None) -> None:
        """One message, as one or more API calls, each inside a slot of the limits.

        `first` is a slot the caller already holds (the outbox sender takes its own); the slot
        of every further call is waited for here.
        """
        for position, call in enumerate(self._calls(int(chat_id), outgoing)):
            slot = first if position == 0 and first is not None else await acquire(
                self.limiter, chat_id, group=group, monotonic=self._monotonic)
            try:
                await call()
            finally:
                if slot is not first:
                    self.limiter.done(slot, self._monotonic())

    def _calls(self, chat_id: int, outgoing: Outgoing) -> list[Callable[[], Awaitable[object]]]:
        markup = mapping.keyboard(outgoing)
        text = outgoing.text
        calls: list[Callable[[], Awaitable[object]]] = []
        attached = outgoing.image if outgoing.image is not None else outgoing.document
        if attached is not None:
            caption = text if len(text) <= mapping.CAPTION_LIMIT else None
            if outgoing.image is not None:
                photo = BufferedInputFile(attached, outgoing.image_name)
                calls.append(lambda: self.bot.send_photo(
                    chat_id, photo, caption=caption, reply_markup=markup if caption else None))
            else:
                document = BufferedInputFile(attached, outgoing.document_name)
                calls.append(lambda: self.bot.send_document(
                    chat_id, document, caption=caption,
                    reply_markup=markup if caption else None))
            if caption is not None:
                return calls
        parts = mapping.chunks(text) if text else []
        for position, part in enumerate(parts):
            last = position == len(parts) - 1
            calls.append(lambda part=part, last=last: self.bot.send_message(  # type: ignore[misc]
                chat_id, part, reply_markup=markup if last else None))
        return calls


class FileTooBig(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.megabytes = round(size / 1024 / 1024, 1)


async def _quietly(call: Awaitable[object]) -> None:
    """An API call whose failure changes nothing for the person (marking a pressed button)."""
    with suppress(TelegramAPIError, TimeoutError):
        await call


class FetchUpdates(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates answering plain dicts: an update already in hand, which every poll returns
    until it is confirmed, is not parsed again (only new ones are, into `Update`)."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


async def _wait(stop: asyncio.Event, seconds: float,
                also: asyncio.Event | asyncio.Future[Any] | None = None) -> None:
    """Until `stop`, `also` (an event set or a future done) or `seconds`, whichever first."""
    waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
    if isinstance(also, asyncio.Event):
        waiters.append(asyncio.ensure_future(also.wait()))
    await asyncio.wait([*waiters, *([also] if isinstance(also, asyncio.Future) else [])],
                       timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
