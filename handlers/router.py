"""The one entry for every event from every channel: who is it, and which handler answers.

Events from one chat are handled one at a time, in order, so two quick messages never race
for the same draft; different chats run concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace

from domain.clock import Clock
from domain.events import EventKind, Incoming, Outgoing
from handlers import help as help_
from handlers.context import Context, Handler, Texts
from handlers.forms.engine import Forms
from handlers.my_projects import my_projects
from handlers.status import status
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

COMMANDS: Mapping[str, Handler] = {
    "start": help_.show_help,
    "help": help_.show_help,
    "my": my_projects,
    "status": status,
}


class ChatLocks:
    """One lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: tuple[str, str]) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class Router:
    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock,
                 texts: Callable[[str | None], Texts], default_language: str, *,
                 forms: Forms | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._texts = texts
        self._default_language = default_language
        self._forms = forms or Forms({})
        self.locks = ChatLocks()

    async def handle(self, event: Incoming) -> list[Outgoing]:
        async with self.locks.hold((event.channel, event.chat_id)):
            try:
                return await self._handle(event)
            except Exception:
                # Every change is one transaction, rolled back here: nothing half-written, the
                # draft as it was before this message. The person may simply try again.
                logger.exception("event from %s user %s failed", event.channel, event.user_id)
                language = event.language_hint or self._default_language
                return [Outgoing(text=self._texts(language)("error.internal"))]

    async def _handle(self, event: Incoming) -> list[Outgoing]:
        async with self._uow() as uow:
            person = await uow.people.by_identity(event.channel, event.user_id)
        if person is None:
            logger.info("refused %s user %s: not bound to a person", event.channel,
                        event.user_id)
            language = event.language_hint or self._default_language
            return [Outgoing(text=self._texts(language)("access.unknown"))]
        event = _button_as_command(event)
        ctx = Context(person, event, self._uow, self._clock,
                      self._texts(person.language or self._default_language), self._texts)
        forms = await self._forms.handle(ctx)
        if forms.messages is not None and (event.kind is not EventKind.COMMAND
                                           or event.command not in COMMANDS):
            return forms.messages
        replies = await self._handler_for(event)(ctx)
        return [*(forms.messages or []), *replies, *forms.after]

    def _handler_for(self, event: Incoming) -> Handler:
        if event.kind is EventKind.COMMAND:
            return COMMANDS.get(event.command, help_.unknown_command)
        return help_.not_understood


def _button_as_command(event: Incoming) -> Incoming:
    """A pressed button whose data is a command line acts as that command typed."""
    if event.kind is EventKind.BUTTON and event.button_data.startswith("/"):
        typed = Incoming.from_text(event.channel, event.chat_id, event.user_id, event.button_data)
        return replace(event, kind=typed.kind, text=typed.text, command=typed.command,
                       args=typed.args)
    return event
