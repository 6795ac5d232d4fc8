"""What every rhythm needs: its settings and ports, who is quiet, which group sees what."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.events import Outgoing
from domain.figures import ProjectFigures
from domain.model import Person, Region
from domain.problems import Deadlines
from domain.quiet import DEFAULT as DEFAULT_QUIET
from domain.quiet import Quiet
from domain.scope import descendants
from domain.workdays import WorkCalendar
from handlers.context import Texts
from reminders.chart_types import ChartPort, ChartsUnavailable
from reminders.scheduler import Due
from storage.repositories.groups import Group
from storage.repositories.outbox import NewMessage

logger = logging.getLogger(__name__)
_TEXT_ONLY: set[str] = set()


@dataclass(frozen=True, slots=True)
class LetterRules:
    reminder_days_before_start: int = 30
    assignment_days_overdue: int = 15
    supervision_lag_points: int = 20
    supervision_silent_days: int = 5
    supervision_problem_level: int = 3


@dataclass(frozen=True, slots=True)
class RhythmDeps:
    texts_for: Callable[[str | None], Texts]
    zone: ZoneInfo
    calendar: WorkCalendar
    charts: ChartPort
    quiet: Quiet = DEFAULT_QUIET
    letters: LetterRules = field(default_factory=LetterRules)
    deadlines: Deadlines = field(default_factory=Deadlines)
    default_language: str | None = None

    def texts(self, language: str | None) -> Texts:
        return self.texts_for(language or self.default_language)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def day(self, due: Due) -> date:
        """The day a run is about: the local date of its scheduled time."""
        return self.local(due.at).date()


async def to_person(deps: RhythmDeps, due: Due, person: Person, message: Outgoing, *,
                    kind: str, period: str, subject: str = "",
                    drop_when_quiet: bool = False) -> bool:
    """Queue a message for a person, respecting their quiet hours (see `for_person`);
    whether it was queued."""
    new = for_person(deps, due, person, message, kind=kind, period=period, subject=subject,
                     drop_when_quiet=drop_when_quiet)
    return new is not None and await due.uow.outbox.enqueue_many([new], now=due.now) == 1


def for_person(deps: RhythmDeps, due: Due, person: Person, message: Outgoing, *, kind: str,
               period: str, subject: str = "", drop_when_quiet: bool = False,
               ) -> NewMessage | None:
    """The outbox row of a message for a person, held back to the end of their quiet hours.

    A message for today only (a "report today" reminder) is dropped in quiet hours (None).
    """
    local = deps.local(due.now)
    quiet = person.quiet or deps.quiet  # their own, or the configured default
    not_before = None
    if quiet.contains(local.time().replace(tzinfo=None)):
        if drop_when_quiet:
            logger.info("%s for person %s not sent: caught up in their quiet hours", kind,
                        person.id)
            return None
        not_before = quiet.ends_after(local)
    return NewMessage(kind=kind, period=period, recipient=f"person:{person.id}",
                      subject=subject, payload=message.to_payload(), not_before=not_before)


async def to_group(due: Due, group: Group, message: Outgoing, *, kind: str, period: str,
                   subject: str = "") -> bool:
    return await due.uow.outbox.enqueue(
        kind=kind, period=period, recipient=f"group:{group.id}", subject=subject,
        payload=message.to_payload(), now=due.now)


class Placed(Protocol):
    """Anything with a place: a project's figures, a project's site."""

    @property
    def region_id(self) -> int: ...

    @property
    def unit_id(self) -> int: ...


class GroupScope:
    """Which projects a group chat follows: its region and everything below, or its unit."""

    def __init__(self, group: Group, regions: Iterable[Region]) -> None:
        self.group = group
        self._regions = (descendants([group.region_id], regions) if group.region_id is not None
                         else frozenset())

    def covers(self, project: Placed) -> bool:
        if self.group.unit_id is not None:
            return project.unit_id == self.group.unit_id
        return project.region_id in self._regions

    def select(self, projects: Iterable[ProjectFigures]) -> list[ProjectFigures]:
        """`covers` over a county's thousands of projects, the test spelled out inline."""
        unit_id = self.group.unit_id
        if unit_id is not None:
            return [p for p in projects if p.unit_id == unit_id]
        regions = self._regions
        return [p for p in projects if p.region_id in regions]


async def draw(deps: RhythmDeps, what: str, render: Callable[[], bytes]) -> bytes | None:
    """A chart drawn off the event loop; None (text only, one log line) without a CJK font."""
    if not deps.charts.available:
        if what not in _TEXT_ONLY:  # once per kind and process, not once per group
            _TEXT_ONLY.add(what)
            logger.warning("%s: sent without its chart: no CJK font (install fonts-noto-cjk or "
                           "set digests.font)", what)
        return None
    try:
        return await asyncio.to_thread(render)
    except ChartsUnavailable:
        return None


def names(items: Iterable[str], *, limit: int, t: Texts) -> str:
    """"甲、乙、丙 等 12 个" — a list cut short for a chat message."""
    listed = list(items)
    shown = "、".join(listed[:limit]) if t.language == "zh-CN" else ", ".join(listed[:limit])
    if len(listed) > limit:
        return t("rhythm.and_more", shown=shown, count=len(listed))
    return shown


def percent(t: Texts, value: Decimal | float | None) -> str:
    """"92.7%", or "—" when there is nothing to divide by."""
    return "—" if value is None else f"{t.number(value)}%"
