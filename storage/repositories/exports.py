"""What the Excel export lists for a date range and a set of regions: reports, problems and
letters as flat rows, joined with the names a printed sheet shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import LetterKind, ProblemCategory, ProblemState, SiteStatus
from storage import models as m


@dataclass(frozen=True, slots=True)
class ReportLine:
    report_date: date
    code: str
    project: str
    region: str
    unit: str
    reporter: str
    site_status: SiteStatus
    stop_reason: str | None
    progress_pct: Decimal
    work_done: str
    workers: int
    ytd_investment: Decimal | None
    photos: int


@dataclass(frozen=True, slots=True)
class ProblemLine:
    number: str
    code: str
    project: str
    category: ProblemCategory
    description: str
    urgent: bool
    state: ProblemState
    level: int
    unit: str | None
    created_at: datetime
    deadline: date
    resolved_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class LetterLine:
    year: int
    seq: int
    kind: LetterKind
    code: str
    project: str
    unit: str
    issued_at: datetime
    acknowledged_at: datetime | None
    signer: str | None
    closed_at: datetime | None


def _in_regions(region_ids: frozenset[int] | None) -> ColumnElement[bool]:
    if region_ids is None:
        return true()
    return m.Project.region_id.in_(sorted(region_ids))


class ExportsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def reports(self, start: date, end: date,
                      region_ids: frozenset[int] | None) -> list[ReportLine]:
        """The day's current report of each project, every day from `start` to `end`."""
        photos = (select(func.count()).where(m.PhotoAttachment.report_id == m.DailyReport.id)
                  .correlate(m.DailyReport).scalar_subquery())
        rows = await self._session.execute(
            select(m.DailyReport.report_date, m.Project.code, m.Project.name, m.Region.name,
                   m.Unit.name, m.Person.name, m.DailyReport.site_status,
                   m.DailyReport.stop_reason, m.DailyReport.progress_pct,
                   m.DailyReport.work_done, m.DailyReport.workers,
                   m.DailyReport.ytd_investment, photos)
            .join(m.Project, m.Project.id == m.DailyReport.project_id)
            .join(m.Region, m.Region.id == m.Project.region_id)
            .join(m.Unit, m.Unit.id == m.Project.unit_id)
            .join(m.Person, m.Person.id == m.DailyReport.reporter_id)
            .where(m.DailyReport.report_date.between(start, end), _in_regions(region_ids))
            .order_by(m.DailyReport.report_date, m.Project.code))
        return [ReportLine(*tuple(row)) for row in rows]

    async def problems(self, start: datetime, end: datetime,
                       region_ids: frozenset[int] | None) -> list[ProblemLine]:
        """Problems open at some time in [start, end): filed before its end, not closed before
        its start — the period's problem list, carried-over ones included."""
        rows = await self._session.execute(
            select(m.Problem.number, m.Project.code, m.Project.name, m.Problem.category,
                   m.Problem.description, m.Problem.urgent, m.Problem.state, m.Problem.level,
                   m.Unit.name, m.Problem.created_at, m.Problem.deadline,
                   m.Problem.resolved_at, m.Problem.closed_at)
            .join(m.Project, m.Project.id == m.Problem.project_id)
            .outerjoin(m.Unit, m.Unit.id == m.Problem.assignee_unit_id)
            .where(m.Problem.created_at < end,
                   or_(m.Problem.closed_at.is_(None), m.Problem.closed_at >= start),
                   _in_regions(region_ids))
            .order_by(m.Problem.created_at, m.Problem.id))
        return [ProblemLine(*tuple(row)) for row in rows]

    async def letters(self, start: datetime, end: datetime,
                      region_ids: frozenset[int] | None) -> list[LetterLine]:
        """Letters issued in [start, end), in their numbering order."""
        rows = await self._session.execute(
            select(m.Letter.year, m.Letter.seq, m.Letter.kind, m.Project.code, m.Project.name,
                   m.Unit.name, m.Letter.issued_at, m.Letter.acknowledged_at, m.Person.name,
                   m.Letter.closed_at)
            .join(m.Project, m.Project.id == m.Letter.project_id)
            .join(m.Unit, m.Unit.id == m.Letter.unit_id)
            .outerjoin(m.Person, m.Person.id == m.Letter.acknowledged_by_id)
            .where(m.Letter.issued_at >= start, m.Letter.issued_at < end,
                   _in_regions(region_ids))
            .order_by(m.Letter.issued_at, m.Letter.id))
        return [LetterLine(*tuple(row)) for row in rows]
