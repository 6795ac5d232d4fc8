"""What a handler is given: the person, the event, and the ports it may use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from domain.clock import Clock, local_today
from domain.events import Incoming, Outgoing
from domain.model import Person
from storage.uow import UnitOfWork


class Texts(Protocol):
    """A message catalogue bound to one language (see `bot.i18n.Translator`)."""

    language: str

    def __call__(self, key: str, /, **values: object) -> str: ...

    def number(self, value: Decimal | int | float) -> str: ...

    def full_date(self, value: date) -> str: ...

    def short_date(self, value: date) -> str: ...


@dataclass(frozen=True, slots=True)
class Context:
    person: Person
    event: Incoming
    uow: Callable[[], UnitOfWork]
    clock: Clock
    t: Texts
    texts_for: Callable[[str | None], Texts]
    """The catalogue in another person's language, for messages written to the outbox."""
    invite_link: Callable[[str], str | None] = lambda code: None
    """A link that redeems an invite code in one tap (Telegram's t.me deep link), if any."""

    @property
    def today(self) -> date:
        return local_today(self.clock)


Handler = Callable[[Context], Awaitable[list[Outgoing]]]
