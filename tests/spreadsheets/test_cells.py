"""Cells as clerks fill them: dates and money in every shape, and text with stray spaces."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel

from spreadsheets.cells import CellProblem, Raw, clean_text, read_date, read_list, read_money
from spreadsheets.columns import PROJECTS

EPOCH = CALENDAR_WINDOWS_1900
MONEY = PROJECTS.column("total_investment")
ALIASES = PROJECTS.column("aliases")


@pytest.mark.parametrize("cell", [
    "2026-03-01", "2026/3/1", "2026.3.1", "2026年3月1日", "20260301", "２０２６－０３－０１",
    " 2026-3-1 ", "2026-03-01 00:00:00", 46082, 46082.0, "46082", from_excel(46082),
    date(2026, 3, 1),
])
def test_a_date_in_any_usual_shape(cell: Raw) -> None:
    assert read_date(cell, EPOCH) == date(2026, 3, 1)


@pytest.mark.parametrize("cell", ["3月1日", "3-1", "2026-02-30", "明天", "1", 12, "2026年3月",
                                  True, "2026-13-01"])
def test_a_date_without_its_year_or_that_does_not_exist_is_refused(cell: Raw) -> None:
    with pytest.raises(CellProblem) as refused:
        read_date(cell, EPOCH)
    assert refused.value.key == "excel.bad_date"


@pytest.mark.parametrize(("cell", "wan"), [
    (3500, "3500"), (3500.5, "3500.5"), ("3500", "3500"), ("3,500", "3500"),
    ("3500万元", "3500"), ("3500万", "3500"), ("0.35亿", "3500"), ("0.35亿元", "3500"),
    ("３５００", "3500"), ("３，５００", "3500"), ("35000000元", "3500"), (" 3 500 ", "3500"),
    (0.1 + 0.2, "0.3"),
])
def test_money_in_wan_with_or_without_units(cell: Raw, wan: str) -> None:
    assert read_money(cell, MONEY) == Decimal(wan)


@pytest.mark.parametrize(("cell", "key"), [
    ("三千五百万元多", "excel.bad_money"), ("abc", "excel.bad_money"), ("-5", "excel.negative"),
    (-5, "excel.negative"), ("3,50", "excel.bad_money"), (True, "excel.bad_money"),
    (350_000_000, "excel.money_too_big"),
])
def test_bad_money_says_why(cell: Raw, key: str) -> None:
    with pytest.raises(CellProblem) as refused:
        read_money(cell, MONEY)
    assert refused.value.key == key


def test_blank_money_is_none() -> None:
    assert read_money(None, MONEY) is None
    assert read_money("\u3000 ", MONEY) is None


def test_text_loses_stray_and_full_width_spaces_and_name_padding() -> None:
    assert clean_text("\u3000王\u3000磊 ") == "王磊"
    assert clean_text(" 汉滨区\u00a0工信局\u200b") == "汉滨区工信局"
    assert clean_text("Wang  Lei") == "Wang Lei"
    assert clean_text(2026001.0) == "2026001"


def test_aliases_split_on_any_separator_each_once() -> None:
    assert read_list("毛绒园、毛绒文创产业园,毛绒园；毛绒 园区", ALIASES) == (
        "毛绒园", "毛绒文创产业园", "毛绒园区")
