"""Writes of the Excel import: people, projects and who does what, by key and code, in bulk.

A county's workbook holds thousands of rows, and the same workbook is imported again after
each correction, so rows are compared with what is stored and only real changes are written:
inserts and updates are executemany statements, not one ORM object per row. A project whose
fields, aliases, plan for the year, lead leader or liaisons change gets `updated_at` = now (the
project lookup index refreshes on it) and an audit entry with the fields before and after.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.model import RoleKind
from storage import models as m
from storage.repositories.projects import ProjectColumns

CHUNK = 2000  # ids or keys per IN (…): well under both databases' parameter limits
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PersonFields:
    key: str
    name: str
    title: str = ""
    phone: str | None = None
    unit_id: int | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectFields(ProjectColumns):
    """A project row of the workbook: its columns, and what else the sheet says of it."""

    aliases: tuple[str, ...] = ()
    annual_plan: Decimal | None = None
    works_rest_days: bool = True


@dataclass(frozen=True, slots=True)
class Grant:
    kind: RoleKind
    region_id: int | None = None
    unit_id: int | None = None


@dataclass(frozen=True, slots=True)
class ImportBatch:
    """What a workbook says. `leaders`, `liaisons` and `roles` replace what is stored for the
    projects and people they name, and leave everyone else's as it is; `implied_roles` are
    given to people who hold no role of that kind yet (a liaison of a project is a liaison)."""

    people: Sequence[PersonFields] = ()
    projects: Sequence[ProjectFields] = ()
    leaders: Mapping[str, str] = field(default_factory=dict)  # project code → person key
    liaisons: Mapping[str, Sequence[str]] = field(default_factory=dict)  # code → person keys
    roles: Mapping[str, Sequence[Grant]] = field(default_factory=dict)  # person key → roles
    implied_roles: Mapping[str, Sequence[Grant]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportCounts:
    projects_new: int = 0
    projects_updated: int = 0
    projects_unchanged: int = 0
    people_new: int = 0
    people_updated: int = 0
    people_unchanged: int = 0
    assignments: int = 0  # rows of the assignments sheet taken (counted by the importer)

    @property
    def projects(self) -> int:
        return self.projects_new + self.projects_updated + self.projects_unchanged

    @property
    def people(self) -> int:
        return self.people_new + self.people_updated + self.people_unchanged


@dataclass(frozen=True, slots=True)
class PersonRef:
    id: int
    key: str
    name: str
    unit_id: int | None


@dataclass(frozen=True, slots=True)
class ProjectRef:
    id: int
    code: str
    region_id: int


_PERSON_COLUMNS = ("name", "title", "phone", "unit_id", "language")
_PROJECT_COLUMNS = ("name", "region_id", "unit_id", "level", "chain", "category", "stage",
                    "total_investment", "planned_start", "planned_end", "actual_start",
                    "actual_end", "lat", "lon", "radius_m", "works_rest_days")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _plain(value: Any) -> Any:
    """A value as the audit log's JSON keeps it."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 15000, not 15000.0000
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def _insert(session: AsyncSession, model: type[m.Base], rows: list[dict[str, Any]],
                  ) -> None:
    """A plain executemany on the table: the ORM's bulk insert costs more than the database."""
    await session.execute(insert(cast(Table, model.__table__)), rows)


def _project_values(fields: ProjectFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in _PROJECT_COLUMNS}


@dataclass
class _StoredProject:
    id: int
    code: str
    values: dict[str, Any]
    lead_leader_id: int | None
    aliases: tuple[str, ...] = ()
    plan: tuple[int, Decimal] | None = None  # (plan row id, annual plan)
    liaisons: frozenset[int] = frozenset()


class ImportsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def people_index(self) -> dict[str, PersonRef]:
        """Every person by key, to resolve the names and keys a workbook mentions."""
        rows = await self._session.execute(
            select(m.Person.id, m.Person.key, m.Person.name, m.Person.unit_id))
        return {key: PersonRef(pid, key, name, unit) for pid, key, name, unit in rows}

    async def project_index(self) -> dict[str, ProjectRef]:
        rows = await self._session.execute(
            select(m.Project.id, m.Project.code, m.Project.region_id))
        return {code: ProjectRef(pid, code, region) for pid, code, region in rows}

    async def save(self, batch: ImportBatch, *, year: int, now: datetime,
                   actor_id: int | None) -> ImportCounts:
        """Write the batch in the caller's transaction; returns what was new, changed, same."""
        people = await self._save_people(batch, now)
        ids = await self._person_ids(
            {*batch.leaders.values(), *(k for keys in batch.liaisons.values() for k in keys)},
            people.ids)
        projects = await self._save_projects(batch, ids, year=year, now=now, actor_id=actor_id)
        return ImportCounts(
            projects_new=projects.new, projects_updated=projects.updated,
            projects_unchanged=projects.unchanged, people_new=people.new,
            people_updated=people.updated, people_unchanged=people.unchanged)

    async def _insert(self, model: type[m.Base], rows: list[dict[str, Any]]) -> None:
        await _insert(self._session, model, rows)

    async def _ids(self, column: InstrumentedAttribute[str], values: Sequence[str],
                   ) -> dict[str, int]:
        """The ids of rows just inserted, by their key or code."""
        table = column.class_
        found: dict[str, int] = {}
        for chunk in _chunks(values):
            rows = await self._session.execute(select(column, table.id).where(column.in_(chunk)))
            found.update((value, pid) for value, pid in rows)
        return found

    async def _person_ids(self, keys: Iterable[str], known: dict[str, int]) -> dict[str, int]:
        wanted = sorted(set(keys) - set(known))
        found = dict(known)
        for chunk in _chunks(wanted):
            rows = await self._session.execute(
                select(m.Person.key, m.Person.id).where(m.Person.key.in_(chunk)))
            found.update((key, pid) for key, pid in rows)
        return found

    # ---- people ----------------------------------------------------------------------------

    async def _save_people(self, batch: ImportBatch, now: datetime) -> _Outcome:
        keys = sorted({p.key for p in batch.people} | set(batch.roles)
                      | set(batch.implied_roles))
        stored: dict[str, tuple[int, dict[str, Any]]] = {}
        for chunk in _chunks(keys):
            rows = await self._session.execute(
                select(m.Person.id, m.Person.key, *(getattr(m.Person, c) for c in _PERSON_COLUMNS))
                .where(m.Person.key.in_(chunk)))
            for pid, key, *columns in rows:
                stored[key] = (pid, dict(zip(_PERSON_COLUMNS, columns, strict=True)))
        outcome = _Outcome()
        new_rows, changed_rows = [], []
        for person in batch.people:
            values = {c: getattr(person, c) for c in _PERSON_COLUMNS}
            if person.key not in stored:
                new_rows.append({"key": person.key, "created_at": now, **values})
            elif stored[person.key][1] != values:
                changed_rows.append({"id": stored[person.key][0], **values})
                outcome.changed.add(person.key)
        if new_rows:
            await self._insert(m.Person, new_rows)
            outcome.ids.update(await self._ids(m.Person.key, [r["key"] for r in new_rows]))
            outcome.new = len(new_rows)
        if changed_rows:
            await self._session.execute(update(m.Person), changed_rows)
        outcome.ids.update({key: pid for key, (pid, _) in stored.items()})
        outcome.changed |= await self._replace_roles(batch, outcome.ids,
                                                     new=set(outcome.ids) - set(stored))
        in_sheet = {p.key for p in batch.people}
        outcome.updated = len(outcome.changed - (set(outcome.ids) - set(stored)))
        outcome.unchanged = len(in_sheet - outcome.changed) - outcome.new
        return outcome

    async def _replace_roles(self, batch: ImportBatch, ids: dict[str, int], *,
                             new: set[str]) -> set[str]:
        """Roles as the batch says (replaced, or added where missing); who changed."""
        keys = sorted(set(batch.roles) | set(batch.implied_roles))
        stored: dict[str, set[Grant]] = {key: set() for key in keys}
        by_id = {ids[key]: key for key in keys}
        for chunk in _chunks(sorted(by_id)):
            rows = await self._session.execute(
                select(m.RoleGrant.person_id, m.RoleGrant.kind, m.RoleGrant.region_id,
                       m.RoleGrant.unit_id).where(m.RoleGrant.person_id.in_(chunk)))
            for pid, kind, region, unit in rows:
                stored[by_id[pid]].add(Grant(RoleKind(kind), region, unit))
        wanted = {key: set(grants) for key, grants in batch.roles.items()}
        for key, grants in batch.implied_roles.items():
            if key not in wanted:
                kinds = {g.kind for g in stored[key]}
                wanted[key] = stored[key] | {g for g in grants if g.kind not in kinds}
        changed = {key for key, grants in wanted.items() if grants != stored[key]}
        for chunk in _chunks(sorted(ids[key] for key in changed)):
            await self._session.execute(
                delete(m.RoleGrant).where(m.RoleGrant.person_id.in_(chunk)))
        granted = [{"person_id": ids[key], "kind": g.kind, "region_id": g.region_id,
                    "unit_id": g.unit_id} for key in sorted(changed) for g in wanted[key]]
        if granted:
            await self._insert(m.RoleGrant, granted)
        return changed - new

    # ---- projects --------------------------------------------------------------------------

    async def _stored_projects(self, codes: Sequence[str], year: int,
                               ) -> dict[str, _StoredProject]:
        stored: dict[str, _StoredProject] = {}
        columns = [getattr(m.Project, c) for c in _PROJECT_COLUMNS]
        for chunk in _chunks(codes):
            rows = await self._session.execute(
                select(m.Project.id, m.Project.code, m.Project.lead_leader_id, *columns)
                .where(m.Project.code.in_(chunk)))
            for pid, code, leader, *values in rows:
                stored[code] = _StoredProject(
                    pid, code, dict(zip(_PROJECT_COLUMNS, values, strict=True)), leader)
        by_id = {p.id: p for p in stored.values()}
        ids = sorted(by_id)
        for id_chunk in _chunks(ids):
            aliases: dict[int, list[str]] = {}
            for pid, alias in await self._session.execute(
                    select(m.ProjectAlias.project_id, m.ProjectAlias.alias)
                    .where(m.ProjectAlias.project_id.in_(id_chunk)).order_by(m.ProjectAlias.id)):
                aliases.setdefault(pid, []).append(alias)
            for pid, found in aliases.items():
                by_id[pid].aliases = tuple(found)
            for pid, plan_id, plan in await self._session.execute(
                    select(m.ProjectPlan.project_id, m.ProjectPlan.id, m.ProjectPlan.annual_plan)
                    .where(m.ProjectPlan.project_id.in_(id_chunk), m.ProjectPlan.year == year)):
                by_id[pid].plan = (plan_id, plan)
            liaisons: dict[int, set[int]] = {}
            for pid, person in await self._session.execute(
                    select(m.ProjectLiaison.project_id, m.ProjectLiaison.person_id)
                    .where(m.ProjectLiaison.project_id.in_(id_chunk))):
                liaisons.setdefault(pid, set()).add(person)
            for pid, found_ids in liaisons.items():
                by_id[pid].liaisons = frozenset(found_ids)
        return stored

    async def _save_projects(self, batch: ImportBatch, people: dict[str, int], *, year: int,
                             now: datetime, actor_id: int | None) -> _Outcome:
        in_sheet = {p.code: p for p in batch.projects}
        codes = sorted(set(in_sheet) | set(batch.leaders) | set(batch.liaisons))
        stored = await self._stored_projects(codes, year)
        outcome = _Outcome()
        new = [p for p in batch.projects if p.code not in stored]
        if new:
            await self._insert(m.Project, [
                {"code": p.code, **_project_values(p), "created_at": now, "updated_at": now,
                 "lead_leader_id": people.get(batch.leaders.get(p.code, ""))} for p in new])
            inserted = await self._ids(m.Project.code, [p.code for p in new])
            for code, pid in inserted.items():
                stored[code] = _StoredProject(pid, code, _project_values(in_sheet[code]),
                                              people.get(batch.leaders.get(code, "")))
                outcome.ids[code] = pid
            outcome.new = len(new)
        changes = Changes(self._session, year)
        for code in codes:
            project = stored.get(code)
            if project is None:
                continue  # named in 分工 only, and not stored: the importer refused that row
            changes.compare(project, in_sheet.get(code), batch, people,
                            is_new=code in outcome.ids)
        await changes.write(now=now, actor_id=actor_id, created=outcome.ids, sheet=in_sheet)
        outcome.updated = len(changes.updated)
        outcome.unchanged = len([c for c in in_sheet if c not in outcome.ids
                                 and stored[c].id not in changes.updated])
        return outcome


@dataclass
class _Outcome:
    ids: dict[str, int] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    new: int = 0
    updated: int = 0
    unchanged: int = 0


class Changes:
    """What differs between the stored projects and the workbook, then written in bulk."""

    def __init__(self, session: AsyncSession, year: int) -> None:
        self._session = session
        self._year = year
        self.updated: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}  # id → before, after
        self._rows: dict[int, dict[str, Any]] = {}
        self._aliases: dict[int, tuple[str, ...]] = {}
        self._plans_new: list[dict[str, Any]] = []
        self._plans_changed: list[dict[str, Any]] = []
        self._plans_gone: list[int] = []
        self._liaisons: dict[int, frozenset[int]] = {}

    def _note(self, project: _StoredProject, name: str, before: Any, after: Any,
              *, is_new: bool) -> None:
        if not is_new:
            was, now = self.updated.setdefault(project.id, ({}, {}))
            was[name], now[name] = _plain(before), _plain(after)

    def compare(self, project: _StoredProject, fields: ProjectFields | None,
                batch: ImportBatch, people: dict[str, int], *, is_new: bool) -> None:
        if fields is not None:
            wanted = _project_values(fields)
            row = {k: v for k, v in wanted.items() if project.values.get(k) != v}
            for name, value in row.items():
                self._note(project, name, project.values.get(name), value, is_new=is_new)
            if row:
                self._rows[project.id] = row
            if fields.aliases != project.aliases:
                self._aliases[project.id] = fields.aliases
                self._note(project, "aliases", project.aliases, fields.aliases, is_new=is_new)
            self._compare_plan(project, fields.annual_plan, is_new=is_new)
        self._compare_staff(project, batch, people, is_new=is_new)

    def _compare_plan(self, project: _StoredProject, plan: Decimal | None, *,
                      is_new: bool) -> None:
        current = project.plan[1] if project.plan else None
        if plan == current:
            return
        if project.plan is None:
            self._plans_new.append({"project_id": project.id, "year": self._year,
                                    "annual_plan": plan})
        elif plan is None:
            self._plans_gone.append(project.plan[0])
        else:
            self._plans_changed.append({"id": project.plan[0], "annual_plan": plan})
        self._note(project, f"annual_plan_{self._year}", current, plan, is_new=is_new)

    def _compare_staff(self, project: _StoredProject, batch: ImportBatch,
                       people: dict[str, int], *, is_new: bool) -> None:
        if project.code in batch.leaders:
            leader = people[batch.leaders[project.code]]
            if leader != project.lead_leader_id:
                self._rows.setdefault(project.id, {})["lead_leader_id"] = leader
                self._note(project, "lead_leader_id", project.lead_leader_id, leader,
                           is_new=is_new)
        if project.code in batch.liaisons:
            wanted = frozenset(people[key] for key in batch.liaisons[project.code])
            if wanted != project.liaisons:
                self._liaisons[project.id] = wanted
                self._note(project, "liaison_ids", project.liaisons, wanted, is_new=is_new)

    async def write(self, *, now: datetime, actor_id: int | None,
                    created: Mapping[str, int], sheet: Mapping[str, ProjectFields]) -> None:
        for pid in self.updated:
            self._rows.setdefault(pid, {})["updated_at"] = now
        by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
        for pid, row in self._rows.items():
            by_columns.setdefault(frozenset(row), []).append({"id": pid, **row})
        for rows in by_columns.values():  # one executemany per set of changed columns
            await self._session.execute(update(m.Project), rows)
        await self._replace(m.ProjectAlias, "alias", {
            pid: list(aliases) for pid, aliases in self._aliases.items()})
        await self._replace(m.ProjectLiaison, "person_id", {
            pid: sorted(ids) for pid, ids in self._liaisons.items()})
        await self._write_plans()
        audit = [{"at": now, "actor_id": actor_id, "entity": "project", "entity_id": pid,
                  "action": "import_create", "before": None,
                  "after": {"code": code, "name": sheet[code].name}}
                 for code, pid in created.items()]
        audit += [{"at": now, "actor_id": actor_id, "entity": "project", "entity_id": pid,
                   "action": "import_update", "before": before, "after": after}
                  for pid, (before, after) in self.updated.items()]
        if audit:
            await _insert(self._session, m.AuditEntry, audit)

    async def _replace(self, model: type[m.ProjectAlias] | type[m.ProjectLiaison], column: str,
                       wanted: dict[int, list[Any]]) -> None:
        ids = sorted(wanted)
        for chunk in _chunks(ids):
            await self._session.execute(delete(model).where(model.project_id.in_(chunk)))
        rows = [{"project_id": pid, column: value} for pid in ids for value in wanted[pid]]
        if rows:
            await _insert(self._session, model, rows)

    async def _write_plans(self) -> None:
        for chunk in _chunks(sorted(self._plans_gone)):
            await self._session.execute(delete(m.ProjectPlan).where(m.ProjectPlan.id.in_(chunk)))
        if self._plans_new:
            await _insert(self._session, m.ProjectPlan, self._plans_new)
        if self._plans_changed:
            await self._session.execute(update(m.ProjectPlan), self._plans_changed)
