"""The three letters in storage: numbering, once per cause, signing, closing, scope."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.clock import FixedClock
from domain.model import LetterKind
from domain.scope import ProjectScope, project_scope
from storage.repositories.letters import LetterView, NewLetter, counter_name
from storage.uow import UnitOfWork, UnitOfWorkFactory
from tests.world import World


async def issue(u: UnitOfWork, world: World, clock: FixedClock, code: str, *,
                kind: LetterKind = LetterKind.SUPERVISION, cause: str = "lag:2026-11-2",
                year: int = 2026) -> LetterView | None:
    region = world.xunyang if code.startswith("XY") else world.hanbin
    site = await u.projects.site(world.projects[code])
    assert site is not None
    return await u.letters.issue(
        kind=kind, project_id=site.id, cause=cause, period="2026-11-2", region_id=region,
        unit_id=site.unit_id, leader_id=site.lead_leader_id, body="完成率落后计划 25 个百分点。",
        year=year, now=clock.now())


async def test_letters_are_numbered_per_region_and_year(uow: UnitOfWorkFactory, world: World,
                                                        clock: FixedClock) -> None:
    async with uow() as u:
        first = await issue(u, world, clock, "HB-001")
        second = await issue(u, world, clock, "HB-002")
        other_county = await issue(u, world, clock, "XY-001")
        next_year = await issue(u, world, clock, "HB-003", year=2027)
        await u.commit()
    assert first is not None and second is not None
    assert other_county is not None and next_year is not None
    assert (first.year, first.seq) == (2026, 1)
    assert (second.year, second.seq) == (2026, 2)
    assert (other_county.year, other_county.seq) == (2026, 1)
    assert (next_year.year, next_year.seq) == (2027, 1)
    assert first.project_code == "HB-001" and first.unit_name == "汉滨区工信局"
    assert first.leader_id == world.leader and first.acknowledged_at is None
    async with uow() as u:
        history = await u.audit.history("letter", first.id)
    assert [action for action, _, _ in history] == ["issued"]


async def test_the_same_cause_is_issued_once_and_takes_no_number(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    async with uow() as u:
        assert await issue(u, world, clock, "HB-001") is not None
        await u.commit()
    async with uow() as u:
        assert await issue(u, world, clock, "HB-001") is None
        another_kind = await issue(u, world, clock, "HB-001", kind=LetterKind.ASSIGNMENT)
        await u.commit()
    assert another_kind is not None and another_kind.seq == 2
    async with uow() as u:
        assert await issue(u, world, clock, "HB-001", kind=LetterKind.ASSIGNMENT) is None
        assert await u.counters.next(counter_name(world.hanbin), 2026) == 3


async def test_acknowledge_is_once_only(uow: UnitOfWorkFactory, world: World,
                                        clock: FixedClock) -> None:
    async with uow() as u:
        letter = await issue(u, world, clock, "HB-003")
        await u.commit()
    assert letter is not None
    signed_at = clock.now() + timedelta(hours=2)
    async with uow() as u:
        assert await u.letters.acknowledge(letter.id, person_id=world.unit_admin, now=signed_at)
        await u.commit()
    async with uow() as u:
        assert not await u.letters.acknowledge(letter.id, person_id=world.dispatcher,
                                               now=signed_at + timedelta(days=1))
        assert not await u.letters.acknowledge(99999, person_id=world.unit_admin, now=signed_at)
        await u.commit()
    async with uow() as u:
        again = await u.letters.get(letter.id)
        assert await u.letters.of_unit(world.unit_farming) == []
        assert len(await u.letters.of_unit(world.unit_farming, unacknowledged_only=False)) == 1
        history = await u.audit.history("letter", letter.id)
    assert again is not None
    assert again.acknowledged_at == signed_at and again.acknowledged_by_name == "赵敏"
    assert [action for action, _, _ in history] == ["issued", "acknowledged"]


async def test_supervision_stays_open_until_closed(uow: UnitOfWorkFactory, world: World,
                                                   clock: FixedClock) -> None:
    hb1, hb2 = world.projects["HB-001"], world.projects["HB-002"]
    async with uow() as u:
        supervision = await issue(u, world, clock, "HB-001")
        await issue(u, world, clock, "HB-002", kind=LetterKind.REMINDER, cause="start_soon")
        await u.commit()
    assert supervision is not None
    async with uow() as u:
        assert await u.letters.open_supervision() == {hb1}
        assert await u.letters.open_supervision([hb2]) == set()
        assert await u.letters.open_supervision([]) == set()
        await u.letters.close(supervision.id, now=clock.now())
        await u.letters.close(supervision.id, now=clock.now() + timedelta(days=1))
        await u.commit()
    async with uow() as u:
        assert await u.letters.open_supervision([hb1, hb2]) == set()
        closed = await u.letters.get(supervision.id)
        history = await u.audit.history("letter", supervision.id)
    assert closed is not None and closed.closed_at == clock.now()
    assert [action for action, _, _ in history] == ["issued", "closed"]


async def test_counts_by_kind_since(uow: UnitOfWorkFactory, world: World,
                                    clock: FixedClock) -> None:
    async with uow() as u:
        await issue(u, world, clock, "HB-001")
        clock.advance(timedelta(days=10))
        await issue(u, world, clock, "HB-002")
        await issue(u, world, clock, "HB-003", kind=LetterKind.REMINDER, cause="start_soon")
        await u.commit()
        counts = await u.letters.counts(since=clock.now() - timedelta(days=1))
    assert counts == {LetterKind.SUPERVISION: 1, LetterKind.REMINDER: 1,
                      LetterKind.ASSIGNMENT: 0}


async def test_each_person_sees_the_letters_of_their_scope(uow: UnitOfWorkFactory,
                                                          world: World,
                                                          clock: FixedClock) -> None:
    issued: dict[str, int] = {}
    async with uow() as u:
        for code in ("HB-001", "HB-002", "HB-003", "XY-001"):
            clock.advance(timedelta(minutes=1))
            letter = await issue(u, world, clock, code)
            assert letter is not None
            issued[code] = letter.id
        await u.commit()

    async def seen(person_id: int, *, unacknowledged_only: bool = False) -> list[str]:
        async with uow() as u:
            scope = await scope_of(u, person_id)
            letters = await u.letters.visible(scope, unacknowledged_only=unacknowledged_only)
        return [v.project_code for v in letters]

    assert await seen(world.liaison) == ["HB-002", "HB-001"]
    assert await seen(world.leader) == ["HB-003", "HB-002", "HB-001"]
    assert await seen(world.unit_admin) == ["HB-003"]
    assert await seen(world.outsider_liaison) == ["XY-001"]
    assert await seen(world.viewer) == ["XY-001", "HB-003", "HB-002", "HB-001"]
    async with uow() as u:
        await u.letters.acknowledge(issued["HB-003"], person_id=world.unit_admin,
                                    now=clock.now())
        await u.commit()
    assert await seen(world.leader, unacknowledged_only=True) == ["HB-002", "HB-001"]
    async with uow() as u:
        outsider = await scope_of(u, world.outsider_liaison)
        assert await u.letters.get(issued["HB-003"], scope=outsider) is None
        assert await u.letters.get(issued["XY-001"], scope=outsider) is not None
        assert await u.letters.get(issued["HB-003"]) is not None
        assert await u.letters.get(99999) is None


async def test_visible_stops_at_the_limit(uow: UnitOfWorkFactory, world: World,
                                          clock: FixedClock) -> None:
    async with uow() as u:
        for i in range(3):
            clock.advance(timedelta(minutes=1))
            await issue(u, world, clock, "HB-001", cause=f"lag:{i}")
        await u.commit()
        scope = await scope_of(u, world.liaison)
        latest = await u.letters.visible(scope, limit=2)
    assert [v.cause for v in latest] == ["lag:2", "lag:1"]


async def scope_of(u: UnitOfWork, person_id: int) -> ProjectScope:
    person = await u.people.get(person_id)
    assert person is not None
    return project_scope(person, await u.places.regions())


async def test_a_batch_numbers_each_region_in_order_and_skips_known_causes(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    """A ten-day check issues its letters as one batch: the numbers run on from the region's
    last one without gaps, a cause issued before (or twice in the batch) is left out, and each
    letter stored has its audit entry."""
    async with uow() as u:
        assert await issue(u, world, clock, "HB-001") is not None  # 〔2026〕第1号 in 汉滨
        await u.commit()

    async with uow() as u:
        units = {code: site.unit_id for code, pid in world.projects.items()
                 if (site := await u.projects.site(pid)) is not None}

    def letter(code: str, cause: str = "lag:2026-11-2") -> NewLetter:
        region = world.xunyang if code.startswith("XY") else world.hanbin
        return NewLetter(kind=LetterKind.SUPERVISION, project_id=world.projects[code],
                         cause=cause, period="2026-11-2", region_id=region,
                         unit_id=units[code], leader_id=None, body="落后")

    batch = [letter("HB-001"), letter("HB-002"), letter("XY-001"), letter("HB-003"),
             letter("HB-002"), letter("HB-001", cause="silent:2026-11-2")]
    async with uow() as u:
        issued = await u.letters.issue_many(batch, year=2026, now=clock.now())
        await u.commit()
    assert [(lt.project_code, lt.cause, lt.seq) for lt in issued] == [
        ("HB-002", "lag:2026-11-2", 2), ("XY-001", "lag:2026-11-2", 1),
        ("HB-003", "lag:2026-11-2", 3), ("HB-001", "silent:2026-11-2", 4)]
    async with uow() as u:
        assert await u.counters.next(counter_name(world.hanbin), 2026) == 5
        assert await u.counters.next(counter_name(world.xunyang), 2026) == 2
        for lt in issued:
            history = await u.audit.history("letter", lt.id)
            assert [(action, after and after["seq"]) for action, _, after in history] == [
                ("issued", lt.seq)]
        assert await u.letters.issue_many(batch, year=2026, now=clock.now()) == []


async def test_caught_up_projects_have_their_supervision_letters_closed_at_once(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    async with uow() as u:
        first = await issue(u, world, clock, "HB-001")
        second = await issue(u, world, clock, "HB-002")
        reminder = await issue(u, world, clock, "HB-002", kind=LetterKind.REMINDER)
        await u.commit()
    assert first is not None and second is not None and reminder is not None
    later = clock.now() + timedelta(days=10)
    async with uow() as u:
        assert await u.letters.close_supervision(
            [world.projects["HB-001"], world.projects["HB-002"]], now=later) == 2
        assert await u.letters.close_supervision([world.projects["HB-001"]], now=later) == 0
        assert await u.letters.open_supervision() == set()
        kept = await u.letters.get(reminder.id)
        closed = await u.letters.get(first.id)
        history = await u.audit.history("letter", second.id)
        await u.commit()
    assert kept is not None and kept.closed_at is None  # a reminder letter is not supervision
    assert closed is not None and closed.closed_at == later
    assert [action for action, _, _ in history] == ["issued", "closed"]


async def test_counters_are_taken_for_many_names_in_one_go(uow: UnitOfWorkFactory) -> None:
    async with uow() as u:
        assert await u.counters.take("letter:1", 2026, 2) == range(1, 3)
        assert await u.counters.take_many({"letter:2": 3, "letter:1": 2, "letter:10": 1},
                                          2026) == {
            "letter:1": range(3, 5), "letter:2": range(1, 4), "letter:10": range(1, 2)}
        assert await u.counters.take_many({}, 2026) == {}
        assert await u.counters.next("letter:2", 2026) == 4
        assert await u.counters.next("letter:2", 2027) == 1
        with pytest.raises(ValueError, match="at least one"):
            await u.counters.take_many({"letter:1": 0}, 2026)
