"""Who may see which projects: the rule, without the database.

- a liaison sees the projects they are assigned to;
- a lead leader sees the projects they lead;
- a leader, dispatcher or viewer with a region scope sees every project in that region and below;
- a unit role sees the projects of its unit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from domain.model import Person, Region, RoleKind

REGION_WIDE = frozenset({RoleKind.LEADER, RoleKind.DISPATCHER, RoleKind.VIEWER})


@dataclass(frozen=True, slots=True)
class ProjectScope:
    person_id: int
    region_ids: frozenset[int]
    unit_ids: frozenset[int]


def descendants(root_ids: Iterable[int], regions: Iterable[Region]) -> frozenset[int]:
    """The regions given and every region below them."""
    children: dict[int, list[int]] = {}
    for region in regions:
        if region.parent_id is not None:
            children.setdefault(region.parent_id, []).append(region.id)
    found: set[int] = set()
    stack = list(root_ids)
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, ()))
    return frozenset(found)


def project_scope(person: Person, regions: Iterable[Region]) -> ProjectScope:
    roots = [r.region_id for r in person.roles if r.kind in REGION_WIDE and r.region_id is not None]
    units = frozenset(
        r.unit_id for r in person.roles if r.kind is RoleKind.UNIT and r.unit_id is not None)
    return ProjectScope(person.id, descendants(roots, regions), units)


def sees_project(scope: ProjectScope, *, region_id: int, unit_id: int,
                 lead_leader_id: int | None, liaison_ids: Collection[int]) -> bool:
    """The rule above for one project held in memory (the lookup index filters with it); the
    SQL form is `storage.repositories.projects.scope_filter`, and a test keeps the two agreeing."""
    return (scope.person_id in liaison_ids or lead_leader_id == scope.person_id
            or region_id in scope.region_ids or unit_id in scope.unit_ids)


def person_regions(person: Person, unit_region_id: int | None) -> frozenset[int]:
    """The regions a person belongs to: those of their roles and of their unit."""
    found = {r.region_id for r in person.roles if r.region_id is not None}
    if unit_region_id is not None:
        found.add(unit_region_id)
    return frozenset(found)


def dispatcher_reaches(dispatcher: Person, person_region_ids: frozenset[int],
                       regions: Iterable[Region]) -> bool:
    """A dispatcher acts for the people of their region and below (anyone, for a person who
    belongs to no region yet)."""
    roots = [r.region_id for r in dispatcher.roles
             if r.kind is RoleKind.DISPATCHER and r.region_id is not None]
    if not roots:
        return False
    return not person_region_ids or bool(person_region_ids & descendants(roots, regions))
