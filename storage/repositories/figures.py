"""The figures the rhythms read: aggregated in the database, one row per project at most.

A county has a few thousand projects but a year of daily reports is millions of rows, so every
query here groups or seeks by index (`daily_reports (project_id, report_date)`) in SQL and
returns per-project or per-unit rows, never the reports themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.figures import OpenProblem, ProjectFigures
from domain.model import ProblemCategory, SiteStatus
from domain.problems import OPEN_STATES
from storage import dialect
from storage import models as m


class FiguresRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def projects(self, as_of: date, *, since: date) -> list[ProjectFigures]:
        """Every active project with its last report up to `as_of`, its reports counted from
        `since`, its year-to-date investment and its open problems.

        Per project a few index probes on `daily_reports (project_id, report_date)`: the last
        report (a row, see `dialect.newest_row`), the count of the window and, only when the
        last report of the year has no investment figure, the year's last one that has.
        """
        report = m.table_of(m.DailyReport)
        project = m.Project
        year_start = date(as_of.year, 1, 1)
        last, joined = dialect.newest_row(
            self._session, report,
            ["report_date", "progress_pct", "site_status", "ytd_investment"],
            where=[report.c.project_id == project.id, report.c.report_date <= as_of],
            newest_first=report.c.report_date.desc(), outer=m.table_of(project),
            name="last_report")
        counted = (select(func.count()).select_from(report)
                   .where(report.c.project_id == project.id,
                          report.c.report_date.between(since, as_of))
                   .correlate(project).scalar_subquery())
        earlier_ytd = (select(report.c.ytd_investment)
                       .where(report.c.project_id == project.id,
                              report.c.ytd_investment.is_not(None),
                              report.c.report_date.between(year_start, as_of))
                       .order_by(report.c.report_date.desc()).limit(1)
                       .correlate(project).scalar_subquery())
        # COALESCE evaluates the subquery only when the last report gives no figure
        ytd = func.coalesce(case((last.c.report_date >= year_start, last.c.ytd_investment)),
                            earlier_ytd)
        plan = m.ProjectPlan
        query = (
            select(project.id, project.code, project.name, project.region_id, project.unit_id,
                   m.Unit.name, project.lead_leader_id, project.stage, project.light,
                   project.works_rest_days, project.planned_start, project.actual_start,
                   project.planned_end, project.actual_end, plan.annual_plan, plan.q1_pct,
                   plan.q2_pct, plan.q3_pct, plan.q4_pct, last.c.report_date,
                   last.c.progress_pct, last.c.site_status, type_coerce(ytd, m.WAN), counted)
            .join(m.Unit, m.Unit.id == project.unit_id)
            .outerjoin(plan, and_(plan.project_id == project.id, plan.year == as_of.year))
            .outerjoin(last, joined)
            .where(project.active.is_(True))
            .order_by(project.code))
        connection = await self._session.connection()  # Core rows: no ORM work per row
        rows = await connection.execute(query)
        problems = await self.open_problem_counts()
        found = []
        for (pid, code, name, region_id, unit_id, unit_name, leader_id, stage, light, rest_days,
             planned_start, actual_start, planned_end, actual_end, annual_plan, q1, q2, q3, q4,
             last_report, progress, site_status, ytd_value, counted_days) in rows:
            open_count, top_level = problems.get(pid, (0, 0))
            found.append(ProjectFigures(
                id=pid, code=code, name=name, region_id=region_id, unit_id=unit_id,
                unit_name=unit_name, lead_leader_id=leader_id, stage=stage, light=light,
                works_rest_days=rest_days, planned_start=planned_start,
                actual_start=actual_start, planned_end=planned_end, actual_end=actual_end,
                annual_plan=annual_plan,
                shares=(q1 or 20, q2 or 50, q3 or 80, q4 or 100),
                last_report=last_report, progress_pct=progress,
                site_status=SiteStatus(site_status) if site_status else None,
                ytd_investment=ytd_value, reported_days=int(counted_days or 0),
                open_problems=open_count, top_level=top_level))
        return found

    async def open_problem_counts(self) -> dict[int, tuple[int, int]]:
        """Per project: how many problems are open and the highest level among them."""
        connection = await self._session.connection()
        rows = await connection.execute(
            select(m.Problem.project_id, func.count(), func.max(m.Problem.level))
            .where(m.Problem.state.in_(OPEN_STATES)).group_by(m.Problem.project_id))
        return {pid: (int(n), int(level or 0)) for pid, n, level in rows}

    async def liaisons(self, project_ids: Iterable[int]) -> dict[int, list[int]]:
        """Per project, the ids of its liaisons."""
        ids = sorted(set(project_ids))
        found: dict[int, list[int]] = {}
        if not ids:
            return found
        rows = await self._session.execute(
            select(m.ProjectLiaison.project_id, m.ProjectLiaison.person_id)
            .join(m.Person, m.Person.id == m.ProjectLiaison.person_id)
            .where(m.ProjectLiaison.project_id.in_(ids), m.Person.active.is_(True))
            .order_by(m.ProjectLiaison.person_id))
        for project_id, person_id in rows:
            found.setdefault(project_id, []).append(person_id)
        return found

    async def problems_created(self, start: datetime, end: datetime) -> dict[int, int]:
        """Per project, the problems filed in [start, end)."""
        return await self._count_by_project(m.Problem.created_at, start, end)

    async def problems_resolved(self, start: datetime, end: datetime) -> dict[int, int]:
        """Per project, the problems resolved in [start, end)."""
        return await self._count_by_project(m.Problem.resolved_at, start, end)

    async def _count_by_project(self, stamp: InstrumentedAttribute[Any], start: datetime,
                                end: datetime) -> dict[int, int]:
        connection = await self._session.connection()
        rows = await connection.execute(
            select(m.Problem.project_id, func.count())
            .where(stamp >= start, stamp < end).group_by(m.Problem.project_id))
        return {pid: int(n) for pid, n in rows}

    async def visits(self, start: date, end: date) -> dict[int, set[int]]:
        """Per project, the leaders who visited it between the two days."""
        rows = await self._session.execute(
            select(m.Visit.project_id, m.Visit.leader_id)
            .where(m.Visit.visit_date.between(start, end)))
        found: dict[int, set[int]] = {}
        for project_id, leader_id in rows:
            found.setdefault(project_id, set()).add(leader_id)
        return found

    async def open_problems(self, categories: Sequence[ProblemCategory] | None = None,
                            *, limit: int = 500) -> list[OpenProblem]:
        """Open problems, the most escalated and oldest first (the consultation list)."""
        query = (select(m.Problem.number, m.Problem.project_id, m.Problem.category,
                        m.Problem.description, m.Problem.urgent, m.Problem.level,
                        m.Problem.deadline)
                 .where(m.Problem.state.in_(OPEN_STATES))
                 .order_by(m.Problem.level.desc(), m.Problem.deadline, m.Problem.id)
                 .limit(limit))
        if categories is not None:
            query = query.where(m.Problem.category.in_(list(categories)))
        rows = await self._session.execute(query)
        return [OpenProblem(*row) for row in rows]
