"""The export an HQ office prints: the world's report, problem and letter of November, in
typed cells under a frozen header, and the month's ranking."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from domain.clock import FixedClock
from domain.model import LetterKind, ProblemCategory, SiteStatus
from domain.scope import descendants
from spreadsheets.exporter import export_workbook
from storage.repositories.problems import NewProblem
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWorkFactory
from tests.world import World


@pytest.fixture
async def november(uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> World:
    """A report of HB-001 and XY-001 on 20 November, a problem of HB-001 filed on the 10th,
    and a supervision letter to HB-001's unit issued on the 20th."""
    async with uow() as u:
        for code, progress in (("HB-001", "45.5"), ("XY-001", "10")):
            await u.reports.save(ReportInput(
                project_id=world.projects[code], report_date=date(2026, 11, 20),
                reporter_id=world.liaison, site_status=SiteStatus.WORKING,
                progress_pct=Decimal(progress), work_done="主体结构施工，完成三层楼板浇筑",
                workers=86, ytd_investment=Decimal("3000.25")), clock.now())
        await u.problems.open(NewProblem(
            project_id=world.projects["HB-001"], category=ProblemCategory.LAND,
            description="二期用地指标未落实", urgent=False, reporter_id=world.liaison,
            assignee_unit_id=world.unit_industry, deadline=date(2026, 11, 17)),
            clock.now() - timedelta(days=12), 2026)
        await u.letters.issue(
            kind=LetterKind.SUPERVISION, project_id=world.projects["HB-001"],
            cause="lag:2026-11-2", period="2026-11-2", region_id=world.hanbin,
            unit_id=world.unit_industry, leader_id=world.leader, body="", year=2026,
            now=clock.now() - timedelta(days=2))
        await u.commit()
    return world


async def hanbin_november(uow: UnitOfWorkFactory, clock: FixedClock, world: World,
                          language: str = "zh-CN") -> Any:
    async with uow() as u:
        regions = await u.places.regions()
    data = await export_workbook(uow, start=date(2026, 11, 1), end=date(2026, 11, 30),
                                 region_ids=descendants([world.hanbin], regions),
                                 language=language, clock=clock)
    return load_workbook(BytesIO(data))


def day(cell: Any) -> date:
    """A date cell's day (openpyxl reads dates as naive datetimes)."""
    assert cell.is_date
    found: date = cell.value.date()
    return found


async def test_reports_in_typed_cells_under_a_frozen_printed_header(
        uow: UnitOfWorkFactory, clock: FixedClock, november: World) -> None:
    book = await hanbin_november(uow, clock, november)
    assert book.sheetnames == ["日报", "问题", "函件", "排名"]
    sheet = book["日报"]
    assert sheet["A1"].value == "汉滨区重点项目日报（2026年11月1日至2026年11月30日）"
    assert [c.value for c in sheet[2]][:3] == ["日期", "项目编号", "项目名称"]
    assert sheet.freeze_panes == "A3"
    assert sheet.print_title_rows == "$1:$2"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.max_row == 3  # 旬阳市's report is not in 汉滨区's export
    row = {header.value: cell for header, cell in zip(sheet[2], sheet[3], strict=True)}
    assert day(row["日期"]) == date(2026, 11, 20)
    assert row["项目编号"].value == "HB-001"
    assert row["现场状态"].value == "施工中"
    assert row["形象进度"].value == pytest.approx(0.455)
    assert row["形象进度"].number_format == "0.0%"
    assert row["年度累计完成投资（万元）"].value == pytest.approx(3000.25)
    assert row["年度累计完成投资（万元）"].number_format == "#,##0.00"
    assert row["在岗人数"].value == 86


async def test_problems_with_state_level_deadline_and_days_open(
        uow: UnitOfWorkFactory, clock: FixedClock, november: World) -> None:
    sheet = (await hanbin_november(uow, clock, november))["问题"]
    row = {header.value: cell.value for header, cell in zip(sheet[2], sheet[3], strict=True)}
    assert row["问题编号"] == "P-2026-0001"
    assert (row["类别"], row["状态"], row["层级"]) == ("用地", "已交办", 1)
    assert row["登记日期"].date() == date(2026, 11, 10)
    assert row["办理期限"].date() == date(2026, 11, 17)
    assert row["已用天数"] == 12
    assert row["逾期"] == "是"
    assert row["责任单位"] == "汉滨区工信局"


async def test_letters_with_number_unit_issued_and_signature(
        uow: UnitOfWorkFactory, clock: FixedClock, november: World) -> None:
    sheet = (await hanbin_november(uow, clock, november))["函件"]
    row = {header.value: cell for header, cell in zip(sheet[2], sheet[3], strict=True)}
    assert row["文号"].value == "督办函〔2026〕第1号"
    assert row["责任单位"].value == "汉滨区工信局"
    assert day(row["发函日期"]) == date(2026, 11, 20)
    assert row["签收日期"].value is None
    assert row["状态"].value == "待签收"


async def test_the_ranking_is_the_monthly_review_s(uow: UnitOfWorkFactory, clock: FixedClock,
                                                   november: World) -> None:
    sheet = (await hanbin_november(uow, clock, november))["排名"]
    assert sheet["A1"].value == "汉滨区投资完成率和开工率排名（截至2026年11月22日）"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert rows[0][1] == "按责任单位"
    first = rows[1]
    assert first[:3] == [1, "汉滨区工信局", 2]
    assert (first[3], first[4]) == (12000, pytest.approx(3000.25))
    assert first[5] == pytest.approx(0.25)  # 3000.25 of 12000 (rounded to 0.1 %)
    assert rows[2][1] == "汉滨区农业农村局" and rows[2][5] is None


async def test_an_empty_range_and_english(uow: UnitOfWorkFactory, clock: FixedClock,
                                          world: World) -> None:
    data = await export_workbook(uow, start=date(2026, 1, 1), end=date(2026, 1, 31),
                                 region_ids=None, language="en", clock=clock)
    book = load_workbook(BytesIO(data))
    assert book.sheetnames == ["Reports", "Problems", "Letters", "Ranking"]
    assert book["Reports"]["A1"].value == (
        "All regions: daily reports, Jan 1, 2026 to Jan 31, 2026")
    assert book["Reports"]["A3"].value == "(none)"
    assert book["Ranking"]["B3"].value == "By county"
