"""The unit of work: one session, one transaction, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories.audit import AuditRepository
from storage.repositories.counters import CountersRepository
from storage.repositories.drafts import DraftsRepository
from storage.repositories.groups import GroupsRepository
from storage.repositories.invites import InvitesRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.photos import PhotosRepository
from storage.repositories.places import PlacesRepository
from storage.repositories.problems import ProblemsRepository
from storage.repositories.projects import ProjectsRepository
from storage.repositories.receipts import Receipt, ReceiptsRepository
from storage.repositories.reports import ReportsRepository
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
    groups: GroupsRepository
    receipts: ReceiptsRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 receipt: Receipt | None = None) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._receipt = receipt

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a unit of work is not re-entrant")
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
        self.groups = GroupsRepository(session)
        self.receipts = ReceiptsRepository(session)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            await session.rollback()
        finally:
            await session.close()

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


class UnitOfWorkFactory:
    """Makes a fresh unit of work per use; the one object handlers are given."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._sessions)

    def receipted(self, receipt: Receipt) -> ReceiptedFactory:
        """Units of work whose first commit also records `receipt`."""
        return ReceiptedFactory(self._sessions, receipt)


class ReceiptedFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], receipt: Receipt) -> None:
        self._sessions = sessions
        self._receipt = receipt

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, receipt=self._receipt)
