"""The unit of work: one session, one transaction, rolled back unless committed.

On SQLite, units of work of one process take turns through one gate (re-entrant within a task):
SQLite has one writer at a time anyway, and a transaction that read before it writes cannot
wait for the lock — it fails with "database is locked", or two read-modify-writes of one row
(a report's version) interleave. Taking turns in the process is also faster than SQLite's
busy-wait sleeps. PostgreSQL needs no gate: its row locks (`FOR UPDATE`) do the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories.audit import AuditRepository
from storage.repositories.counters import CountersRepository
from storage.repositories.drafts import DraftsRepository
from storage.repositories.exports import ExportsRepository
from storage.repositories.figures import FiguresRepository
from storage.repositories.groups import GroupsRepository
from storage.repositories.imports import ImportsRepository
from storage.repositories.invites import InvitesRepository
from storage.repositories.letters import LettersRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.photos import PhotosRepository
from storage.repositories.places import PlacesRepository
from storage.repositories.problems import ProblemsRepository
from storage.repositories.projects import ProjectsRepository
from storage.repositories.receipts import Receipt, ReceiptsRepository
from storage.repositories.reports import ReportsRepository
from storage.repositories.runs import RunsRepository
from storage.repositories.visits import VisitsRepository


class UnitOfWork:
    """`async with uow:` opens a transaction; leaving without `await uow.commit()` rolls it back."""

    places: PlacesRepository
    people: PeopleRepository
    photos: PhotosRepository
    projects: ProjectsRepository
    reports: ReportsRepository
    problems: ProblemsRepository
    visits: VisitsRepository
    outbox: OutboxRepository
    audit: AuditRepository
    counters: CountersRepository
    drafts: DraftsRepository
    invites: InvitesRepository
    letters: LettersRepository
    groups: GroupsRepository
    receipts: ReceiptsRepository
    figures: FiguresRepository
    runs: RunsRepository
    imports: ImportsRepository
    exports: ExportsRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 receipt: Receipt | None = None, gate: Gate | None = None,
                 queued: Signal | None = None) -> None:
        self._sessions = sessions
        self._queued = queued
        self._session: AsyncSession | None = None
        self._receipt = receipt
        self._gate = gate
        self._in_gate = False
        self._lent = False

    async def __aenter__(self) -> Self:
        if self._session is not None:
            if self._lent:  # taken over, open as it is (see `lend`)
                self._lent = False
                return self
            raise RuntimeError("a unit of work is not re-entrant")
        if self._gate is not None:
            await self._gate.enter()
            self._in_gate = True
        session = self._sessions()
        self._session = session
        self.places = PlacesRepository(session)
        self.people = PeopleRepository(session)
        self.photos = PhotosRepository(session)
        self.projects = ProjectsRepository(session)
        self.reports = ReportsRepository(session)
        self.problems = ProblemsRepository(session)
        self.visits = VisitsRepository(session)
        self.outbox = OutboxRepository(session)
        self.audit = AuditRepository(session)
        self.counters = CountersRepository(session)
        self.drafts = DraftsRepository(session)
        self.invites = InvitesRepository(session)
        self.letters = LettersRepository(session)
        self.groups = GroupsRepository(session)
        self.receipts = ReceiptsRepository(session)
        self.figures = FiguresRepository(session)
        self.runs = RunsRepository(session)
        self.imports = ImportsRepository(session)
        self.exports = ExportsRepository(session)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        session, self._session = self._session, None
        self._lent = False
        try:
            if session is not None:
                try:
                    await session.rollback()
                finally:
                    await session.close()
        finally:
            if self._gate is not None and self._in_gate:
                self._in_gate = False
                self._gate.leave()

    @property
    def is_open(self) -> bool:
        return self._session is not None

    def lend(self) -> None:
        """Let the next `async with` take this open unit of work over as it is (its
        transaction, what it read) and end it on leaving, as if it had opened it."""
        if self._session is None:
            raise RuntimeError("only an open unit of work can be lent")
        self._lent = True

    @property
    def session(self) -> AsyncSession:
        """The session itself, for a query no repository has (tests, tools)."""
        if self._session is None:
            raise RuntimeError("no session outside `async with`")
        return self._session

    async def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit outside `async with`")
        receipt = self._receipt
        if receipt is not None and not receipt.recorded:
            # The update's receipt rides on the first change it causes: both or neither.
            await self.receipts.record(receipt)
        await self._session.commit()
        if receipt is not None:
            receipt.recorded = True
        if self.outbox.queued and self._queued is not None:
            self.outbox.queued = 0
            self._queued.fire()


class Signal:
    """Who wants to know, in this process, that a commit put messages in the outbox (the
    outbox sender: it looks at once rather than at its next poll)."""

    def __init__(self) -> None:
        self.listener: Callable[[], None] | None = None

    def fire(self) -> None:
        if self.listener is not None:
            self.listener()


class Gate:
    """One unit of work at a time in this process; a task already inside may enter again."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._holder: ContextVar[asyncio.Task[object] | None] = ContextVar(
            "fieldbot_uow_gate", default=None)
        self._depth = 0

    async def enter(self) -> None:
        task = asyncio.current_task()
        if task is not None and self._holder.get() is task:
            self._depth += 1
            return
        await self._lock.acquire()
        self._holder.set(task)
        self._depth = 1

    def leave(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._holder.set(None)
            self._lock.release()


class UnitOfWorkFactory:
    """Makes a fresh unit of work per use; the one object handlers are given."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        dialect = getattr(bind, "dialect", None)
        self._gate = Gate() if getattr(dialect, "name", "") == "sqlite" else None
        self.queued = Signal()
        """Fired after each commit that added outbox messages."""

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, gate=self._gate, queued=self.queued)

    def receipted(self, receipt: Receipt) -> ReceiptedFactory:
        """Units of work whose first commit also records `receipt`."""
        return ReceiptedFactory(self._sessions, receipt, self._gate, self.queued)


class CarriedFactory:
    """Units of work whose first is one already open: an event's first transaction (who
    writes, was the update handled) goes on into the handler's first, saving a transaction
    per event; every later one is fresh from `then`."""

    def __init__(self, first: UnitOfWork, then: Callable[[], UnitOfWork]) -> None:
        self._first: UnitOfWork | None = first
        self._then = then

    def __call__(self) -> UnitOfWork:
        first, self._first = self._first, None
        if first is not None and first.is_open:
            first.lend()
            return first
        return self._then()


class ReceiptedFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], receipt: Receipt,
                 gate: Gate | None, queued: Signal) -> None:
        self._sessions = sessions
        self._receipt = receipt
        self._gate = gate
        self._queued = queued

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, receipt=self._receipt, gate=self._gate,
                          queued=self._queued)
