"""The problem closed loop in chat: filed → resolved with a photo → reopened → resolved →
closed (销号), each step in the history and the audit trail, and `/problems` listing it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.events import Outgoing
from domain.model import ProblemState
from handlers.router import Router
from storage import models as m
from tests.handlers.phone import Phone, row_counts
from tests.world import World


async def file_problem(liu: Phone, *, urgent: bool = False) -> None:
    """刘芳 (dispatcher) files a land problem on HB-003, assigned to 赵敏's farming unit."""
    await liu.say("/problem HB-003")
    await liu.press("用地")
    await liu.say("养殖场用地指标未落实")
    await liu.press("完成")
    await liu.press("是" if urgent else "否")
    assert "P-2026-0001" in await liu.press("确认提交")


async def resolve(zhao: Phone, photo: Path, note: str = "用地指标已调剂到位") -> str:
    await zhao.say("/update P-2026-0001")
    await zhao.press("已办结")
    await zhao.say(note)
    await zhao.photos(photo)
    await zhao.press("完成")
    return await zhao.press("确认提交")


async def problem_row(engine: AsyncEngine) -> m.Problem:
    async with engine.connect() as conn:
        return (await conn.execute(select(m.Problem))).one()  # type: ignore[return-value]


async def outbox_to(engine: AsyncEngine, recipient: int, kind: str) -> list[Outgoing]:
    async with engine.connect() as conn:
        rows = await conn.scalars(select(m.OutboxMessage.payload).where(
            m.OutboxMessage.recipient == f"person:{recipient}", m.OutboxMessage.kind == kind)
            .order_by(m.OutboxMessage.id))
        return [Outgoing.from_payload(p) for p in rows]


async def test_the_whole_loop_from_filing_to_closing(
        router: Router, people: World, engine: AsyncEngine, clock: FixedClock,
        photos: list[Path]) -> None:
    liu, zhao = Phone(router, "1003"), Phone(router, "1004")
    await file_problem(liu)
    assert "已报办结" in await resolve(zhao, photos[0])

    # The reporter is told, with the two decisions as buttons.
    told = await outbox_to(engine, people.dispatcher, "problem.resolved")
    assert [b.data for row in told[0].buttons for b in row] == [
        "/close P-2026-0001", "/reopen P-2026-0001"]

    # The unit cannot cross off its own work.
    before = await row_counts(engine)
    assert "只能由登记人或项目办" in await zhao.say("/close P-2026-0001")
    assert await row_counts(engine) == before

    # Not solved after all: back to the unit with a reason and a fresh deadline.
    clock.advance(timedelta(days=2))
    await liu.press_data(told[0].buttons[0][1].data)
    assert "为什么没有解决" in liu.text
    await liu.say("现场核实，指标文件未下达")
    assert "新的期限" in await liu.press("确认提交")
    problem = await problem_row(engine)
    assert problem.state is ProblemState.ASSIGNED
    assert problem.deadline == date(2026, 11, 24) + timedelta(days=7)
    assert problem.resolved_at is None
    reopened = await outbox_to(engine, people.unit_admin, "problem.reopened")
    assert "指标文件未下达" in reopened[0].text

    # Resolved again, then closed by the button; pressing it twice changes nothing.
    await resolve(zhao, photos[1], "指标文件已下达")
    assert "已销号" in await liu.press_data("/close P-2026-0001")
    problem = await problem_row(engine)
    assert problem.state is ProblemState.CLOSED and problem.closed_at is not None
    before = await row_counts(engine)
    assert "已经销号" in await liu.press_data("/close P-2026-0001")
    assert await row_counts(engine) == before
    assert len(await outbox_to(engine, people.unit_admin, "problem.closed")) == 1

    # Every step is in the history and the audit trail.
    detail = await liu.say("/problems P-2026-0001")
    steps = [line.split(" ", 2)[-1] for line in detail.splitlines() if line.startswith("· ")]
    assert [s.split("（")[0] for s in steps] == ["登记", "报办结", "重新交办", "报办结", "销号"]
    assert "现场核实，指标文件未下达" in detail
    async with engine.connect() as conn:
        audit = list(await conn.scalars(select(m.AuditEntry.action).where(
            m.AuditEntry.entity == "problem").order_by(m.AuditEntry.id)))
    assert audit == ["create", "resolved", "reopened", "resolved", "closed"]


async def test_only_a_resolved_problem_is_closed(router: Router, people: World,
                                                 engine: AsyncEngine) -> None:
    liu = Phone(router, "1003")
    await file_problem(liu)
    before = await row_counts(engine)
    assert "报办结后才能销号" in await liu.say("/close P-2026-0001")
    assert "还在办理中" in await liu.say("/reopen P-2026-0001")
    assert await row_counts(engine) == before


async def test_a_problem_out_of_scope_reads_as_missing(router: Router, people: World,
                                                       engine: AsyncEngine,
                                                       clock: FixedClock) -> None:
    await file_problem(Phone(router, "1003"))
    async with engine.begin() as conn:
        outsider = await conn.scalar(select(m.Person.id).where(m.Person.key == "liaison_xy"))
        await conn.execute(insert(m.ChatIdentity).values(
            channel="test", external_id="2001", person_id=outsider, created_at=clock.now()))
    sun = Phone(router, "2001")
    missing = await sun.say("/problems P-2026-9999")
    assert await sun.say("/problems P-2026-0001") == missing.replace("9999", "0001")
    assert "没有找到" in await sun.say("/close P-2026-0001")
    assert "（没有）" in await sun.say("/problems")


async def test_problems_lists_by_filter_with_the_figures(
        router: Router, people: World, engine: AsyncEngine, photos: list[Path]) -> None:
    liu, zhao, wang = Phone(router, "1003"), Phone(router, "1004"), Phone(router, "1001")
    await file_problem(liu)
    await wang.say("/problem 毛绒")
    await wang.press("征拆")
    await wang.say("北侧两户未签拆迁协议")
    await wang.press("完成")
    await wang.press("是")
    await wang.press("确认提交")
    await resolve(zhao, photos[0])

    everything = await liu.say("/problems")
    assert "未销号的问题 2 个" in everything
    assert "今年累计收集 2 个，已解决 1 个，解决率 50%" in everything
    assert "销号 P-2026-0001" in [b.label for b in liu.buttons]
    assert "P-2026-0001" not in await liu.say("/problems open")
    assert "P-2026-0002" in liu.text
    assert "P-2026-0002" in await wang.say("/problems mine")
    assert "P-2026-0001" not in wang.text
    assert "P-2026-0001" in await zhao.say("/problems unit")
    assert "P-2026-0002" not in zhao.text
    assert "/problems open" in await liu.say("/problems whatever")
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(m.Problem)) == 2
