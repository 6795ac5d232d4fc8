"""What a handler is given: the person, the event, and the ports it may use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from domain.clock import Clock, local_today
from domain.events import Incoming, Outgoing
from domain.model import Person
from domain.problems import Deadlines
from domain.quiet import DEFAULT as DEFAULT_QUIET
from domain.quiet import Quiet
from domain.workdays import WorkCalendar
from handlers.lookup import ProjectIndex
from reminders.chart_types import ChartPort
from storage.uow import UnitOfWork


class PhotoFiles(Protocol):
    """Where the photo store keeps a stored file (`storage.photos.PhotoStore`)."""

    def path(self, relative: str) -> Path: ...


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
    projects: ProjectIndex = field(default_factory=ProjectIndex)
    """The process's project lookup index (the router's; a fresh one rebuilds per event)."""
    deadlines: Deadlines = field(default_factory=Deadlines)
    """How long a unit has for a problem (configuration: `problems`)."""
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    """Which days reports are owed (configuration: `calendar`)."""
    photo_files: PhotoFiles | None = None
    """The photo store, for `/status` to show the last report's photo."""
    charts: ChartPort | None = None
    """Drawing charts (`/status … 图`); None where the bot runs without them."""
    quiet: Quiet = DEFAULT_QUIET
    """Everyone's quiet hours unless they set their own (configuration: `rhythms.quiet_*`)."""

    @property
    def today(self) -> date:
        return local_today(self.clock)


Handler = Callable[[Context], Awaitable[list[Outgoing]]]
