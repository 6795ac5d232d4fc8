"""Updates in order per chat, chats in parallel, and the pieces of an album gathered into one.

Telegram sends an album as one message per photo sharing a `media_group_id`, often split over
two getUpdates answers. The first piece opens a job in its chat's queue; later pieces join it
until no piece has come for `album_wait` seconds, then the album is handled as one event —
in its place in the chat's order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram.types import Message, Update

logger = logging.getLogger(__name__)


@dataclass
class Job:
    updates: list[Update]
    album: str | None
    done: asyncio.Future[None]
    last_added: float
    sealed: bool = False


def chat_of(update: Update) -> int | None:
    if update.message is not None:
        return update.message.chat.id
    if update.my_chat_member is not None:
        return update.my_chat_member.chat.id
    query = update.callback_query
    if query is not None:
        if isinstance(query.message, Message):
            return query.message.chat.id
        return query.from_user.id
    return None


class Inbox:
    def __init__(self, work: Callable[[list[Update]], Awaitable[None]], *, album_wait: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._work = work
        self._album_wait = album_wait
        self._monotonic = monotonic
        self._queues: dict[int, deque[Job]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._albums: dict[tuple[int, str], Job] = {}
        self.in_progress: set[int] = set()  # update ids queued and not yet handled
        self.progress = asyncio.Event()  # set whenever a job finishes

    def put(self, update: Update) -> asyncio.Future[None]:
        """Queue an update; the future is done once it has been handled."""
        chat = chat_of(update)
        loop = asyncio.get_running_loop()
        if chat is None:
            done: asyncio.Future[None] = loop.create_future()
            done.set_result(None)
            return done
        self.in_progress.add(update.update_id)
        album = update.message.media_group_id if update.message is not None else None
        if album is not None and (job := self._albums.get((chat, album))) and not job.sealed:
            job.updates.append(update)
            job.last_added = self._monotonic()
            return job.done
        job = Job([update], album, loop.create_future(), self._monotonic())
        if album is not None:
            self._albums[(chat, album)] = job
        self._queues.setdefault(chat, deque()).append(job)
        if chat not in self._workers:
            self._workers[chat] = asyncio.create_task(self._run(chat))
        return job.done

    async def _run(self, chat: int) -> None:
        queue = self._queues[chat]
        try:
            while queue:
                job = queue[0]
                if job.album is not None:
                    await self._gather(job)
                    self._albums.pop((chat, job.album), None)
                try:
                    await self._work(job.updates)
                except Exception:
                    logger.exception("telegram: updates %s failed",
                                     [u.update_id for u in job.updates])
                finally:
                    queue.popleft()
                    for update in job.updates:
                        self.in_progress.discard(update.update_id)
                    if not job.done.done():
                        job.done.set_result(None)
                    self.progress.set()
        finally:
            del self._workers[chat]
            if not queue:
                del self._queues[chat]

    async def _gather(self, job: Job) -> None:
        # A quiet period, not an event: the deadline moves each time a piece arrives.
        while (quiet := self._monotonic() - job.last_added) < self._album_wait:  # noqa: ASYNC110
            await asyncio.sleep(self._album_wait - quiet)
        job.sealed = True

    async def drain(self) -> None:
        """Wait until everything queued has been handled."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    def __len__(self) -> int:
        return len(self.in_progress)
