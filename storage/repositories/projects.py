from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    or_,
    select,
    true,
    update,
)
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
class ProjectColumns:
    """A project's own columns, as a new project is made with them (here, and by the Excel
    import's `ProjectFields`)."""

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

    def columns(self) -> dict[str, Any]:
        """These columns by name, as `m.Project` takes them."""
        return {column.name: getattr(self, column.name) for column in fields(ProjectColumns)}


@dataclass(frozen=True, slots=True)
class NewProject(ProjectColumns):
    lead_leader_id: int | None = None
    aliases: Sequence[str] = field(default_factory=tuple)
    liaison_ids: Sequence[int] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What the lookup index keeps of an active project: what people call it, and what the
    scope rule (`domain.scope.sees_project`) reads."""

    id: int
    code: str
    name: str
    aliases: tuple[str, ...]
    region_id: int
    unit_id: int
    lead_leader_id: int | None
    liaison_ids: frozenset[int]


IndexStamp = tuple[object, ...]
"""Aggregates that change whenever a project, an alias or a liaison is added or removed, and
whenever a project is edited: an edit (of its name, code, aliases, region, unit, leader or
liaisons) must set `updated_at`, as the importer does. Equal stamps: the index is current.
Integers and one timestamp only: no text is read, so it stays cheap (SQLite, 10,000 projects:
about 4 ms). The region, unit and leader sums and the liaison aggregates are there for the
scope: an edit that forgot `updated_at` must not leave the index showing a project to someone
who may no longer see it."""


def _stamp_query() -> Select[tuple[object, ...]]:
    p, a, li = m.Project, m.ProjectAlias, m.ProjectLiaison
    projects = select(
        func.count(), func.sum(case((p.active.is_(True), 1), else_=0)), func.max(p.id),
        func.max(p.updated_at), func.sum(p.region_id + p.unit_id),
        func.sum(func.coalesce(p.lead_leader_id, 0)),
    ).subquery()
    aliases = select(func.count(), func.max(a.id)).subquery()
    # The product tells a swap of two liaisons between two projects from no change at all.
    liaisons = select(func.count(), func.sum(li.person_id),
                      func.sum(cast(li.project_id, BigInteger) * li.person_id)).subquery()
    return (select(*projects.c, *aliases.c, *liaisons.c).select_from(projects)
            .join(aliases, true()).join(liaisons, true()))


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
        row = m.Project(**new.columns(), lead_leader_id=new.lead_leader_id, created_at=now,
                        updated_at=now)
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
        await self.set_lights({project_id: light})

    async def set_lights(self, lights: Mapping[int, Light]) -> None:
        """New traffic lights: one statement per colour (and 500 projects)."""
        for light in Light:
            ids = sorted(pid for pid, new in lights.items() if new is light)
            for start in range(0, len(ids), 500):
                await self._session.execute(
                    update(m.Project).where(m.Project.id.in_(ids[start:start + 500]))
                    .values(light=light))

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

    async def visible_by_ids(self, scope: ProjectScope, ids: Sequence[int],
                             year: int) -> list[ProjectSummary]:
        """`by_ids`, keeping only what the scope may see (a second guard behind the index)."""
        return await self._summaries(year, and_(m.Project.id.in_(list(ids)), scope_filter(scope)))

    async def index_stamp(self) -> IndexStamp:
        """One cheap query whose answer changes when anything the lookup index holds does."""
        return tuple((await self._session.execute(_stamp_query())).one())

    async def index_entries(self) -> list[IndexEntry]:
        """Every active project as the lookup index needs it, in three queries."""
        p = m.Project
        rows = (await self._session.execute(
            select(p.id, p.code, p.name, p.region_id, p.unit_id, p.lead_leader_id)
            .where(p.active.is_(True)).order_by(p.code))).all()
        aliases: dict[int, list[str]] = {}
        for project_id, alias in await self._session.execute(
                select(m.ProjectAlias.project_id, m.ProjectAlias.alias)
                .join(p, p.id == m.ProjectAlias.project_id)
                .where(p.active.is_(True)).order_by(m.ProjectAlias.id)):
            aliases.setdefault(project_id, []).append(alias)
        liaisons: dict[int, set[int]] = {}
        for project_id, person_id in await self._session.execute(
                select(m.ProjectLiaison.project_id, m.ProjectLiaison.person_id)
                .join(p, p.id == m.ProjectLiaison.project_id).where(p.active.is_(True))):
            liaisons.setdefault(project_id, set()).add(person_id)
        return [IndexEntry(id=pid, code=code, name=name, aliases=tuple(aliases.get(pid, ())),
                           region_id=region, unit_id=unit, lead_leader_id=lead,
                           liaison_ids=frozenset(liaisons.get(pid, ())))
                for pid, code, name, region, unit, lead in rows]

    async def visible_ids(self, scope: ProjectScope,
                          ids: Sequence[int] | None = None) -> set[int]:
        """Which of these projects (or of all) the scope's person may see."""
        if ids is not None and not ids:
            return set()
        query = select(m.Project.id).where(scope_filter(scope))
        if ids is not None:
            query = query.where(m.Project.id.in_(list(ids)))
        return set(await self._session.scalars(query))

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
