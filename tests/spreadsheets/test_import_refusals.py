"""Every way a county's file goes wrong: each refused with the cell and the reason, and nothing
imported."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from domain.clock import FixedClock
from spreadsheets.importer import ImportResult, import_workbook
from spreadsheets.package import MB, Limits
from storage import models as m
from storage.uow import UnitOfWorkFactory
from tests.spreadsheets.books import edit, filled, rewrite_part, save, with_formula
from tests.spreadsheets.test_import import CHEN, SILK, TEA
from tests.world import World

NOT_A_DATE = "不是日期：请用日期单元格，或写成 2026-03-01、2026/3/1、2026年3月1日（要有年份）"


async def run(uow: UnitOfWorkFactory, clock: FixedClock, data: bytes | Path,
              **options: Any) -> ImportResult:
    return await import_workbook(uow, data, clock=clock, language="zh-CN", **options)


async def counts(uow: UnitOfWorkFactory) -> tuple[int, int]:
    async with uow() as u:
        return await u.projects.count(), await u.people.count()


def problems(result: ImportResult) -> list[tuple[str, str]]:
    return [(e.ref, e.message) for e in result.errors]


async def refused(uow: UnitOfWorkFactory, clock: FixedClock, data: bytes | Path,
                  **options: Any) -> list[tuple[str, str]]:
    """The problems of a file that must be refused whole, having checked nothing was stored."""
    before = await counts(uow)
    result = await run(uow, clock, data, **options)
    assert result.refused and not result.imported
    assert await counts(uow) == before
    return problems(result)


# ---- headers and sheets ---------------------------------------------------------------------

async def test_a_misspelt_header_is_named_with_the_one_it_should_be(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    data = edit(filled({"项目": [TEA]}), lambda b: setattr(b["项目"]["J1"], "value", "总投资(元)"))
    assert await refused(uow, clock, data) == [
        ("项目!J1", "不认识的表头“总投资(元)”：是不是“总投资（万元）”？请改成“总投资（万元）”")]


async def test_a_missing_header_is_named(uow: UnitOfWorkFactory, clock: FixedClock,
                                         world: World) -> None:
    data = edit(filled({"项目": [TEA]}), lambda b: b["项目"].delete_cols(2))
    assert await refused(uow, clock, data) == [("项目!1:1", "缺少表头“项目名称”")]


async def test_an_optional_header_misspelt_is_refused_not_dropped_with_its_data(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    data = edit(filled({"项目": [TEA]}),
                lambda b: setattr(b["项目"]["L1"], "value", "计划开工时间"))
    assert await refused(uow, clock, data) == [
        ("项目!L1", "不认识的表头“计划开工时间”：是不是“计划开工日期”？请改成“计划开工日期”")]


async def test_a_misnamed_sheet_is_refused_rather_than_skipped(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    data = edit(filled({"项目": [TEA], "人员": [CHEN]}),
                lambda b: setattr(b["项目"], "title", "项目表"))
    assert await refused(uow, clock, data) == [
        ("项目表", "不认识工作表“项目表”：是不是“项目”？请改名为“项目”")]


async def test_a_workbook_of_other_sheets(uow: UnitOfWorkFactory, clock: FixedClock,
                                          world: World) -> None:
    book = Workbook()
    book.active.title = "Sheet1"
    book.active["A1"] = "随便"
    assert await refused(uow, clock, save(book)) == [
        ("工作簿", "没有找到要导入的工作表：应有 项目、人员、分工 中的至少一个，"
                 "文件里是：Sheet1。")]


@pytest.mark.parametrize("keep_examples", [True, False])
async def test_empty_sheets_import_nothing(uow: UnitOfWorkFactory, clock: FixedClock,
                                           world: World, keep_examples: bool) -> None:
    data = filled({}, keep_examples=keep_examples)
    assert await refused(uow, clock, data) == [("工作簿", "文件里没有要导入的行（示例行不算）。")]


async def test_a_blank_sheet_beside_filled_ones_is_simply_skipped(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    def blank_projects(book: Any) -> None:
        book["项目"].delete_rows(1, 2)

    result = await run(uow, clock, edit(filled({"人员": [CHEN]}), blank_projects))
    assert not result.refused and result.counts.people_new == 1


async def test_columns_in_another_order_and_extra_columns_are_fine(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    def rearrange(book: Any) -> None:
        sheet = book["项目"]
        sheet.move_range("B1:B3", cols=21)  # 项目名称 to the far right, column W
        sheet["V1"], sheet["V3"] = "备注", "县长挂点"

    result = await run(uow, clock, edit(filled({"项目": [TEA]}), rearrange))
    assert not result.refused, result.errors
    async with uow() as u:
        name = await u.session.scalar(select(m.Project.name).where(m.Project.code == "HB-101"))
    assert name == "汉滨区富硒茶精深加工产业园"


# ---- cells -----------------------------------------------------------------------------------

async def test_merged_cells_are_refused_with_their_range(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    second = TEA | {"项目编号": "HB-111"}
    data = edit(filled({"项目": [TEA, second]}), lambda b: b["项目"].merge_cells("E3:E4"))
    assert await refused(uow, clock, data) == [
        ("项目!E3", "合并单元格 E3:E4：请取消合并，并在每一行填上各自的值")]


async def test_a_merged_title_above_the_header_is_read_as_a_title(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    def title(book: Any) -> None:
        sheet = book["项目"]
        sheet.insert_rows(1)
        sheet["A1"] = "2026年汉滨区重点项目清单"
        sheet.merge_cells("A1:H1")

    result = await run(uow, clock, edit(filled({"项目": [TEA]}), title))
    assert not result.refused, result.errors
    assert result.counts.projects_new == 1


async def test_dates_typed_in_every_usual_way(uow: UnitOfWorkFactory, clock: FixedClock,
                                             world: World) -> None:
    typed: list[Any] = ["2026-03-01", "2026/3/1", "2026.3.1", "2026年3月1日", "20260301", 46082,
             date(2026, 3, 1), "２０２６－３－１"]
    rows = [TEA | {"项目编号": f"HB-1{i:02d}", "计划开工日期": value, "实际开工日期": None}
            for i, value in enumerate(typed)]
    result = await run(uow, clock, filled({"项目": rows}))
    assert not result.refused, result.errors
    async with uow() as u:
        starts = set(await u.session.scalars(
            select(m.Project.planned_start).where(m.Project.code.like("HB-1%"))))
    assert starts == {date(2026, 3, 1)}


async def test_a_date_that_is_not_one(uow: UnitOfWorkFactory, clock: FixedClock,
                                      world: World) -> None:
    rows = [TEA | {"计划开工日期": "3月1日", "计划竣工日期": "2026-02-30"}]
    assert await refused(uow, clock, filled({"项目": rows})) == [
        ("项目!L3", f"“3月1日”{NOT_A_DATE}"),
        ("项目!M3", f"“2026-02-30”{NOT_A_DATE}"),
    ]


async def test_money_with_units_commas_and_full_width_digits(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    typed: list[Any] = ["3500万元", "3,500", "0.35亿", "３５００", 3500, "35000000元"]
    rows = [SILK | {"项目编号": f"HB-1{i:02d}", "总投资（万元）": value}
            for i, value in enumerate(typed)]
    result = await run(uow, clock, filled({"项目": rows}))
    assert not result.refused, result.errors
    async with uow() as u:
        totals = set(await u.session.scalars(
            select(m.Project.total_investment).where(m.Project.code.like("HB-1%"))))
    assert totals == {Decimal(3500)}


async def test_a_code_twice_in_the_sheet(uow: UnitOfWorkFactory, clock: FixedClock,
                                         world: World) -> None:
    rows = [TEA, SILK, TEA | {"项目名称": "另一个项目"}]
    assert await refused(uow, clock, filled({"项目": rows})) == [
        ("项目!A5", "项目编号 HB-101 与第 3 行重复")]


async def test_a_key_twice_in_the_sheet(uow: UnitOfWorkFactory, clock: FixedClock,
                                        world: World) -> None:
    rows = [CHEN, CHEN | {"姓名": "陈晶"}]
    assert await refused(uow, clock, filled({"人员": rows})) == [
        ("人员!A4", "账号 liaison_chen 与第 3 行重复")]


async def test_places_and_people_that_do_not_exist(uow: UnitOfWorkFactory, clock: FixedClock,
                                                   world: World) -> None:
    rows = [TEA | {"所属区域": "汉宾区", "责任单位": "汉滨区工信"},
            SILK | {"所属区域": "北京", "责任单位": "不存在的局"}]
    staff = [{"人员": "王石", "职责": "联络员", "项目编号": "HB-101"},
             {"人员": "王磊", "职责": "联络员", "项目编号": "HB-999"},
             {"人员": "hq_hanbin", "职责": "项目办"}]
    assert await refused(uow, clock, filled({"项目": rows, "分工": staff})) == [
        ("项目!D3", "系统里没有区域“汉宾区”：是不是“汉滨区”？"),
        ("项目!E3", "系统里没有单位“汉滨区工信”：是不是“汉滨区工信局”？"),
        ("项目!D4", "系统里没有区域“北京”"),
        ("项目!E4", "系统里没有单位“不存在的局”"),
        ("分工!A3", "人员表和系统里都没有“王石”：是不是“王磊”？"),
        ("分工!C4", "项目表和系统里都没有项目编号 HB-999"),
        ("分工!D5", "项目办和查看职责要填区域"),
    ]


async def test_a_name_two_people_share_needs_the_key(uow: UnitOfWorkFactory, clock: FixedClock,
                                                     world: World) -> None:
    people = [{"账号": "wang_lei_2", "姓名": "王磊"}]
    staff = [{"人员": "王磊", "职责": "联络员", "项目编号": "HB-002"}]
    assert await refused(uow, clock, filled({"人员": people, "分工": staff})) == [
        ("分工!A3", "有 2 人叫“王磊”：请改填账号（liaison_wang、wang_lei_2）")]


async def test_one_lead_leader_per_project(uow: UnitOfWorkFactory, clock: FixedClock,
                                           world: World) -> None:
    staff = [{"人员": "leader_zhang", "职责": "牵头领导", "项目编号": "HB-002"},
             {"人员": "hq_hanbin", "职责": "牵头领导", "项目编号": "HB-002"}]
    assert await refused(uow, clock, filled({"分工": staff})) == [
        ("分工!A4", "项目 HB-002 在第 3 行已有另一位牵头领导：一个项目只有一位")]


async def test_formulas_are_read_by_their_computed_value(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    data = with_formula(filled({"项目": [SILK]}), 1, "J3", "1000+2500", cached="3500")
    result = await run(uow, clock, data)
    assert not result.refused, result.errors
    async with uow() as u:
        total = await u.session.scalar(
            select(m.Project.total_investment).where(m.Project.code == "HB-102"))
    assert total == Decimal(3500)


async def test_a_formula_never_computed_is_named_as_such(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    data = with_formula(filled({"项目": [SILK]}), 1, "J3", "1000+2500", cached=None)
    assert await refused(uow, clock, data) == [
        ("项目!J3", "公式还没有计算结果：请在 Excel 里打开、保存后再导入")]


async def test_trailing_and_spacer_rows_and_stray_spaces_are_ignored(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    spaced = SILK | {"项目编号": " HB-102\u3000", "项目名称": "\u3000汉滨区 蚕桑丝绸产业园 ",
                     "所属区域": " 汉滨区 ", "项目阶段": "前期 "}
    people = [CHEN | {"姓名": "陈\u3000静"}]
    staff = [{"人员": "陈 静", "职责": "联络员", "项目编号": "HB-102 "}]

    def spacers(book: Any) -> None:
        sheet = book["项目"]
        sheet.insert_rows(3)  # a blank row between the example and the data
        sheet["B500"] = "  "
        sheet["C900"] = "\u3000"
        sheet.row_dimensions[1200].height = 30

    data = edit(filled({"项目": [spaced], "人员": people, "分工": staff}), spacers)
    result = await run(uow, clock, data)
    assert not result.refused, result.errors
    assert (result.counts.projects_new, result.counts.people_new) == (1, 1)
    async with uow() as u:
        name = await u.session.scalar(select(m.Project.name).where(m.Project.code == "HB-102"))
        chen = (await u.people.find("liaison_chen"))[0]
    assert name == "汉滨区蚕桑丝绸产业园"
    assert chen.name == "陈静"


# ---- files that are not workbooks ----------------------------------------------------------

async def test_a_csv_renamed_xlsx(uow: UnitOfWorkFactory, clock: FixedClock, world: World,
                                  tmp_path: Path) -> None:
    path = tmp_path / "county.xlsx"
    path.write_bytes("项目编号,项目名称\nHB-101,汉滨区富硒茶产业园\n".encode("gb18030"))
    assert await refused(uow, clock, path) == [
        ("文件", "这不是 Excel 工作簿（.xlsx），而是文本或 CSV 文件。"
                 "请在 Excel 或 WPS 里另存为“Excel 工作簿（*.xlsx）”后再导入。")]


async def test_a_photo_renamed_xlsx(uow: UnitOfWorkFactory, clock: FixedClock, world: World,
                                    tmp_path: Path) -> None:
    path = tmp_path / "county.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    [(ref, message)] = await refused(uow, clock, path)
    assert ref == "文件" and "而是PNG 图片" in message


async def test_an_old_xls(uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    [(_, message)] = await refused(uow, clock, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    assert "旧版 Excel（.xls）文件或设了密码的工作簿" in message


@pytest.mark.parametrize("cut", [0.5, 0.9])
async def test_a_file_cut_short(uow: UnitOfWorkFactory, clock: FixedClock, world: World,
                                cut: float) -> None:
    data = filled({"项目": [TEA]})
    assert await refused(uow, clock, data[:int(len(data) * cut)]) == [
        ("文件", "文件已损坏（可能没有传完整），无法读取。请在 Excel 里打开，重新保存后再发送。")]


async def test_a_zip_that_is_not_a_workbook(uow: UnitOfWorkFactory, clock: FixedClock,
                                            world: World) -> None:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo1.jpg", b"not really")
    [(_, message)] = await refused(uow, clock, out.getvalue())
    assert "一个里面没有工作簿的压缩包" in message


async def test_a_damaged_sheet_inside_a_sound_zip(uow: UnitOfWorkFactory, clock: FixedClock,
                                                  world: World) -> None:
    data = rewrite_part(filled({"项目": [TEA]}), "xl/worksheets/sheet1.xml",
                        lambda xml: xml[:len(xml) // 2])
    [(_, message)] = await refused(uow, clock, data)
    assert message.startswith("文件已损坏")


async def test_a_50_mb_file_is_refused_before_it_is_read(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World, tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    with path.open("wb") as handle:
        handle.truncate(50 * MB)  # sparse: nothing could parse it anyway
    expected = [("文件", "文件有 50.0 MB，超过 20.0 MB 的上限，没有读取。"
                         "请删去不需要的工作表和图片后再试。")]
    assert await refused(uow, clock, path) == expected
    assert await refused(uow, clock, b"PK" + bytes(50 * MB)) == expected
    [(_, message)] = await refused(uow, clock, filled({"项目": [TEA]}),
                                   limits=Limits(max_bytes=1000))
    assert "超过 0.0 MB 的上限" in message


def _padded_sheet(size: int) -> Iterator[bytes]:
    yield b'<?xml version="1.0" encoding="UTF-8"?>'
    yield b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    yield b"<sheetData/>"
    for _ in range(size // MB):
        yield b" " * MB
    yield b"</worksheet>"


async def test_a_zip_bomb_is_refused_by_its_unpacked_size(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    source = zipfile.ZipFile(BytesIO(filled({"项目": [TEA]})))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(info, source.read(info.filename))
                continue
            with bomb.open(info.filename, "w", force_zip64=True) as part:
                for piece in _padded_sheet(210 * MB):
                    part.write(piece)
    data = out.getvalue()
    assert len(data) < MB
    [(ref, message)] = await refused(uow, clock, data)
    assert ref == "文件"
    assert message.startswith("文件解压后有 210.") and "超过 200.0 MB 的上限" in message
