from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.model import ProblemCategory, SiteStatus
from domain.scope import project_scope
from storage import models as m
from storage.repositories.outbox import NewMessage
from storage.repositories.problems import NewProblem
from storage.repositories.receipts import Receipt
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWorkFactory
from tests.world import World


async def count(engine: AsyncEngine, model: type[m.Base]) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


async def test_unit_of_work_rolls_back_unless_committed(uow: UnitOfWorkFactory,
                                                        clock: FixedClock) -> None:
    async with uow() as u:
        await u.people.add("ghost", "无名", clock.now())
    async with uow() as u:
        assert await u.people.find("ghost") == []
        await u.people.add("kept", "留存", clock.now())
        await u.commit()
    async with uow() as u:
        assert [p.name for p in await u.people.find("kept")] == ["留存"]


async def test_unit_of_work_rolls_back_on_error(uow: UnitOfWorkFactory, clock: FixedClock,
                                                engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        async with uow() as u:
            await u.people.add("half", "一半", clock.now())
            raise RuntimeError("handler failed")
    assert await count(engine, m.Person) == 0


async def test_identity_finds_its_person_and_is_unique(uow: UnitOfWorkFactory, world: World,
                                                       clock: FixedClock) -> None:
    async with uow() as u:
        await u.people.bind_identity(world.liaison, "telegram", "777", clock.now())
        await u.commit()
    async with uow() as u:
        person = await u.people.by_identity("telegram", "777")
        assert person is not None and person.name == "王磊"
        assert [r.kind.value for r in person.roles] == ["liaison"]
        assert await u.people.by_identity("telegram", "778") is None
        assert await u.people.by_identity("wecom", "777") is None
    with pytest.raises(IntegrityError):
        async with uow() as u:
            await u.people.bind_identity(world.leader, "telegram", "777", clock.now())


@pytest.mark.parametrize(("who", "expected"), [
    ("liaison", {"HB-001", "HB-002"}),
    ("leader", {"HB-001", "HB-002", "HB-003"}),
    ("dispatcher", {"HB-001", "HB-002", "HB-003"}),
    ("viewer", {"HB-001", "HB-002", "HB-003", "XY-001"}),
    ("unit_admin", {"HB-003"}),
    ("outsider_liaison", {"XY-001"}),
])
async def test_each_role_sees_its_scope(uow: UnitOfWorkFactory, world: World, who: str,
                                        expected: set[str]) -> None:
    async with uow() as u:
        person = await u.people.get(getattr(world, who))
        assert person is not None
        scope = project_scope(person, await u.places.regions())
        seen = await u.projects.visible(scope, 2026)
    assert {p.code for p in seen} == expected


async def test_project_summary_carries_plan_aliases_and_people(uow: UnitOfWorkFactory,
                                                               world: World) -> None:
    async with uow() as u:
        [summary] = await u.projects.by_ids([world.projects["HB-001"]], 2026)
        [other_year] = await u.projects.by_ids([world.projects["HB-001"]], 2025)
    assert summary.annual_plan == Decimal(12000)
    assert other_year.annual_plan is None
    assert summary.aliases == ("毛绒园", "毛绒文创产业园")
    assert summary.lead_leader_name == "张建华"
    assert summary.liaison_names == ("王磊",)
    assert summary.total_investment == Decimal(36000)


def report(world: World, day: date, progress: str, ytd: str | None = "1234.56") -> ReportInput:
    return ReportInput(
        project_id=world.projects["HB-001"], report_date=day, reporter_id=world.liaison,
        site_status=SiteStatus.WORKING, progress_pct=Decimal(progress), work_done="钢结构吊装",
        workers=120, ytd_investment=None if ytd is None else Decimal(ytd))


async def test_second_report_same_day_amends_and_keeps_the_first(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock, engine: AsyncEngine) -> None:
    day = date(2026, 11, 22)
    async with uow() as u:
        first_id, v1 = await u.reports.save(report(world, day, "35.5"), clock.now())
        await u.commit()
    clock.advance(timedelta(hours=2))
    async with uow() as u:
        second_id, v2 = await u.reports.save(report(world, day, "36"), clock.now())
        await u.commit()
    assert (first_id, v1, v2) == (second_id, 1, 2)
    async with uow() as u:
        latest = await u.reports.latest([world.projects["HB-001"]])
        versions = await u.reports.versions(first_id)
        history = await u.audit.history("daily_report", first_id)
    assert latest[world.projects["HB-001"]].progress_pct == Decimal(36)
    assert latest[world.projects["HB-001"]].version == 2
    assert [v["progress_pct"] for v in versions] == ["35.5", "36"]
    assert [action for action, _, _ in history] == ["create", "amend"]
    assert history[1][1] is not None and history[1][1]["progress_pct"] == "35.5"
    assert await count(engine, m.DailyReport) == 1


async def test_latest_report_is_the_newest_day(uow: UnitOfWorkFactory, world: World,
                                               clock: FixedClock) -> None:
    async with uow() as u:
        await u.reports.save(report(world, date(2026, 11, 21), "40"), clock.now())
        await u.reports.save(report(world, date(2026, 11, 19), "38"), clock.now())
        await u.commit()
    async with uow() as u:
        latest = await u.reports.latest(list(world.projects.values()))
    assert set(latest) == {world.projects["HB-001"]}
    assert latest[world.projects["HB-001"]].report_date == date(2026, 11, 21)


@pytest.mark.parametrize("amount", ["3500.25", "0.0001", "12345678.9999", "1E+3"])
async def test_money_is_exact(uow: UnitOfWorkFactory, world: World, clock: FixedClock,
                              amount: str) -> None:
    async with uow() as u:
        await u.reports.save(report(world, date(2026, 11, 22), "1", amount), clock.now())
        await u.commit()
    async with uow() as u:
        got = (await u.reports.latest([world.projects["HB-001"]]))[world.projects["HB-001"]]
    assert got.ytd_investment == Decimal(amount)


async def test_money_finer_than_a_yuan_is_refused(uow: UnitOfWorkFactory, world: World,
                                                  clock: FixedClock, engine: AsyncEngine) -> None:
    with pytest.raises(Exception, match="decimal places"):
        async with uow() as u:
            await u.reports.save(report(world, date(2026, 11, 22), "1", "0.00001"), clock.now())
            await u.commit()
    assert await count(engine, m.DailyReport) == 0


async def test_times_come_back_aware_and_equal(uow: UnitOfWorkFactory, world: World,
                                               clock: FixedClock) -> None:
    async with uow() as u:
        await u.reports.save(report(world, date(2026, 11, 22), "1"), clock.now())
        await u.commit()
    async with uow() as u:
        got = (await u.reports.latest([world.projects["HB-001"]]))[world.projects["HB-001"]]
    assert got.submitted_at.tzinfo is not None
    assert got.submitted_at == clock.now()


def problem(world: World, text: str) -> NewProblem:
    return NewProblem(project_id=world.projects["HB-001"], category=ProblemCategory.LAND,
                      description=text, urgent=False, reporter_id=world.liaison,
                      assignee_unit_id=world.unit_industry, deadline=date(2026, 11, 29))


async def test_problem_numbers_are_unique_under_concurrent_submissions(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    async def submit(i: int) -> str:
        async with uow() as u:
            filed = await u.problems.open(problem(world, f"问题{i}"), clock.now(), 2026)
            await u.commit()
            return filed.number

    numbers = await asyncio.gather(*(submit(i) for i in range(12)))
    assert sorted(numbers) == [f"P-2026-{i:04d}" for i in range(1, 13)]
    async with uow() as u:
        next_year = await u.problems.open(problem(world, "新年"), clock.now(), 2027)
    assert next_year.number == "P-2027-0001"


async def test_outbox_key_is_written_once(uow: UnitOfWorkFactory, world: World,
                                          clock: FixedClock) -> None:
    key: dict[str, Any] = {"kind": "daily_reminder", "period": "2026-11-22T16",
                           "recipient": f"person:{world.liaison}"}
    async with uow() as u:
        assert await u.outbox.enqueue(**key, payload={"text": "请填报"}, now=clock.now())
        assert not await u.outbox.enqueue(**key, payload={"text": "again"}, now=clock.now())
        await u.commit()
    async with uow() as u:
        assert not await u.outbox.enqueue(**key, payload={"text": "restart"}, now=clock.now())
        assert await u.outbox.enqueue(**key | {"period": "2026-11-22T19"},
                                      payload={"text": "19点"}, now=clock.now())
        await u.commit()
    async with uow() as u:
        assert await u.outbox.pending_count() == 2


async def test_visit_shown_is_the_latest_by_date(uow: UnitOfWorkFactory, world: World,
                                                 clock: FixedClock) -> None:
    project = world.projects["HB-001"]
    async with uow() as u:
        await u.visits.add(project, world.leader, date(2026, 11, 20), "较新", clock.now())
        await u.visits.add(project, world.leader, date(2026, 11, 5), "补录的旧走访", clock.now())
        await u.commit()
    async with uow() as u:
        latest = await u.visits.latest([project])
    assert latest[project].notes == "较新"


async def test_foreign_keys_are_enforced(uow: UnitOfWorkFactory, clock: FixedClock) -> None:
    with pytest.raises(IntegrityError):
        async with uow() as u:
            await u.people.bind_identity(9999, "telegram", "1", clock.now())


async def test_an_invite_binds_one_account_even_when_two_race(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    async with uow() as u:
        invite = await u.invites.create(world.viewer, created_by_id=None, now=clock.now(),
                                        expires_at=clock.now() + timedelta(days=1))
        await u.commit()

    async def redeem(account: str) -> object:
        async with uow() as u:
            result = await u.invites.redeem(invite.code, channel="telegram",
                                            external_id=account, display_name=None,
                                            now=clock.now())
            await u.commit()
            return result

    results = await asyncio.gather(redeem("a"), redeem("b"), return_exceptions=True)
    winners = [r for r in results if r == world.viewer]
    assert len(winners) == 1, results
    async with uow() as u:
        bound = [await u.people.by_identity("telegram", a) for a in ("a", "b")]
    assert sum(p is not None for p in bound) == 1


async def test_receipts_and_outbox_claims(uow: UnitOfWorkFactory, world: World,
                                          clock: FixedClock) -> None:
    receipt = Receipt("telegram", ("41", "42"), clock.now())
    async with uow.receipted(receipt)() as u:
        await u.commit()
    assert receipt.recorded
    async with uow() as u:
        assert await u.receipts.seen("telegram", ["42"])
        assert not await u.receipts.seen("wecom", ["42"])
        await u.outbox.enqueue(kind="k", period="p", recipient="person:1", payload={"text": "x"},
                               now=clock.now())
        item = (await u.outbox.due(clock.now(), limit=5))[0]
        assert await u.outbox.claim([item.id], lease_until=clock.now()) == {item.id}
        assert await u.outbox.claim([item.id], lease_until=clock.now()) == set()  # taken
        await u.commit()
    async with uow() as u:
        assert await u.receipts.prune(clock.now() + timedelta(seconds=1)) == 2
        assert await u.outbox.recover(clock.now(), all_claims=False) == 1
        await u.commit()


async def test_two_reports_of_one_project_at_once_both_land(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    """Two liaisons confirm the same project's report in the same instant (SQLite included)."""

    async def submit(progress: str) -> int:
        async with uow() as u:
            _, version = await u.reports.save(ReportInput(
                project_id=world.projects["HB-001"], report_date=date(2026, 11, 22),
                reporter_id=world.liaison, site_status=SiteStatus.WORKING,
                progress_pct=Decimal(progress), work_done="吊装", workers=10,
                ytd_investment=None), clock.now())
            await u.commit()
            return version

    versions = await asyncio.gather(submit("40"), submit("41"))
    assert sorted(versions) == [1, 2]


async def test_outbox_batches_write_each_key_once(uow: UnitOfWorkFactory, world: World,
                                                  clock: FixedClock) -> None:
    """A rhythm's thousand messages go in a few statements; a key repeated in the batch or
    written before is not written again, and a held-back message keeps its time."""
    later = clock.now() + timedelta(hours=9)
    batch = [NewMessage(kind="letter", period=str(n), recipient=f"person:{world.liaison}",
                        payload={"text": f"函 {n}"}, not_before=later if n == 7 else None)
             for n in range(1000)]
    async with uow() as u:
        assert await u.outbox.enqueue(kind="letter", period="3", recipient=batch[3].recipient,
                                      payload={"text": "written before"}, now=clock.now())
        await u.commit()
    async with uow() as u:
        assert await u.outbox.enqueue_many([*batch, batch[5]], now=clock.now()) == 999
        await u.commit()
    async with uow() as u:
        assert await u.outbox.pending_count() == 1000
        due = await u.outbox.due(clock.now(), limit=2000)
        assert await u.outbox.next_due_at() == clock.now()
    assert len(due) == 999  # the held-back one waits
    assert {item.payload["text"] for item in due if item.kind == "letter"} >= {"written before",
                                                                              "函 999"}
    assert "函 7" not in {item.payload["text"] for item in due}


async def test_a_commit_that_queued_messages_wakes_the_sender_and_no_other_does(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    """The sender looks at once after a change that queued messages, not after every event."""
    woken: list[str] = []
    uow.queued.listener = lambda: woken.append("now")
    key: dict[str, Any] = {"kind": "k", "period": "p", "recipient": f"person:{world.liaison}"}
    async with uow() as u:  # a change that queues nothing
        await u.people.set_reachable(world.liaison, True)
        await u.commit()
    async with uow() as u:  # queued, then rolled back
        await u.outbox.enqueue(**key, payload={"text": "x"}, now=clock.now())
    assert woken == []
    async with uow() as u:
        await u.outbox.enqueue(**key, payload={"text": "x"}, now=clock.now())
        await u.commit()
    assert woken == ["now"]
    async with uow() as u:  # the same key again: nothing new, nobody woken
        await u.outbox.enqueue(**key, payload={"text": "again"}, now=clock.now())
        await u.commit()
    assert woken == ["now"]
