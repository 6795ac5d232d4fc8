from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import Category, Light, ProjectLevel, ProjectSummary, Stage
from domain.scope import ProjectScope
from storage import models as m


@dataclass(frozen=True, slots=True)
class ProjectSite:
    id: int
    code: str
    name: str
    region_id: int
    unit_id: int
    lead_leader_id: int | None
    lat: float | None
    lon: float | None
    radius_m: int


@dataclass(frozen=True, slots=True)
class NewProject:
    code: str
    name: str
    region_id: int
    unit_id: int
    level: ProjectLevel
    category: Category
    stage: Stage
    total_investment: Decimal
    chain: str = ""
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: int = 1000
    lead_leader_id: int | None = None
    aliases: Sequence[str] = field(default_factory=tuple)
    liaison_ids: Sequence[int] = field(default_factory=tuple)


def scope_filter(scope: ProjectScope) -> ColumnElement[bool]:
    """The SQL form of `domain.scope`: which project rows the scope's person may see."""
    liaison_of = select(m.ProjectLiaison.project_id).where(
        m.ProjectLiaison.person_id == scope.person_id)
    clauses: list[ColumnElement[bool]] = [
        m.Project.id.in_(liaison_of), m.Project.lead_leader_id == scope.person_id]
    if scope.region_ids:
        clauses.append(m.Project.region_id.in_(sorted(scope.region_ids)))
    if scope.unit_ids:
        clauses.append(m.Project.unit_id.in_(sorted(scope.unit_ids)))
    return or_(false(), *clauses)


class ProjectsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new: NewProject, now: datetime) -> int:
        row = m.Project(
            code=new.code, name=new.name, region_id=new.region_id, unit_id=new.unit_id,
            level=new.level, chain=new.chain, category=new.category, stage=new.stage,
            total_investment=new.total_investment, planned_start=new.planned_start,
            planned_end=new.planned_end, actual_start=new.actual_start,
            actual_end=new.actual_end, lat=new.lat, lon=new.lon, radius_m=new.radius_m,
            lead_leader_id=new.lead_leader_id, created_at=now, updated_at=now)
        self._session.add(row)
        await self._session.flush()
        self._session.add_all([m.ProjectAlias(project_id=row.id, alias=a) for a in new.aliases])
        self._session.add_all(
            [m.ProjectLiaison(project_id=row.id, person_id=p) for p in new.liaison_ids])
        await self._session.flush()
        return row.id

    async def set_plan(self, project_id: int, year: int, annual_plan: Decimal,
                       shares: tuple[int, int, int, int] = (20, 50, 80, 100)) -> None:
        self._session.add(m.ProjectPlan(project_id=project_id, year=year, annual_plan=annual_plan,
                                        q1_pct=shares[0], q2_pct=shares[1], q3_pct=shares[2],
                                        q4_pct=shares[3]))
        await self._session.flush()

    async def set_light(self, project_id: int, light: Light) -> None:
        await self._session.execute(
            update(m.Project).where(m.Project.id == project_id).values(light=light))

    async def site(self, project_id: int) -> ProjectSite | None:
        """Who answers for a project and where it is: what forms and notifications need."""
        row = await self._session.get(m.Project, project_id)
        if row is None:
            return None
        return ProjectSite(row.id, row.code, row.name, row.region_id, row.unit_id,
                           row.lead_leader_id, row.lat, row.lon, row.radius_m)

    async def count(self) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(m.Project)) or 0)

    async def of_liaison(self, person_id: int, year: int) -> list[ProjectSummary]:
        ids = select(m.ProjectLiaison.project_id).where(m.ProjectLiaison.person_id == person_id)
        return await self._summaries(year, m.Project.id.in_(ids))

    async def led_by(self, person_id: int, year: int) -> list[ProjectSummary]:
        return await self._summaries(year, m.Project.lead_leader_id == person_id)

    async def visible(self, scope: ProjectScope, year: int) -> list[ProjectSummary]:
        return await self._summaries(year, scope_filter(scope))

    async def by_ids(self, ids: Sequence[int], year: int) -> list[ProjectSummary]:
        return await self._summaries(year, m.Project.id.in_(list(ids)))

    async def _summaries(self, year: int, where: ColumnElement[bool]) -> list[ProjectSummary]:
        leader = m.Person.__table__.alias("leader")
        query: Select[m.Project, str, str, str | None, Decimal | None] = (
            select(m.Project, m.Region.name, m.Unit.name, leader.c.name, m.ProjectPlan.annual_plan)
            .join(m.Region, m.Region.id == m.Project.region_id)
            .join(m.Unit, m.Unit.id == m.Project.unit_id)
            .outerjoin(leader, leader.c.id == m.Project.lead_leader_id)
            .outerjoin(m.ProjectPlan, (m.ProjectPlan.project_id == m.Project.id)
                       & (m.ProjectPlan.year == year))
            .where(m.Project.active.is_(True), where)
            .order_by(m.Project.code))
        rows = (await self._session.execute(query)).all()
        ids = [row[0].id for row in rows]
        aliases = await self._aliases(ids)
        liaisons = await self._liaison_names(ids)
        return [
            ProjectSummary(
                id=p.id, code=p.code, name=p.name, aliases=tuple(aliases.get(p.id, ())),
                region_name=region, unit_name=unit, stage=p.stage, level=p.level,
                category=p.category, chain=p.chain, total_investment=p.total_investment,
                annual_plan=plan, planned_start=p.planned_start, planned_end=p.planned_end,
                actual_start=p.actual_start, actual_end=p.actual_end,
                lead_leader_name=leader_name, liaison_names=tuple(liaisons.get(p.id, ())),
                light=p.light)
            for p, region, unit, leader_name, plan in rows]

    async def _aliases(self, ids: list[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        if ids:
            rows = await self._session.execute(
                select(m.ProjectAlias.project_id, m.ProjectAlias.alias)
                .where(m.ProjectAlias.project_id.in_(ids)).order_by(m.ProjectAlias.id))
            for project_id, alias in rows:
                found.setdefault(project_id, []).append(alias)
        return found

    async def _liaison_names(self, ids: list[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        if ids:
            rows = await self._session.execute(
                select(m.ProjectLiaison.project_id, m.Person.name)
                .join(m.Person, m.Person.id == m.ProjectLiaison.person_id)
                .where(m.ProjectLiaison.project_id.in_(ids)).order_by(m.Person.id))
            for project_id, name in rows:
                found.setdefault(project_id, []).append(name)
        return found
