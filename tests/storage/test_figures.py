"""A project's figures as the rhythms read them: the last report up to the day, the reports of
the window and the year's last investment figure, whatever the reports' shape."""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal

import pytest
from sqlalchemy import text

from domain.clock import FixedClock
from domain.model import SiteStatus
from storage import models as m
from storage.uow import UnitOfWorkFactory
from tests.world import World

AS_OF = date(2026, 11, 20)
SINCE = date(2026, 11, 11)


async def reports(uow: UnitOfWorkFactory, world: World, clock: FixedClock,
                  rows: list[tuple[str, date, str, Decimal | None]]) -> None:
    """(project code, day, progress %, year-to-date investment) per report."""
    now = clock.now().astimezone(UTC)
    async with uow() as u:
        for code, day, progress, ytd in rows:
            u.session.add(m.DailyReport(
                project_id=world.projects[code], report_date=day, reporter_id=world.liaison,
                site_status=SiteStatus.WORKING if ytd else SiteStatus.STOPPED,
                progress_pct=Decimal(progress), ytd_investment=ytd, created_at=now,
                updated_at=now))
        await u.commit()


async def test_figures_of_every_shape_of_reports(uow: UnitOfWorkFactory, world: World,
                                                  clock: FixedClock) -> None:
    await reports(uow, world, clock, [
        # the last report has no investment figure: the year's last one that has counts
        ("HB-001", date(2026, 3, 2), "10.0", Decimal("1200.5")),
        ("HB-001", date(2026, 11, 12), "40.5", Decimal("5300.25")),
        ("HB-001", date(2026, 11, 19), "41.0", None),
        ("HB-001", date(2026, 11, 21), "42.0", Decimal(9999)),  # after the day: not seen
        # reports only before the window, the last of them from last year
        ("HB-002", date(2025, 12, 30), "5.0", Decimal(800)),
        ("HB-002", date(2025, 12, 31), "6.0", None),
        # HB-003 never reported; XY-001 reported on the day, with its figure
        ("XY-001", date(2026, 11, 11), "70.0", Decimal(300)),
        ("XY-001", date(2026, 11, 20), "71.5", Decimal("350.75")),
    ])
    async with uow() as u:
        figures = {f.code: f for f in await u.figures.projects(AS_OF, since=SINCE)}
    assert list(figures) == ["HB-001", "HB-002", "HB-003", "XY-001"]
    seen = {code: (f.last_report, f.progress_pct, f.site_status, f.ytd_investment,
                   f.reported_days) for code, f in figures.items()}
    assert seen == {
        "HB-001": (date(2026, 11, 19), Decimal("41.0"), SiteStatus.STOPPED,
                   Decimal("5300.25"), 2),
        "HB-002": (date(2025, 12, 31), Decimal("6.0"), SiteStatus.STOPPED, None, 0),
        "HB-003": (None, None, None, None, 0),
        "XY-001": (date(2026, 11, 20), Decimal("71.5"), SiteStatus.WORKING,
                   Decimal("350.75"), 2),
    }
    hb1 = figures["HB-001"]
    assert (hb1.annual_plan, hb1.shares, hb1.unit_name) == (
        Decimal(12000), (20, 50, 80, 100), "汉滨区工信局")


async def test_figures_of_a_day_before_the_year_ignore_later_figures(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    await reports(uow, world, clock, [
        ("HB-001", date(2025, 12, 30), "5.0", Decimal(800)),
        ("HB-001", date(2026, 1, 2), "6.0", Decimal(900)),
    ])
    async with uow() as u:
        figures = {f.code: f for f in await u.figures.projects(date(2026, 1, 1),
                                                                since=date(2026, 1, 1))}
    hb1 = figures["HB-001"]
    assert (hb1.last_report, hb1.ytd_investment, hb1.reported_days, hb1.annual_plan) == (
        date(2025, 12, 30), None, 0, Decimal(12000))


async def test_postgresql_connections_run_without_jit(uow: UnitOfWorkFactory) -> None:
    """Compiling the figures query to machine code cost up to 400 ms and saved nothing."""
    async with uow() as u:
        if u.session.get_bind().dialect.name != "postgresql":
            pytest.skip("only PostgreSQL compiles queries (JIT)")
        assert await u.session.scalar(text("SHOW jit")) == "off"
