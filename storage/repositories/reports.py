from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import ReportView, SiteStatus
from storage import dialect
from storage import models as m
from storage.repositories.attachments import AttachedPhoto, attach
from storage.repositories.audit import AuditRepository


@dataclass(frozen=True, slots=True)
class ReportInput:
    project_id: int
    report_date: date
    reporter_id: int
    site_status: SiteStatus
    progress_pct: Decimal
    work_done: str
    workers: int
    ytd_investment: Decimal | None = None
    stop_reason: str | None = None
    lat: float | None = None
    lon: float | None = None
    photos: Sequence[AttachedPhoto] = ()


def _snapshot(report: ReportInput) -> dict[str, Any]:
    data = asdict(report)
    data["report_date"] = report.report_date.isoformat()
    data["site_status"] = report.site_status.value
    data["progress_pct"] = str(report.progress_pct)
    data["ytd_investment"] = None if report.ytd_investment is None else str(report.ytd_investment)
    data["photos"] = [{"id": p.photo_id, "flags": list(p.flags)} for p in report.photos]
    return data


class ReportsRepository:
    """Daily reports: one per project and day; a second one the same day is a new version."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._audit = AuditRepository(session)

    async def save(self, report: ReportInput, now: datetime) -> tuple[int, int]:
        """Insert or amend the day's report; returns (report id, version).

        The day's row is made first if missing (version 0, ON CONFLICT DO NOTHING) and then
        locked, so two people confirming the same project at once become versions 1 and 2
        rather than a clash on the (project, day) key.
        """
        await self._session.execute(
            dialect.insert(self._session, m.DailyReport).values(
                project_id=report.project_id, report_date=report.report_date, version=0,
                reporter_id=report.reporter_id, site_status=report.site_status,
                progress_pct=report.progress_pct, work_done=report.work_done,
                created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[m.DailyReport.project_id,
                                                    m.DailyReport.report_date]))
        row = await self._session.scalar(
            select(m.DailyReport).where(m.DailyReport.project_id == report.project_id,
                                        m.DailyReport.report_date == report.report_date)
            .with_for_update().execution_options(populate_existing=True))
        if row is None:
            raise LookupError("the day's report row vanished")
        after = _snapshot(report)
        before: dict[str, Any] | None = None
        if row.version > 0:
            before = await self._version_data(row.id, row.version)
            await self._session.execute(
                delete(m.PhotoAttachment).where(m.PhotoAttachment.report_id == row.id))
        row.version += 1
        row.reporter_id = report.reporter_id
        row.site_status = report.site_status
        row.stop_reason = report.stop_reason
        row.progress_pct = report.progress_pct
        row.work_done = report.work_done
        row.workers = report.workers
        row.ytd_investment = report.ytd_investment
        row.lat, row.lon = report.lat, report.lon
        row.updated_at = now
        await self._session.flush()
        self._session.add(m.ReportVersion(report_id=row.id, version=row.version,
                                          reporter_id=report.reporter_id, data=after,
                                          created_at=now))
        await attach(self._session, report.photos, report_id=row.id)
        await self._audit.record(now, report.reporter_id, "daily_report", row.id,
                                 action="create" if before is None else "amend",
                                 before=before, after=after)
        return row.id, row.version

    async def _version_data(self, report_id: int, version: int) -> dict[str, Any] | None:
        return await self._session.scalar(
            select(m.ReportVersion.data).where(m.ReportVersion.report_id == report_id,
                                               m.ReportVersion.version == version))

    async def versions(self, report_id: int) -> list[dict[str, Any]]:
        rows = await self._session.scalars(
            select(m.ReportVersion.data).where(m.ReportVersion.report_id == report_id)
            .order_by(m.ReportVersion.version))
        return list(rows)

    async def latest(self, project_ids: Sequence[int]) -> dict[int, ReportView]:
        """The most recent report of each project that has one."""
        if not project_ids:
            return {}
        newest = (select(m.DailyReport.project_id, func.max(m.DailyReport.report_date).label("d"))
                  .where(m.DailyReport.project_id.in_(list(project_ids)))
                  .group_by(m.DailyReport.project_id).subquery())
        return await self._views(
            select(m.DailyReport).join(newest, (newest.c.project_id == m.DailyReport.project_id)
                                       & (newest.c.d == m.DailyReport.report_date)))

    async def _on_day(self, project_ids: Sequence[int], day: date) -> dict[int, ReportView]:
        return await self._views(
            select(m.DailyReport).where(m.DailyReport.project_id.in_(list(project_ids)),
                                        m.DailyReport.report_date == day))

    async def _views(self, reports: Select[m.DailyReport]) -> dict[int, ReportView]:
        photos = (select(func.count()).where(m.PhotoAttachment.report_id == m.DailyReport.id)
                  .correlate(m.DailyReport).scalar_subquery())
        rows = await self._session.execute(
            reports.add_columns(m.Person.name, photos)
            .join(m.Person, m.Person.id == m.DailyReport.reporter_id))
        return {r.project_id: ReportView(
            project_id=r.project_id, report_date=r.report_date, version=r.version,
            reporter_name=name, site_status=r.site_status, stop_reason=r.stop_reason,
            progress_pct=r.progress_pct, work_done=r.work_done, workers=r.workers,
            ytd_investment=r.ytd_investment, photo_count=int(count), submitted_at=r.updated_at)
            for r, name, count in rows}

    async def last_before(self, project_id: int, day: date) -> ReportView | None:
        """The newest report on or before `day` (today's, if there is one)."""
        newest = await self._session.scalar(
            select(func.max(m.DailyReport.report_date))
            .where(m.DailyReport.project_id == project_id, m.DailyReport.report_date <= day))
        if newest is None:
            return None
        return (await self._on_day([project_id], newest)).get(project_id)

    async def count(self) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(m.DailyReport))
                   or 0)

    async def first_photo(self, project_id: int, day: date) -> str | None:
        """The normalised copy (relative to the photo store) of the first photo of the
        project's report on `day`, if it has one."""
        return await self._session.scalar(
            select(m.Photo.normalised_path)
            .join(m.PhotoAttachment, m.PhotoAttachment.photo_id == m.Photo.id)
            .join(m.DailyReport, m.DailyReport.id == m.PhotoAttachment.report_id)
            .where(m.DailyReport.project_id == project_id, m.DailyReport.report_date == day)
            .order_by(m.PhotoAttachment.position, m.PhotoAttachment.id).limit(1))

    async def trend(self, project_id: int, since: date,
                    ) -> list[tuple[date, Decimal, Decimal | None]]:
        """Day, image progress and year-to-date investment of each report since `since`."""
        rows = await self._session.execute(
            select(m.DailyReport.report_date, m.DailyReport.progress_pct,
                   m.DailyReport.ytd_investment)
            .where(m.DailyReport.project_id == project_id, m.DailyReport.report_date >= since)
            .order_by(m.DailyReport.report_date))
        return [(d, p, y) for d, p, y in rows]
