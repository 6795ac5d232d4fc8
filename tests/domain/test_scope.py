from __future__ import annotations

from domain.model import Person, Region, RegionLevel, Role, RoleKind
from domain.scope import descendants, project_scope

REGIONS = [
    Region(1, "61", "陕西省", RegionLevel.PROVINCE, None),
    Region(2, "6109", "安康市", RegionLevel.CITY, 1),
    Region(3, "610902", "汉滨区", RegionLevel.COUNTY, 2),
    Region(4, "610902001", "江北街道", RegionLevel.TOWN, 3),
    Region(5, "610981", "旬阳市", RegionLevel.COUNTY, 2),
]


def person(*roles: Role) -> Person:
    return Person(7, "k", "某人", "", None, None, roles)


def test_descendants_include_the_root_and_everything_below() -> None:
    assert descendants([2], REGIONS) == {2, 3, 4, 5}
    assert descendants([3], REGIONS) == {3, 4}
    assert descendants([], REGIONS) == frozenset()


def test_region_wide_roles_see_their_subtree_liaisons_do_not() -> None:
    viewer = project_scope(person(Role(RoleKind.VIEWER, 2, None)), REGIONS)
    liaison = project_scope(person(Role(RoleKind.LIAISON, 3, None)), REGIONS)
    unit = project_scope(person(Role(RoleKind.UNIT, None, 9)), REGIONS)
    assert viewer.region_ids == {2, 3, 4, 5}
    assert liaison.region_ids == frozenset() and liaison.person_id == 7
    assert unit.unit_ids == {9} and unit.region_ids == frozenset()


def test_a_cycle_in_the_region_tree_does_not_hang() -> None:
    looped = [Region(1, "a", "a", RegionLevel.CITY, 2), Region(2, "b", "b", RegionLevel.CITY, 1)]
    assert descendants([1], looped) == {1, 2}
