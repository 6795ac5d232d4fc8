from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.model import ProblemCategory, ProblemState, ProblemView
from storage import models as m
from storage.repositories.attachments import AttachedPhoto, attach
from storage.repositories.audit import AuditRepository
from storage.repositories.counters import CountersRepository

OPEN_STATES = (ProblemState.OPEN, ProblemState.ASSIGNED, ProblemState.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class NewProblem:
    project_id: int
    category: ProblemCategory
    description: str
    urgent: bool
    reporter_id: int
    assignee_unit_id: int | None
    deadline: date
    report_id: int | None = None
    visit_id: int | None = None
    photos: Sequence[AttachedPhoto] = ()


@dataclass(frozen=True, slots=True)
class ProblemUpdate:
    problem_id: int
    actor_id: int
    kind: str  # progress, resolved
    to_state: ProblemState
    note: str
    photos: Sequence[AttachedPhoto] = ()


def problem_number(year: int, seq: int) -> str:
    return f"P-{year}-{seq:04d}"


def to_view(row: m.Problem) -> ProblemView:
    return ProblemView(row.id, row.number, row.project_id, row.category, row.description,
                       row.urgent, row.state, row.level, row.deadline, row.created_at,
                       reporter_id=row.reporter_id, assignee_unit_id=row.assignee_unit_id)


class ProblemsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._counters = CountersRepository(session)
        self._audit = AuditRepository(session)

    async def open(self, new: NewProblem, now: datetime, year: int) -> ProblemView:
        """File a problem, numbered P-YYYY-NNNN, assigned at once when it has a unit."""
        seq = await self._counters.next("problem", year)
        state = ProblemState.ASSIGNED if new.assignee_unit_id else ProblemState.OPEN
        row = m.Problem(
            number=problem_number(year, seq), year=year, seq=seq, project_id=new.project_id,
            category=new.category, description=new.description, urgent=new.urgent, state=state,
            level=1, reporter_id=new.reporter_id, assignee_unit_id=new.assignee_unit_id,
            deadline=new.deadline, report_id=new.report_id, visit_id=new.visit_id,
            created_at=now)
        self._session.add(row)
        await self._session.flush()
        await attach(self._session, new.photos, problem_id=row.id)
        self._session.add(m.ProblemEvent(problem_id=row.id, kind="created",
                                         actor_id=new.reporter_id, from_state=None,
                                         to_state=state, level=1, created_at=now))
        await self._audit.record(now, new.reporter_id, "problem", row.id, action="create",
                                 before=None, after={"number": row.number, "state": state.value,
                                  "category": new.category.value})
        return to_view(row)

    async def open_for(self, project_ids: Sequence[int]) -> list[ProblemView]:
        """Open problems of these projects, oldest first."""
        return await self._open_where(m.Problem.project_id, project_ids)

    async def assigned_to(self, unit_ids: Sequence[int]) -> list[ProblemView]:
        """Open problems these units have to work on, oldest first."""
        return await self._open_where(m.Problem.assignee_unit_id, unit_ids)

    async def _open_where(self, column: InstrumentedAttribute[Any],
                          ids: Sequence[int]) -> list[ProblemView]:
        if not ids:
            return []
        rows = await self._session.scalars(
            select(m.Problem).where(column.in_(list(ids)), m.Problem.state.in_(OPEN_STATES))
            .order_by(m.Problem.created_at))
        return [to_view(r) for r in rows]

    async def by_number(self, number: str) -> ProblemView | None:
        row = await self._session.scalar(select(m.Problem).where(m.Problem.number == number))
        return to_view(row) if row else None

    async def link_report(self, problem_ids: Sequence[int], report_id: int) -> None:
        """Problems filed from inside a daily report point at it once the report is saved."""
        if problem_ids:
            await self._session.execute(
                update(m.Problem).where(m.Problem.id.in_(list(problem_ids)))
                .values(report_id=report_id))

    async def record_update(self, update_: ProblemUpdate,
                            now: datetime) -> tuple[ProblemView, int]:
        """The unit's progress or resolution: a problem event, the new state, the audit entry."""
        row = await self._session.scalar(
            select(m.Problem).where(m.Problem.id == update_.problem_id).with_for_update())
        if row is None:
            raise LookupError(update_.problem_id)
        before = row.state
        row.state = update_.to_state
        if update_.to_state is ProblemState.RESOLVED:
            row.resolved_at = now
        event = m.ProblemEvent(problem_id=row.id, kind=update_.kind, actor_id=update_.actor_id,
                               from_state=before, to_state=update_.to_state, level=row.level,
                               note=update_.note, created_at=now)
        self._session.add(event)
        await self._session.flush()
        await attach(self._session, update_.photos, problem_event_id=event.id)
        await self._audit.record(now, update_.actor_id, "problem", row.id, action=update_.kind,
                                 before={"state": before.value},
                                 after={"state": update_.to_state.value, "note": update_.note})
        return to_view(row), event.id
