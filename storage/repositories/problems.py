from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.model import ProblemCategory, ProblemEventView, ProblemState, ProblemView
from domain.problems import (
    OPEN_STATES,
    TOP_LEVEL,
    UNCLOSED_STATES,
    Deadlines,
    ProblemTally,
    may_close,
    may_reopen,
    next_level,
    overdue,
)
from domain.scope import ProjectScope
from storage import dialect
from storage import models as m
from storage.repositories.attachments import AttachedPhoto, attach
from storage.repositories.audit import AuditRepository
from storage.repositories.counters import CountersRepository
from storage.repositories.projects import scope_filter


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


def _in_scope(scope: ProjectScope) -> ColumnElement[bool]:
    return m.Problem.project_id.in_(select(m.Project.id).where(scope_filter(scope)))


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

    async def get(self, problem_id: int) -> ProblemView | None:
        row = await self._session.get(m.Problem, problem_id)
        return to_view(row) if row else None

    async def _locked(self, problem_id: int) -> m.Problem:
        row = await self._session.scalar(
            select(m.Problem).where(m.Problem.id == problem_id).with_for_update())
        if row is None:
            raise LookupError(problem_id)
        return row

    async def _step(self, row: m.Problem, *, kind: str, actor_id: int | None,
                    to_state: ProblemState, note: str, now: datetime,
                    before: dict[str, Any], after: dict[str, Any]) -> int:
        """One step of the loop: the problem event and the audit entry, with the state set."""
        from_state = row.state
        row.state = to_state
        event = m.ProblemEvent(problem_id=row.id, kind=kind, actor_id=actor_id,
                               from_state=from_state, to_state=to_state, level=row.level,
                               note=note, created_at=now)
        self._session.add(event)
        await self._session.flush()
        await self._audit.record(now, actor_id, "problem", row.id, action=kind,
                                 before={"state": from_state.value, **before},
                                 after={"state": to_state.value, **after})
        return event.id

    async def close(self, problem_id: int, actor_id: int, note: str,
                    now: datetime) -> ProblemView | None:
        """销号: a resolved problem crossed off. None when it is not (or no longer) resolved."""
        row = await self._locked(problem_id)
        if not may_close(row.state):
            return None
        row.closed_at = now
        await self._step(row, kind="closed", actor_id=actor_id, to_state=ProblemState.CLOSED,
                         note=note, now=now, before={}, after={"note": note})
        return to_view(row)

    async def reopen(self, problem_id: int, actor_id: int, reason: str, deadline: date,
                     now: datetime) -> tuple[ProblemView, int] | None:
        """Back to the unit (交办) with a new deadline; None when it is still open."""
        row = await self._locked(problem_id)
        if not may_reopen(row.state):
            return None
        before = {"deadline": row.deadline.isoformat()}
        row.deadline, row.resolved_at, row.closed_at = deadline, None, None
        event_id = await self._step(row, kind="reopened", actor_id=actor_id,
                                    to_state=ProblemState.ASSIGNED, note=reason, now=now,
                                    before=before,
                                    after={"deadline": deadline.isoformat(), "note": reason})
        return to_view(row), event_id

    async def overdue_ids(self, today: date) -> list[int]:
        """Open problems past their deadline and below the top of the ladder, oldest first."""
        rows = await self._session.scalars(
            select(m.Problem.id).where(m.Problem.state.in_(OPEN_STATES),
                                       m.Problem.deadline < today,
                                       m.Problem.level < TOP_LEVEL)
            .order_by(m.Problem.deadline, m.Problem.id))
        return list(rows)

    async def escalate(self, problem_id: int, today: date, deadlines: Deadlines,
                       now: datetime) -> ProblemView | None:
        """Climb one level with a fresh deadline, if still overdue (checked under the row lock,
        so two schedulers or a run repeated after a crash never climb twice)."""
        row = await self._locked(problem_id)
        new_level = next_level(row.level)
        if new_level is None or not overdue(row.state, row.deadline, today):
            return None
        before = {"level": row.level, "deadline": row.deadline.isoformat()}
        row.level = new_level
        row.deadline = deadlines.from_day(today, urgent=row.urgent)
        await self._step(row, kind="escalated", actor_id=None, to_state=row.state,
                         note=f"L{new_level}", now=now, before=before,
                         after={"level": new_level, "deadline": row.deadline.isoformat()})
        return to_view(row)

    async def events(self, problem_id: int) -> list[ProblemEventView]:
        rows = await self._session.execute(
            select(m.ProblemEvent, m.Person.name)
            .outerjoin(m.Person, m.Person.id == m.ProblemEvent.actor_id)
            .where(m.ProblemEvent.problem_id == problem_id)
            .order_by(m.ProblemEvent.id))
        return [ProblemEventView(e.kind, name, e.to_state, e.level, e.note, e.created_at)
                for e, name in rows]

    async def listing(self, *, scope: ProjectScope | None = None,
                      reporter_id: int | None = None, unit_ids: Sequence[int] | None = None,
                      states: Sequence[ProblemState] = UNCLOSED_STATES,
                      overdue_on: date | None = None,
                      limit: int = 50) -> tuple[list[ProblemView], int]:
        """Problems matching every given filter (`overdue_on`: past their deadline that day),
        highest level first, then by deadline; with the total count before the limit."""
        where: list[ColumnElement[bool]] = [m.Problem.state.in_(list(states))]
        if overdue_on is not None:
            where.append(m.Problem.deadline < overdue_on)
        if scope is not None:
            where.append(_in_scope(scope))
        if reporter_id is not None:
            where.append(m.Problem.reporter_id == reporter_id)
        if unit_ids is not None:
            where.append(m.Problem.assignee_unit_id.in_(list(unit_ids)))
        total = await self._session.scalar(select(func.count(m.Problem.id)).where(*where))
        if limit <= 0:
            return [], int(total or 0)
        rows = await self._session.scalars(
            select(m.Problem).where(*where)
            .order_by(m.Problem.level.desc(), m.Problem.deadline, m.Problem.id).limit(limit))
        return [to_view(r) for r in rows], int(total or 0)

    async def tallies(self, scope: ProjectScope | None, since: datetime,
                      today: date) -> dict[int, ProblemTally]:
        """Per project, its problems filed since `since` (in scope, if given) as the figures
        count them: summed in the database, one row per project, plus the closing times."""
        where = [m.Problem.created_at >= since]
        if scope is not None:
            where.append(_in_scope(scope))
        done = case((m.Problem.state.in_([ProblemState.RESOLVED, ProblemState.CLOSED]), 1),
                    else_=0)

        def late_at(level: int) -> ColumnElement[int]:
            return func.sum(case((and_(m.Problem.state.in_(OPEN_STATES),
                                       m.Problem.deadline < today, m.Problem.level == level),
                                  1), else_=0))

        connection = await self._session.connection()  # Core rows: no ORM work per row
        rows = await connection.execute(
            select(m.Problem.project_id, func.count(), func.sum(done),
                   *[late_at(level) for level in range(1, TOP_LEVEL + 1)])
            .where(*where).group_by(m.Problem.project_id))
        counted = {pid: (int(n), int(resolved or 0),
                         {level: int(k) for level, k in enumerate(late, start=1) if k})
                   for pid, n, resolved, *late in rows}
        seconds: dict[int, list[int]] = {}
        closed = await connection.execute(
            select(m.Problem.project_id,
                   dialect.seconds_between(self._session, m.Problem.created_at,
                                           m.Problem.closed_at))
            .where(*where, m.Problem.state == ProblemState.CLOSED,
                   m.Problem.closed_at.is_not(None)))
        for pid, took in closed:
            seconds.setdefault(pid, []).append(int(took))
        return {pid: ProblemTally(n, resolved, late, tuple(seconds.get(pid, ())))
                for pid, (n, resolved, late) in counted.items()}
