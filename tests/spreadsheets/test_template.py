"""The import workbook as a clerk opens it: sheets, headers, lists to pick from, help."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from spreadsheets.template import template_workbook


def opened(language: str) -> Any:
    return load_workbook(BytesIO(template_workbook(language)))


def lists(sheet: Any) -> dict[str, str]:
    """Each drop-down's cells and its choices."""
    return {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}


def test_the_chinese_template_has_the_three_sheets_and_their_help() -> None:
    book = opened("zh-CN")
    assert book.sheetnames == ["项目", "人员", "分工", "说明"]
    projects = book["项目"]
    headers = [c.value for c in projects[1]]
    assert headers[:5] == ["项目编号", "项目名称", "简称", "所属区域", "责任单位"]
    assert "总投资（万元）" in headers and "年度计划投资（万元）" in headers
    assert projects.freeze_panes == "A2"
    assert projects["A1"].font.bold
    assert projects.column_dimensions["B"].width >= 30
    assert [c.value for c in book["人员"][1]] == [
        "账号", "姓名", "职务", "电话", "所在单位", "语言"]
    assert [c.value for c in book["分工"][1]] == ["人员", "职责", "项目编号", "区域", "单位"]


def test_choices_are_drop_down_lists() -> None:
    book = opened("zh-CN")
    assert lists(book["项目"]) == {
        "F2:F20000": '"省级重点,市级重点,县级重点"',
        "H2:H20000": '"产业项目,基础设施,公共服务"',
        "I2:I20000": '"储备,前期,在建,投产"',
        "S2:S20000": '"是,否"',
    }
    assert lists(book["分工"]) == {"B2:B20000": '"联络员,牵头领导,责任单位,项目办,查看"'}
    assert lists(book["人员"]) == {"F2:F20000": '"中文,English"'}


def test_the_example_row_is_typed_as_the_importer_reads_it() -> None:
    projects = opened("zh-CN")["项目"]
    example = {projects.cell(row=1, column=c).value: projects.cell(row=2, column=c)
               for c in range(1, projects.max_column + 1)}
    assert example["项目编号"].value == "HB-101"
    assert example["项目阶段"].value == "在建"
    assert example["总投资（万元）"].value == 35000
    assert example["总投资（万元）"].number_format == "#,##0.00"
    assert example["计划开工日期"].is_date
    assert example["项目编号"].font.italic


def test_the_help_sheet_explains_every_column() -> None:
    book = opened("zh-CN")
    rows = [[c.value for c in row] for row in book["说明"].iter_rows()]
    table = {(r[0], r[1]): (r[2], r[3]) for r in rows if r[0] in ("项目", "人员", "分工")}
    assert len(table) == sum(book[s].max_column for s in ("项目", "人员", "分工"))
    assert table[("项目", "项目编号")][0] == "必填"
    assert table[("项目", "简称")][0] == "选填"
    assert "3.5亿" in table[("项目", "总投资（万元）")][1]
    assert all(notes for _, notes in table.values())


def test_the_english_template_reads_in_english() -> None:
    book = opened("en")
    assert book.sheetnames == ["Projects", "People", "Assignments", "Instructions"]
    assert [c.value for c in book["People"][1]] == [
        "Login key", "Name", "Title", "Phone", "Unit", "Language"]
    assert lists(book["Projects"])["I2:I20000"] == (
        '"reserve,preliminary,under construction,in production"')
