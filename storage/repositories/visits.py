from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import VisitView
from storage import models as m
from storage.repositories.attachments import AttachedPhoto, attach


class VisitsRepository:
    """Lead leaders' weekly visits (每周必访)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, project_id: int, leader_id: int, visit_date: date, notes: str,
                  now: datetime, *, met: str = "", problems_raised: str = "",
                  solved_on_spot: str = "", photos: Sequence[AttachedPhoto] = ()) -> int:
        row = m.Visit(project_id=project_id, leader_id=leader_id, visit_date=visit_date, met=met,
                      notes=notes, problems_raised=problems_raised,
                      solved_on_spot=solved_on_spot, created_at=now)
        self._session.add(row)
        await self._session.flush()
        await attach(self._session, photos, visit_id=row.id)
        return row.id

    async def latest(self, project_ids: Sequence[int]) -> dict[int, VisitView]:
        if not project_ids:
            return {}
        rank = func.row_number().over(partition_by=m.Visit.project_id,
                                      order_by=(m.Visit.visit_date.desc(), m.Visit.id.desc()))
        ranked = (select(m.Visit.id.label("vid"), rank.label("rank"))
                  .where(m.Visit.project_id.in_(list(project_ids))).subquery())
        rows = await self._session.execute(
            select(m.Visit, m.Person.name)
            .join(ranked, (ranked.c.vid == m.Visit.id) & (ranked.c.rank == 1))
            .join(m.Person, m.Person.id == m.Visit.leader_id))
        return {v.project_id: VisitView(v.project_id, name, v.visit_date, v.notes)
                for v, name in rows}
