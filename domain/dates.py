"""Dates as people type them on a phone: "昨天", "11月20日", "2026/11/20", "２０号".

A text is cut into numbers, each with the mark that follows it ("11月20日" → 11 月, 20 日),
and the sequence of marks says which shape it is. Shapes that leave out the year or the month
are filled in from `today`; nothing here refuses a future or an old date, the caller does.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

# Longer than any date a person types, short enough that a pasted essay is refused at once.
MAX_CHARS = 40

# A phone keyboard in Chinese mode types full-width digits and punctuation.
_HALF_WIDTH = str.maketrans("０１２３４５６７８９－／．", "0123456789-/.")

_DAYS_AGO = {
    "今天": 0, "今日": 0, "today": 0,
    "昨天": 1, "昨日": 1, "yesterday": 1,
    "前天": 2,
}

_MARKS = "-/.年月日号"
_PART = re.compile(rf"([0-9]+)([{_MARKS}]?)")
_SPACE_BY_MARK = re.compile(rf"\s*([{_MARKS}])\s*")

_YEAR_MONTH_DAY = {
    ("-", "-", ""), ("/", "/", ""), (".", ".", ""),
    ("年", "月", ""), ("年", "月", "日"), ("年", "月", "号"),
}
_MONTH_DAY = {("-", ""), ("/", ""), (".", ""), ("月", ""), ("月", "日"), ("月", "号")}
_DAY = {("日",), ("号",)}
_COMPACT = ("",)  # "20261120"


class NotADate(ValueError):
    """The text does not read as a date, or names one that does not exist (2026-02-30)."""


def parse_date(text: str, today: date) -> date:
    """The date a liaison means, with `today` filling in a missing year or month.

    A month and day without a year is the most recent such date not after today (on
    2026-01-03, "12-30" is 2025-12-30); a day alone ("20号") is that day of this month.
    """
    if len(text) > MAX_CHARS:
        raise NotADate(f"too long to be a date ({len(text)} characters)")
    cleaned = _SPACE_BY_MARK.sub(r"\1", text.translate(_HALF_WIDTH).strip())
    days_ago = _DAYS_AGO.get(cleaned.lower())
    if days_ago is not None:
        return today - timedelta(days=days_ago)
    year, month, day = _fields(*_parts(cleaned), today=today)
    try:
        return date(year, month, day)
    except ValueError as error:  # month 13, 2026-02-30
        raise NotADate(f"no such date: {cleaned!r}") from error


def _parts(cleaned: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """ "11月20日" → ("11", "20"), ("月", "日"); anything else in the text refuses it."""
    parts = _PART.findall(cleaned)
    if not parts or "".join(number + mark for number, mark in parts) != cleaned:
        raise NotADate(f"not a date: {cleaned!r}")
    numbers, marks = zip(*parts, strict=True)
    return numbers, marks


def _fields(numbers: tuple[str, ...], marks: tuple[str, ...], *, today: date,
            ) -> tuple[int, int, int]:
    """Year, month and day by the shape the marks make; not yet checked to exist."""
    if marks == _COMPACT and len(numbers[0]) == 8:
        compact = numbers[0]
        numbers, marks = (compact[:4], compact[4:6], compact[6:]), ("-", "-", "")
    widths = [len(number) for number in numbers]
    if marks in _YEAR_MONTH_DAY and widths[0] == 4 and max(widths[1:]) <= 2:
        year, month, day = map(int, numbers)
        return year, month, day
    if marks in _MONTH_DAY and max(widths) <= 2:
        month, day = map(int, numbers)
        this_year = (month, day) <= (today.month, today.day)
        return today.year if this_year else today.year - 1, month, day
    if marks in _DAY and max(widths) <= 2:
        return today.year, today.month, int(numbers[0])
    raise NotADate(f"not a shape of date: {marks!r} with {len(numbers)} numbers")
