"""The record of rhythm runs: what ran (or was skipped) for which due time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage import models as m


@dataclass(frozen=True, slots=True)
class RunRecord:
    rhythm: str
    due_at: datetime
    outcome: str
    messages: int
    ran_at: datetime
    note: str


class RunsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, rhythm: str, due_at: datetime, *, outcome: str, messages: int,
                     now: datetime, note: str = "") -> bool:
        """Record a due time as handled; False when it was already (another run won)."""
        stmt = dialect.insert(self._session, m.RhythmRun).values(
            rhythm=rhythm, due_at=due_at, outcome=outcome, messages=messages, ran_at=now,
            note=note,
        ).on_conflict_do_nothing(
            index_elements=[m.RhythmRun.rhythm, m.RhythmRun.due_at]
        ).returning(m.RhythmRun.rhythm)
        return (await self._session.execute(stmt)).scalar_one_or_none() is not None

    async def last_due(self) -> dict[str, datetime]:
        """The latest due time handled, per rhythm."""
        rows = await self._session.execute(
            select(m.RhythmRun.rhythm, func.max(m.RhythmRun.due_at)).group_by(m.RhythmRun.rhythm))
        return {rhythm: due for rhythm, due in rows if due is not None}

    async def recent(self, limit: int = 50) -> list[RunRecord]:
        rows = await self._session.scalars(
            select(m.RhythmRun).order_by(m.RhythmRun.ran_at.desc(), m.RhythmRun.rhythm)
            .limit(limit))
        return [RunRecord(r.rhythm, r.due_at, r.outcome, r.messages, r.ran_at, r.note)
                for r in rows]
