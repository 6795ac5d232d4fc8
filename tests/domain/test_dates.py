from __future__ import annotations

from datetime import date

import pytest

from domain.dates import NotADate, parse_date

TODAY = date(2026, 11, 25)
NEW_YEAR = date(2026, 1, 3)


@pytest.mark.parametrize(("text", "expected"), [
    ("今天", TODAY),
    ("今日", TODAY),
    ("today", TODAY),
    ("Today", TODAY),
    (" 今天 ", TODAY),
    ("昨天", date(2026, 11, 24)),
    ("昨日", date(2026, 11, 24)),
    ("yesterday", date(2026, 11, 24)),
    ("前天", date(2026, 11, 23)),
    ("2026-11-20", date(2026, 11, 20)),
    ("2026/11/20", date(2026, 11, 20)),
    ("2026.11.20", date(2026, 11, 20)),
    ("2026年11月20日", date(2026, 11, 20)),
    ("2026年11月20号", date(2026, 11, 20)),
    ("2026年11月20", date(2026, 11, 20)),
    ("2026-1-5", date(2026, 1, 5)),
    ("2026-01-05", date(2026, 1, 5)),
    ("2025-12-31", date(2025, 12, 31)),
    ("2027-01-01", date(2027, 1, 1)),  # not range-checked: the caller refuses the future
    ("20261120", date(2026, 11, 20)),
    ("２０２６－１１－２０", date(2026, 11, 20)),
    ("２０２６／１１／２０", date(2026, 11, 20)),
    ("２０２６．１１．２０", date(2026, 11, 20)),
    ("２０２６年１１月２０日", date(2026, 11, 20)),
    ("２０２６１１２０", date(2026, 11, 20)),
    ("2026 年 11 月 20 日", date(2026, 11, 20)),
    ("11-20", date(2026, 11, 20)),
    ("11/20", date(2026, 11, 20)),
    ("11.20", date(2026, 11, 20)),
    ("11月20日", date(2026, 11, 20)),
    ("11月20号", date(2026, 11, 20)),
    ("11月 20日", date(2026, 11, 20)),
    ("１１月２０日", date(2026, 11, 20)),
    ("11-25", TODAY),
    ("11-26", date(2025, 11, 26)),  # not after today: last year's
    ("1-1", date(2026, 1, 1)),
    ("20日", date(2026, 11, 20)),
    ("20号", date(2026, 11, 20)),
    ("２０号", date(2026, 11, 20)),
    ("5号", date(2026, 11, 5)),
    ("28号", date(2026, 11, 28)),  # day of this month, even if after today
])
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("12-30", date(2025, 12, 30)),
    ("12月30日", date(2025, 12, 30)),
    ("1-3", date(2026, 1, 3)),
    ("1-4", date(2025, 1, 4)),
    ("昨天", date(2026, 1, 2)),
    ("前天", date(2026, 1, 1)),
    ("2号", date(2026, 1, 2)),
])
def test_a_date_without_its_year_is_the_most_recent_one(text: str, expected: date) -> None:
    assert parse_date(text, NEW_YEAR) == expected


def test_yesterday_on_the_first_of_march_is_the_end_of_february() -> None:
    assert parse_date("昨天", date(2028, 3, 1)) == date(2028, 2, 29)
    assert parse_date("前天", date(2026, 3, 1)) == date(2026, 2, 27)


def test_the_twenty_ninth_of_february_only_in_a_leap_year() -> None:
    assert parse_date("2-29", date(2028, 3, 1)) == date(2028, 2, 29)
    with pytest.raises(NotADate):
        parse_date("2-29", date(2026, 3, 1))


@pytest.mark.parametrize("text", [
    "",
    "   ",
    "abc",
    "👍",
    "明天",
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "2026-11-00",
    "2026年2月30日",
    "20260230",
    "2-30",
    "13-1",
    "11月31日",
    "31号",  # November has 30 days
    "0号",
    "2026-11/20",
    "2026年11-20",
    "26-11-20",
    "2026-011-20",
    "261120",
    "1120",
    "20",
    "11月",
    "2026年11月",
    "11 20",
    "11-20-",
    "-11-20",
    "11--20",
    "2026-11-20 10:00",
    "十一月二十日",
    "11月20日上午",
    "x" * 10_000,
])
def test_parse_date_refuses(text: str) -> None:
    with pytest.raises(NotADate):
        parse_date(text, TODAY)
