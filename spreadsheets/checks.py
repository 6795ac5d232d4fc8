"""The rules of each import sheet, from rows to the batch storage writes.

Projects are keyed by code and people by key: a code or key twice in a sheet is refused on its
second row. The 分工 (assignments) sheet says who does what, and replaces what is stored for the
projects and people it names:
- 联络员 / 牵头领导 with a project code: the project's liaisons are exactly those listed for it;
  its lead leader is the one listed (one per project). Someone who does not hold that role yet
  is given it, scoped to the project's region, so the visit form and reminders reach them.
- any role with a region (项目办, 查看, 牵头领导, 联络员) or a unit (责任单位): a role with that
  scope. A person given such a row holds exactly the roles listed for them afterwards; naming
  someone as a project's liaison or leader never takes their other roles away.
A person may be named by key or, when no one else has that name, by name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.i18n import Translator
from domain.model import Region, RoleKind, Unit
from spreadsheets.columns import ASSIGNMENTS, PEOPLE, PROJECTS
from spreadsheets.reading import CellError, Sheet
from spreadsheets.rows import Places, Reference, Row, is_example
from spreadsheets.vocabulary import YES, closest
from storage.repositories.imports import Grant, ImportBatch, PersonFields, ProjectFields

PROJECT_ROLES = frozenset({RoleKind.LIAISON, RoleKind.LEADER})


@dataclass
class Checked:
    """The rows that passed, the codes and keys of rows that did not, and why."""

    projects: list[ProjectFields] = field(default_factory=list)
    people: list[PersonFields] = field(default_factory=list)
    leaders: dict[str, str] = field(default_factory=dict)
    liaisons: dict[str, list[str]] = field(default_factory=dict)
    roles: dict[str, set[Grant]] = field(default_factory=dict)
    implied_roles: dict[str, set[Grant]] = field(default_factory=dict)
    refused_codes: set[str] = field(default_factory=set)
    refused_keys: set[str] = field(default_factory=set)
    errors: list[CellError] = field(default_factory=list)
    rows: int = 0  # data rows read, the example row not counted
    assignments: int = 0  # rows of the assignments sheet taken

    def batch(self) -> ImportBatch:
        return ImportBatch(people=self.people, projects=self.projects, leaders=self.leaders,
                           liaisons=self.liaisons,
                           roles={key: sorted(grants, key=_grant_order)
                                  for key, grants in self.roles.items()},
                           implied_roles={key: sorted(grants, key=_grant_order)
                                          for key, grants in self.implied_roles.items()})


def _grant_order(grant: Grant) -> tuple[str, int, int]:
    return grant.kind.value, grant.region_id or 0, grant.unit_id or 0


def _rows(sheet: Sheet, t: Translator, epoch: datetime, found: Checked) -> list[Row]:
    rows = []
    for index, (number, values) in enumerate(sheet.rows):
        if index == 0 and is_example(sheet, values):
            continue  # the template's example, left under the header as it was
        rows.append(Row(sheet, number, values, t, epoch))
    found.rows += len(rows)
    return rows


class _Seen:
    """The codes (or keys) of a sheet so far, each with the row it first stood on."""

    def __init__(self, field: str, message: str) -> None:
        self._field, self._message = field, message
        self._rows: dict[str, int] = {}

    def first(self, row: Row, value: str) -> bool:
        """Whether `row` is the first with `value`; a later row with it fails, naming the
        first. A blank value is never first, nor twice."""
        if value in self._rows:
            row.fail(self._field, self._message, **{self._field: value}, row=self._rows[value])
            return False
        if value:
            self._rows[value] = row.number
        return bool(value)


def _refuse(row: Row, found: Checked, refused: set[str], value: str) -> None:
    """The row's errors kept, and its code (or key) refused: a 分工 row naming it fails too."""
    found.errors += row.in_order()
    if value:
        refused.add(value)


def _date_order(row: Row, values: dict[str, Any], start: str, end: str) -> None:
    first, last = values[start], values[end]
    if isinstance(first, date) and isinstance(last, date) and last < first:
        spec, t = row.sheet.spec, row.t
        row.fail(end, "excel.end_before_start", end=spec.header(t, spec.column(end)),
                 start=spec.header(t, spec.column(start)))


def check_projects(sheet: Sheet, ref: Reference, t: Translator, epoch: datetime,
                   found: Checked) -> None:
    seen = _Seen("code", "excel.duplicate_code")
    regions: Places[Region] = ref.places["region"]
    units: Places[Unit] = ref.places["unit"]
    for row in _rows(sheet, t, epoch, found):
        v = row.read_all(PROJECTS)
        code = v["code"]
        if seen.first(row, code):
            stored = ref.projects.get(code)
            if stored is not None and ref.scope is not None and stored.region_id not in ref.scope:
                row.fail("code", "excel.project_out_of_scope", code=code)
        region = row.find("region", regions, v["region"])
        unit = row.find("unit", units, v["unit"])
        row.in_scope("region", region.id if region else None, ref.scope, v["region"])
        _date_order(row, v, "planned_start", "planned_end")
        _date_order(row, v, "actual_start", "actual_end")
        if (v["lat"] is None) != (v["lon"] is None) and row.ok:
            row.fail("lon" if v["lon"] is None else "lat", "excel.lat_lon_pair")
        if not row.ok or region is None or unit is None:
            _refuse(row, found, found.refused_codes, code)
            continue
        found.projects.append(ProjectFields(
            code=code, name=v["name"], region_id=region.id, unit_id=unit.id, level=v["level"],
            category=v["category"], stage=v["stage"], total_investment=v["total_investment"],
            aliases=v["aliases"] or (), chain=v["chain"] or "", annual_plan=v["annual_plan"],
            planned_start=v["planned_start"], planned_end=v["planned_end"],
            actual_start=v["actual_start"], actual_end=v["actual_end"],
            lat=None if v["lat"] is None else float(v["lat"]),
            lon=None if v["lon"] is None else float(v["lon"]),
            radius_m=1000 if v["radius"] is None else v["radius"],
            works_rest_days=v["rest_days"] in (None, YES)))


def check_people(sheet: Sheet, ref: Reference, t: Translator, epoch: datetime,
                 found: Checked) -> None:
    seen = _Seen("key", "excel.duplicate_key")
    units: Places[Unit] = ref.places["unit"]
    for row in _rows(sheet, t, epoch, found):
        v = row.read_all(PEOPLE)
        key = v["key"]
        if seen.first(row, key):
            stored = ref.people.get(key)
            if stored is not None and stored.unit_id is not None and ref.scope is not None \
                    and ref.unit_regions.get(stored.unit_id) not in ref.scope:
                row.fail("key", "excel.person_out_of_scope", key=key)
        unit = row.find("unit", units, v["unit"])
        if unit is not None:
            row.in_scope("unit", ref.unit_regions.get(unit.id), ref.scope, v["unit"])
        if not row.ok:
            _refuse(row, found, found.refused_keys, key)
            continue
        found.people.append(PersonFields(
            key=key, name=v["name"], title=v["title"] or "", phone=v["phone"] or None,
            unit_id=unit.id if unit else None, language=v["language"]))


class People:
    """Who a 分工 row names: a key, or a name only one person has (sheet or stored)."""

    def __init__(self, ref: Reference, found: Checked) -> None:
        self._keys = set(ref.people) | {p.key for p in found.people}
        self._refused = found.refused_keys
        by_name: dict[str, set[str]] = defaultdict(set)
        for person in ref.people.values():
            by_name[person.name].add(person.key)
        for new in found.people:
            by_name[new.name].add(new.key)
        self._by_name = by_name

    def find(self, row: Row, text: str, *, partial: bool) -> str | None:
        if text in self._refused:
            if partial:
                row.fail("person", "excel.person_refused", value=text)
            return None
        if text in self._keys:
            return text
        keys = sorted(self._by_name.get(text, ()))
        if len(keys) == 1:
            return keys[0]
        if keys:
            row.fail("person", "excel.ambiguous_person", value=text, count=len(keys),
                     keys="、".join(keys[:5]))
        else:
            near = closest(text, [*self._by_name, *self._keys], cutoff=0.5)
            if near is not None:
                row.fail("person", "excel.no_person_suggest", value=text, suggestion=near)
            else:
                row.fail("person", "excel.no_person", value=text)
        return None


@dataclass
class _Assignment:
    key: str
    kind: RoleKind
    code: str | None
    region_id: int | None
    unit_id: int | None


def check_assignments(sheet: Sheet, ref: Reference, t: Translator, epoch: datetime,
                      found: Checked, *, partial: bool) -> None:
    people = People(ref, found)
    project_regions = {code: p.region_id for code, p in ref.projects.items()}
    project_regions.update({p.code: p.region_id for p in found.projects})
    leader_rows: dict[str, tuple[str, int]] = {}
    taken: list[_Assignment] = []
    for row in _rows(sheet, t, epoch, found):
        done = _assignment(row, ref, people, project_regions,
                           refused_codes=found.refused_codes, partial=partial)
        if done is not None and done.kind is RoleKind.LEADER and done.code is not None:
            earlier = leader_rows.setdefault(done.code, (done.key, row.number))
            if earlier[0] != done.key:
                row.fail("person", "excel.two_leaders", code=done.code, row=earlier[1])
        if not row.ok or done is None:
            found.errors += row.in_order()
            continue
        taken.append(done)
    found.assignments = len(taken)
    _collect(taken, project_regions, found)


def _assignment(row: Row, ref: Reference, people: People, project_regions: dict[str, int], *,
                refused_codes: set[str], partial: bool) -> _Assignment | None:
    v = row.read_all(ASSIGNMENTS)
    key = people.find(row, v["person"], partial=partial) if v["person"] else None
    kind = RoleKind(v["role"]) if v["role"] else None
    code = v["project"] or None
    if code in refused_codes:
        if partial:  # otherwise nothing is imported, and the project's own row says why
            row.fail("project", "excel.project_refused", code=code)
        return None
    if code is not None and code not in project_regions:
        row.fail("project", "excel.no_project", code=code)
    elif code is not None:
        row.in_scope("project", project_regions[code], ref.scope, code)
    region = row.find("region", ref.places["region"], v["region"])
    unit = row.find("unit", ref.places["unit"], v["unit"])
    if region is not None:
        row.in_scope("region", region.id, ref.scope, v["region"])
    if unit is not None:
        row.in_scope("unit", ref.unit_regions.get(unit.id), ref.scope, v["unit"])
    if kind is not None:
        _role_rules(row, kind, code=code, region=v["region"], unit=v["unit"])
    if key is None or kind is None or not row.ok:
        return None
    return _Assignment(key, kind, code, region.id if region else None,
                       unit.id if unit else None)


def _role_rules(row: Row, kind: RoleKind, *, code: str | None, region: str | None,
                unit: str | None) -> None:
    if code is not None and kind not in PROJECT_ROLES:
        row.fail("project", "excel.project_for_role")
    if region and unit:
        row.fail("unit", "excel.region_or_unit")
    elif kind is RoleKind.UNIT and not unit:
        row.fail("unit" if "unit" in row.sheet.columns else "role", "excel.unit_role_needs_unit")
    elif kind in (RoleKind.DISPATCHER, RoleKind.VIEWER) and not region:
        row.fail("region" if "region" in row.sheet.columns else "role",
                 "excel.role_needs_region")
    elif kind in PROJECT_ROLES and code is None and not region and not unit:
        row.fail("project" if "project" in row.sheet.columns else "role",
                 "excel.role_needs_project")


def _collect(taken: list[_Assignment], project_regions: dict[str, int], found: Checked) -> None:
    """Liaisons and leaders by project; each named person's complete set of roles."""
    explicit: dict[str, set[Grant]] = defaultdict(set)
    implied: dict[str, set[Grant]] = defaultdict(set)
    for a in taken:
        if a.code is not None:
            if a.kind is RoleKind.LEADER:
                found.leaders[a.code] = a.key
            else:
                listed = found.liaisons.setdefault(a.code, [])
                if a.key not in listed:
                    listed.append(a.key)
            implied[a.key].add(Grant(a.kind, project_regions[a.code], None))
        if a.region_id is not None or a.unit_id is not None:
            explicit[a.key].add(Grant(a.kind, a.region_id, a.unit_id))
    for key, grants in explicit.items():
        kinds = {g.kind for g in grants}
        found.roles[key] = grants | {g for g in implied[key] if g.kind not in kinds}
    for key, grants in implied.items():
        if key not in explicit:
            found.implied_roles[key] = grants
