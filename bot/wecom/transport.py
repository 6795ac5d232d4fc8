"""The WeCom transport: callbacks in (from `bot.wecom.callback`), replies out, under the limits.

A member's messages are handled one at a time, in order (a photo is fetched before its event is
handled, so a plain lock would let a later text overtake it); different members in parallel.
Button cards are updated once pressed (the buttons become "✔ choice"); options beyond a card's
six are numbered lines, and a typed number is read as that button.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from bot.wecom import render
from bot.wecom.api import (
    RateLimited,
    TooBig,
    Unavailable,
    Undelivered,
    WeComApi,
    WeComError,
)
from bot.wecom.mapping import CHANNEL, Inbound, to_incoming
from domain.events import Attachment, EventKind, Incoming, Outgoing
from handlers.context import Texts
from reminders.delivery import acquire
from reminders.limits import Limiter, Slot

logger = logging.getLogger(__name__)

Handle = Callable[[Incoming], Awaitable[list[Outgoing]]]
Sleep = Callable[[float], Awaitable[None]]
REPLY_TRIES = 4
CARDS_KEPT = 10_000  # cards whose labels are remembered for marking the choice
LABEL_CHARS = 16


class MemberQueues:
    """Jobs of one member run one after another, in the order given; members in parallel."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}

    async def run(self, member: str, job: Callable[[], Awaitable[None]]) -> None:
        before = self._tails.get(member)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[member] = mine
        try:
            if before is not None:
                await before
            await job()
        finally:
            mine.set_result(None)
            if self._tails.get(member) is mine:
                del self._tails[member]

    def __len__(self) -> int:
        return len(self._tails)


class WeComBot:
    channel = CHANNEL

    def __init__(self, api: WeComApi, handle: Handle, *, limiter: Limiter, files_dir: Path,
                 texts: Callable[[str | None], Texts], language: str | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.api = api
        self._handle = handle
        self.limiter = limiter
        self._files = files_dir
        self._texts = texts
        self._language = language
        self._monotonic = monotonic
        self._sleep = sleep
        self.queues = MemberQueues()
        self._choices: dict[str, render.Choices] = {}
        self._cards: OrderedDict[str, dict[str, str]] = OrderedDict()

    @property
    def t(self) -> Texts:
        return self._texts(self._language)

    # --- callbacks in ---------------------------------------------------------------------

    async def on_message(self, message: Inbound) -> None:
        """The callback server's handler: queued behind the member's earlier messages."""
        await self.queues.run(message.from_user, partial(self._work, message))

    async def _work(self, message: Inbound) -> None:
        files: list[Path] = []
        try:
            event = await self._event(message, files)
            if event is None:
                return
            replies = await self._handle(event)
            if message.event == "template_card_event":
                await self._settle_card(message, replies)
            await self.reply(message.from_user, replies)
        finally:
            for path in files:
                path.unlink(missing_ok=True)

    async def _event(self, message: Inbound, files: list[Path]) -> Incoming | None:
        user = message.from_user
        attachments: tuple[Attachment, ...] = ()
        if message.msg_type == "image" and message.media_id:
            try:
                attachment = await self.api.download_media(message.media_id, self._files)
            except TooBig as exc:
                await self.notice(user, self.t("wecom.file_too_big", megabytes=exc.megabytes))
                return None
            except (WeComError, Unavailable, OSError) as exc:
                logger.warning("wecom: a photo from %s could not be fetched: %s", user, exc)
                await self.notice(user, self.t("wecom.download_failed"))
                return None
            files.append(attachment.path)
            attachments = (attachment,)
        event = to_incoming(message, attachments=attachments)
        if event is None or event.kind is not EventKind.TEXT:
            return event
        return await self._typed_choice(event)

    async def _typed_choice(self, event: Incoming) -> Incoming | None:
        """A typed key of numbered options is that button; a number naming none is refused."""
        choices = self._choices.get(event.user_id)
        if choices is None:
            return event
        if (data := choices.pick(event.text)) is not None:
            return replace(event, kind=EventKind.BUTTON, button_data=data)
        if choices.out_of_range(event.text):
            await self.notice(event.user_id, self.t("wecom.not_a_choice", number=event.text,
                                                    count=len(choices.data)))
            return None
        return event

    async def _settle_card(self, message: Inbound, replies: Sequence[Outgoing]) -> None:
        """The pressed card's buttons become one disabled button naming the choice."""
        if not message.response_code:
            return
        label = self._cards.get(message.task_id, {}).get(message.event_key)
        if replies and replies[0].refusal:
            name = self.t("wecom.card_closed")
        elif label:
            name = self.t("wecom.card_chosen", label=label[:LABEL_CHARS])
        else:  # a card sent before a restart: its labels are gone
            name = self.t("wecom.card_done")
        try:
            await self.api.update_card([message.from_user], message.response_code,
                                       replace_name=name)
        except (WeComError, Unavailable) as exc:
            logger.info("wecom: card %s not marked: %s", message.task_id, exc)

    # --- messages out ---------------------------------------------------------------------

    async def notice(self, user: str, text: str) -> None:
        """A message about the transport itself; the options on offer stay as they are."""
        await self._reply_one(user, Outgoing(text=text))

    async def reply(self, user: str, replies: Sequence[Outgoing]) -> None:
        """Answers to the member's message: the options of an earlier question end here."""
        self._choices.pop(user, None)
        for outgoing in replies:
            await self._reply_one(user, outgoing)

    async def _reply_one(self, user: str, outgoing: Outgoing) -> None:
        for attempt in range(REPLY_TRIES):
            try:
                await self.send(user, outgoing)
                return
            except WeComError as exc:
                if not self._retry_reply(user, exc, attempt):
                    return
            except Unavailable as exc:
                logger.warning("wecom: reply to %s failed (%s), try %d", user, exc, attempt + 1)
                await self._sleep(2.0 ** attempt)
        logger.error("wecom: reply to %s given up after %d tries", user, REPLY_TRIES)

    def _retry_reply(self, user: str, exc: WeComError, attempt: int) -> bool:
        if isinstance(exc, RateLimited):
            self.limiter.pause(self._monotonic() + exc.retry_after)
            logger.warning("wecom: reply to %s waits %g s (rate limit), try %d", user,
                           exc.retry_after, attempt + 1)
            return True
        if isinstance(exc, Undelivered):
            logger.info("wecom: %s is not a valid recipient; reply dropped", user)
        else:
            logger.error("wecom: reply to %s refused: %s", user, exc)
        return False

    async def send(self, user: str, outgoing: Outgoing, *, first: Slot | None = None) -> None:
        """One message, as one or more API calls, each inside a slot of the limits.

        `first` is a slot the caller already holds (the outbox sender takes its own); the slot
        of every further call is waited for here.
        """
        task_id = f"fb_{uuid.uuid4().hex}"
        plan = render.plan(outgoing, task_id=task_id, t=self.t)
        for position, call in enumerate(self._calls(user, outgoing, plan)):
            slot = first if position == 0 and first is not None else await acquire(
                self.limiter, user, group=False, monotonic=self._monotonic, sleep=self._sleep)
            try:
                await call()
            finally:
                if slot is not first:
                    self.limiter.done(slot, self._monotonic())
        if plan.card is not None:
            self._remember_card(task_id, outgoing)
        if plan.choices is not None:
            self._choices[user] = plan.choices

    def _calls(self, user: str, outgoing: Outgoing,
               plan: render.Plan) -> list[Callable[[], Awaitable[object]]]:
        calls: list[Callable[[], Awaitable[object]]] = [
            partial(self.api.send_text, user, text) for text in plan.texts]
        if plan.card is not None:
            calls.append(partial(self.api.send_card, user, plan.card))
        if outgoing.image is not None:
            calls.append(partial(self._send_media, user, outgoing.image, outgoing.image_name,
                                 "image"))
        if outgoing.document is not None:
            calls.append(partial(self._send_media, user, outgoing.document,
                                 outgoing.document_name, "file"))
        return calls

    async def _send_media(self, user: str, data: bytes, name: str, kind: str) -> None:
        media_id = await self.api.upload_media(data, name, kind=kind,
                                               mime_type=mimetypes.guess_type(name)[0])
        if kind == "image":
            await self.api.send_image(user, media_id)
        else:
            await self.api.send_file(user, media_id)

    def _remember_card(self, task_id: str, outgoing: Outgoing) -> None:
        self._cards[task_id] = {b.data: b.label for row in outgoing.buttons for b in row}
        while len(self._cards) > CARDS_KEPT:
            self._cards.popitem(last=False)
