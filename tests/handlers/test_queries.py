"""`/overdue`, `/ranking` and `/digest`: what a leader or the HQ office asks by message, scoped
to what the asker may see."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.model import SiteStatus
from handlers.router import Router
from storage import models as m
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWorkFactory
from tests.conftest import ZONE
from tests.handlers.phone import Phone
from tests.world import World


async def reported(uow: UnitOfWorkFactory, world: World, code: str, day: date,
                   ytd: Decimal | None = None) -> None:
    async with uow() as u:
        await u.reports.save(ReportInput(world.projects[code], day, world.liaison,
                                         SiteStatus.WORKING, Decimal(40), "主体施工", 30,
                                         ytd_investment=ytd),
                             datetime(day.year, day.month, day.day, 9, tzinfo=ZONE))
        await u.commit()


async def test_overdue_lists_who_has_not_reported_today_in_scope(
        router: Router, people: World, uow: UnitOfWorkFactory, clock: FixedClock) -> None:
    await reported(uow, people, "HB-002", date(2026, 11, 22))
    await reported(uow, people, "HB-001", date(2026, 11, 20))
    liu, wang = Phone(router, "1003"), Phone(router, "1001")
    text = await liu.say("/overdue")
    assert "还没报日报的项目 2/3 个" in text
    assert "HB-001" in text and "王磊" in text and "上次 11月20日" in text
    assert "HB-003" in text and "从未报过" in text
    assert "HB-002" not in text and "XY-001" not in text
    assert "还没报日报的项目 1/2 个" in await wang.say("/overdue")

    await reported(uow, people, "HB-001", date(2026, 11, 22))
    assert "应报的 2 个项目都已报日报" in await wang.say("/overdue")


async def test_overdue_knows_rest_days(router: Router, people: World, engine: AsyncEngine,
                                       clock: FixedClock) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(m.Project).values(works_rest_days=False))
    clock.set(datetime(2026, 10, 3, 18, tzinfo=ZONE))  # National Day
    assert "都不需要报日报" in await Phone(router, "1003").say("/overdue")
    clock.set(datetime(2026, 10, 10, 18, tzinfo=ZONE))  # the adjusted working Saturday
    assert "还没报日报的项目 3/3 个" in await Phone(router, "1003").say("/overdue")


async def test_ranking_and_digest_are_scoped(router: Router, people: World,
                                             uow: UnitOfWorkFactory) -> None:
    await reported(uow, people, "HB-001", date(2026, 11, 22), ytd=Decimal(9000))
    liu = Phone(router, "1003")
    ranking = await liu.say("/ranking")
    assert "2026年11月重点项目推进排名" in ranking
    assert "汉滨区工信局：75%" in ranking
    assert "旬阳" not in ranking
    assert "2026年第4季度考评" in await liu.say("/ranking quarter")
    assert "/ranking quarter" in await liu.say("/ranking year")

    digest = await liu.say("/digest")
    assert "应报 3 个，已报 1 个" in digest
    assert "问题清单（今年）" in digest and "今年累计收集 0 个" in digest
    assert "应报 2 个，已报 1 个" in await Phone(router, "1001").say("/digest")
