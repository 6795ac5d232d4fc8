from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import pytest

from domain.numbers import (
    NotANumber,
    NotAWholeNumber,
    parse_count,
    parse_decimal,
    parse_money_wan,
    parse_percent,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("35", Decimal(35)),
    ("  35  ", Decimal(35)),
    ("\u300035\u3000", Decimal(35)),  # ideographic spaces around
    ("３５", Decimal(35)),
    ("3.5", Decimal("3.5")),
    ("３．５", Decimal("3.5")),
    ("0.75", Decimal("0.75")),
    ("1,200", Decimal(1200)),
    ("1，200", Decimal(1200)),
    ("１，２００", Decimal(1200)),
    ("1,234,567.89", Decimal("1234567.89")),
    ("-5", Decimal(-5)),
    ("－5", Decimal(-5)),
    ("负5", Decimal(-5)),
    ("负三点五", Decimal("-3.5")),
    ("- 5", Decimal(-5)),
    ("-0", Decimal(0)),
    ("零", Decimal(0)),
    ("〇", Decimal(0)),
    ("五", Decimal(5)),
    ("十", Decimal(10)),
    ("十二", Decimal(12)),
    ("二十", Decimal(20)),
    ("三十五", Decimal(35)),
    ("一百", Decimal(100)),
    ("一百零五", Decimal(105)),
    ("一百一十", Decimal(110)),
    ("一百五", Decimal(150)),  # colloquial: a lone digit after a unit is the next place
    ("两千三", Decimal(2300)),
    ("两千零三", Decimal(2003)),
    ("一千零一十", Decimal(1010)),
    ("三万五千", Decimal(35000)),
    ("三万五", Decimal(35000)),
    ("三万零五", Decimal(30005)),
    ("十万", Decimal(100000)),
    ("一千二百万", Decimal(12000000)),
    ("两千三万", Decimal(23000000)),
    ("三亿五千万", Decimal(350000000)),
    ("一亿五", Decimal(150000000)),
    ("一亿零五万", Decimal(100050000)),
    ("一万亿", Decimal(10**12)),
    ("俩", Decimal(2)),
    ("三点五", Decimal("3.5")),
    ("零点五", Decimal("0.5")),
    ("三点一四", Decimal("3.14")),
    ("三点零五", Decimal("3.05")),
    ("三点五万", Decimal(35000)),
    ("壹佰贰拾叁", Decimal(123)),
    ("叁仟伍佰万", Decimal(35000000)),
    ("玖拾", Decimal(90)),
    ("1.2万", Decimal(12000)),
    ("１.２万", Decimal(12000)),
    ("3500万", Decimal(35000000)),
    ("12000万", Decimal(120000000)),
    ("1.2亿", Decimal(120000000)),
    ("3万5千", Decimal(35000)),
    ("3万5", Decimal(35000)),
    ("3万5000", Decimal(35000)),
    ("1亿3500万", Decimal(135000000)),
    # more digits than the default 28-digit decimal context keeps: still exact
    ("123456789012345678901234567890.5", Decimal("123456789012345678901234567890.5")),
    ("-123456789012345678901234567890", Decimal("-123456789012345678901234567890")),
])
def test_parse_decimal(text: str, expected: Decimal) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", [
    "",
    "   ",
    "abc",
    "👍",
    "35abc",
    "约35",
    "3..5",
    "1.2.3",
    "5.",
    ".5",
    "3点",
    "点五",
    "3点5",  # 点 only after a Chinese digit
    "万",
    "亿",
    "百",
    "千二",
    "万元",
    "百分之",
    "亿万",
    "万亿",
    "三五",  # "three or five", not 35
    "五零",
    "一二〇",
    "一百二千",  # units out of order
    "二十十",
    "三万五万",
    "一亿二亿",
    "零十",
    "3万50000",  # 50000 does not fit below 万
    "一百200",
    "12百",
    "1,2",
    "1,,200",
    "12,00",
    "1,200,",
    ",200",
    "1 200",
    "-",
    "负",
    "--5",
    "负负5",
    "+5",
    "3\n5",
    "35💯",
    "5" * 10_000,
])
def test_parse_decimal_refuses(text: str) -> None:
    with pytest.raises(NotANumber):
        parse_decimal(text)


def test_a_pasted_essay_is_refused_without_reading_it() -> None:
    start = time.perf_counter()
    for _ in range(100):
        with pytest.raises(NotANumber):
            parse_decimal("一" * 10_000)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(("text", "expected"), [
    ("35", Decimal(35)),
    ("35%", Decimal(35)),
    ("35％", Decimal(35)),
    ("３５", Decimal(35)),
    ("３５％", Decimal(35)),
    ("35.5 %", Decimal("35.5")),
    ("35.5", Decimal("35.5")),
    ("百分之三十五", Decimal(35)),
    ("百分之三十五点五", Decimal("35.5")),
    ("百分之35", Decimal(35)),
    ("三十五%", Decimal(35)),
    ("0", Decimal(0)),
    ("百分之一百", Decimal(100)),
    ("120%", Decimal(120)),  # not range-checked: the caller says why it is refused
    ("-5%", Decimal(-5)),
    ("负百分之五", Decimal(-5)),
])
def test_parse_percent(text: str, expected: Decimal) -> None:
    assert parse_percent(text) == expected


@pytest.mark.parametrize("text", [
    "", "%", "百分之", "百分之35%", "35%%", "%35", "35 percent", "约35%", "三十五个点",
])
def test_parse_percent_refuses(text: str) -> None:
    with pytest.raises(NotANumber):
        parse_percent(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("120", 120),
    ("120人", 120),
    ("120 人", 120),
    ("120名", 120),
    ("120个人", 120),
    ("一百二十人", 120),
    ("１２０", 120),
    ("1,200", 1200),
    ("1，200人", 1200),
    ("两百", 200),
    ("0", 0),
    ("12.0", 12),
    ("1.2万人", 12000),
    ("-3", -3),
    ("负三人", -3),
])
def test_parse_count(text: str, expected: int) -> None:
    count = parse_count(text)
    assert count == expected
    assert type(count) is int


@pytest.mark.parametrize("text", ["12.5", "12.5人", "三点五人", "0.5"])
def test_parse_count_refuses_a_fraction_as_not_whole(text: str) -> None:
    with pytest.raises(NotAWholeNumber):
        parse_count(text)


@pytest.mark.parametrize("text", ["", "人", "abc", "120人人", "120元", "约120人"])
def test_parse_count_refuses(text: str) -> None:
    with pytest.raises(NotANumber) as raised:
        parse_count(text)
    assert not isinstance(raised.value, NotAWholeNumber)


@pytest.mark.parametrize(("text", "expected"), [
    ("3500", Decimal(3500)),  # a bare number already is 万元
    ("3500.5", Decimal("3500.5")),
    ("三千五百", Decimal(3500)),
    ("3500万", Decimal(3500)),
    ("3500万元", Decimal(3500)),
    (" 3500万元 ", Decimal(3500)),
    ("1.2亿", Decimal(12000)),
    ("1.2亿元", Decimal(12000)),
    ("5000元", Decimal("0.5")),
    ("5000 元", Decimal("0.5")),
    ("1元", Decimal("0.0001")),
    ("1,234.5万元", Decimal("1234.5")),
    ("1，234.5万", Decimal("1234.5")),
    ("三千五百万", Decimal(3500)),
    ("三千五百万元", Decimal(3500)),
    ("三亿五千万", Decimal(35000)),
    ("１.２万", Decimal("1.2")),
    ("１２万元", Decimal(12)),
    ("十万", Decimal(10)),
    ("-3500万", Decimal(-3500)),
    ("负5000元", Decimal("-0.5")),
    ("0.00005", Decimal("0.0000")),  # half-even to the yuan
    ("0.00015", Decimal("0.0002")),
    ("1.23456", Decimal("1.2346")),
    ("12345.6789元", Decimal("1.2346")),
])
def test_parse_money_wan(text: str, expected: Decimal) -> None:
    assert parse_money_wan(text) == expected


def test_money_is_kept_to_the_yuan() -> None:
    assert parse_money_wan("3500").as_tuple().exponent == -4
    assert str(parse_money_wan("5000元")) == "0.5000"


@pytest.mark.parametrize("text", [
    "", "元", "万元", "亿元", "万", "abc元", "3500美元", "3500万元元", "35百万", "👍",
])
def test_parse_money_wan_refuses(text: str) -> None:
    with pytest.raises(NotANumber):
        parse_money_wan(text)


@pytest.mark.parametrize("parse", [parse_decimal, parse_percent, parse_count, parse_money_wan])
def test_every_parser_refuses_what_is_not_a_number(parse: Callable[[str], object]) -> None:
    for text in ("", "abc", "👍", "35abc", "3..5", "1.2.3", "万", "x" * 10_000):
        with pytest.raises(NotANumber):
            parse(text)
