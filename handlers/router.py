"""The one entry for every event from every channel: who is it, and which handler answers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace

from domain.clock import Clock
from domain.events import EventKind, Incoming, Outgoing
from handlers import help as help_
from handlers.context import Context, Handler, Texts
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


class Router:
    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock,
                 texts: Callable[[str | None], Texts], default_language: str) -> None:
        self._uow = uow
        self._clock = clock
        self._texts = texts
        self._default_language = default_language

    async def handle(self, event: Incoming) -> list[Outgoing]:
        async with self._uow() as uow:
            person = await uow.people.by_identity(event.channel, event.user_id)
        if person is None:
            logger.info("refused %s user %s: not bound to a person", event.channel,
                        event.user_id)
            language = event.language_hint or self._default_language
            return [Outgoing(text=self._texts(language)("access.unknown"))]
        event = _button_as_command(event)
        ctx = Context(person, event, self._uow, self._clock,
                      self._texts(person.language or self._default_language))
        return await self._handler_for(event)(ctx)

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
