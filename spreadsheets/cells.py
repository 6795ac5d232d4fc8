"""One cell's value as the column needs it, or the reason it cannot be.

Cells arrive as openpyxl gives them: text, int, float, bool, datetime (for cells formatted as
dates) or None. Clerks type dates and money as text just as often as Excel stores them as
numbers, so each reader takes both. Text is cleaned of what copying from Word or WeChat adds:
full-width and non-breaking spaces, zero-width characters, and the spaces people put between
the characters of a two-character name to line it up (王　磊).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from openpyxl.utils.datetime import from_excel

from domain.dates import NotADate, parse_date
from domain.numbers import NotANumber, parse_decimal, parse_money_wan
from spreadsheets.columns import Column
from spreadsheets.vocabulary import Vocabulary

Raw = str | int | float | bool | date | None

YUAN_IN_WAN = Decimal("0.0001")
FIRST_SERIAL, LAST_SERIAL = 32_874, 73_051  # 1990-01-01 .. 2100-01-01 as Excel day numbers

_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_WORD = r"[^\s\u200b\u200c\u200d\u2060\ufeff]+"
_TIDY = re.compile(rf"{_WORD}(?: {_WORD})*")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_CJK = r"[\u3400-\u9fff\uf900-\ufaff]"
_CJK_GAP = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")
_LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")
_KEY = re.compile(r"[A-Za-z0-9_.@-]+")
_PHONE = re.compile(r"\+?[0-9]{3,20}")
_PHONE_PUNCTUATION = dict.fromkeys(map(ord, " -()（）"))
_YEAR_FIRST = re.compile(r"[0-9０-９]{4}\D|[0-9０-９]{8}$")
_TRAILING_TIME = re.compile(r"[ T]+[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$")
_SERIAL = re.compile(r"[0-9]{5}(\.0+)?")


class CellProblem(ValueError):
    """Why a cell is refused: a message key and its values (see excel.* in the catalogues)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def _tidy(text: str) -> bool:
    """Nothing to clean, as in most cells: checked in C rather than rebuilt in Python."""
    return (_TIDY.fullmatch(text) is not None and unicodedata.is_normalized("NFC", text)
            and (" " not in text or _CJK_GAP.search(text) is None))


def clean_text(value: Raw | Decimal) -> str:
    """The cell as a tidy string ("" when blank); whole numbers lose Excel's ".0"."""
    if isinstance(value, str) and _tidy(value):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    text = unicodedata.normalize("NFC", str(value)).translate(_INVISIBLE)
    text = _SPACES.sub(" ", text).strip()
    return _CJK_GAP.sub("", text)


def _shown(value: Raw) -> str:
    """The value as the clerk sees it, cut short for a message."""
    text = clean_text(value)
    return text if len(text) <= 30 else text[:29] + "…"


def read_text(value: Raw, column: Column) -> str:
    text = clean_text(value)
    if len(text) > column.max_length:
        raise CellProblem("excel.too_long", max=column.max_length)
    return text


def read_key(value: Raw, column: Column) -> str:
    key = read_text(value, column)
    if key and not _KEY.fullmatch(key):
        raise CellProblem("excel.bad_key", value=_shown(value))
    return key


def read_list(value: Raw, column: Column) -> tuple[str, ...]:
    """Aliases: "毛绒园、毛绒文创产业园" → both, in order, each once."""
    items = [item.strip() for item in _LIST_SEPARATORS.split(clean_text(value))]
    found = tuple(dict.fromkeys(item for item in items if item))
    for item in found:
        if len(item) > column.max_length:
            raise CellProblem("excel.too_long", max=column.max_length)
    return found


def read_phone(value: Raw, column: Column) -> str:
    text = read_text(value, column)
    if text and not _PHONE.fullmatch(text.translate(_PHONE_PUNCTUATION)):
        raise CellProblem("excel.bad_phone", value=_shown(value))
    return text


def read_choice(value: Raw, vocabulary: Vocabulary, labels: list[str]) -> str | None:
    text = clean_text(value)
    if not text:
        return None
    found = vocabulary.read(text)
    if found is None:
        raise CellProblem("excel.bad_choice", value=_shown(value), choices="、".join(labels))
    return found


def read_date(value: Raw, epoch: datetime) -> date | None:
    """A date from a date cell, an Excel day number, or text: 2026-03-01, 2026/3/1, 2026.3.1,
    2026年3月1日, 20260301. A date without its year is refused: in a plan it is ambiguous."""
    if isinstance(value, date | None):
        return value.date() if isinstance(value, datetime) else value
    if isinstance(value, bool):
        raise CellProblem("excel.bad_date", value=_shown(value))
    if isinstance(value, int | float):
        return _serial(value, epoch, shown=_shown(value))
    text = clean_text(value)
    if not text:
        return None
    if _SERIAL.fullmatch(text):
        return _serial(float(text), epoch, shown=text)
    return _typed_date(text)


def _typed_date(text: str) -> date:
    text = _TRAILING_TIME.sub("", text)
    if not _YEAR_FIRST.match(text):
        raise CellProblem("excel.bad_date", value=_shown(text))
    try:
        return parse_date(text, date(2000, 1, 1))  # the year is there: `today` fills nothing
    except NotADate as exc:
        raise CellProblem("excel.bad_date", value=_shown(text)) from exc


def _serial(number: float, epoch: datetime, *, shown: str) -> date:
    if not FIRST_SERIAL <= number < LAST_SERIAL:
        raise CellProblem("excel.bad_date", value=shown)
    found = from_excel(number, epoch)
    return found.date() if isinstance(found, datetime) else found


def _exact(value: int | float) -> Decimal:
    """A number cell as the decimal Excel shows (repr is the shortest exact round trip)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _in_wan(value: int | float) -> Decimal:
    """A number cell of money: already 万元, kept to the yuan."""
    return _exact(value).quantize(YUAN_IN_WAN, rounding=ROUND_HALF_EVEN)


def _read_number(value: Raw, problem: str, *, cell: Callable[[int | float], Decimal],
                 text: Callable[[str], Decimal], units: tuple[str, ...] = ()) -> Decimal | None:
    """A number cell through `cell`, any other through `text` once its spaces and the `units`
    after it are gone; None when blank; `problem` when it is no number (nor is a yes/no cell)."""
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise NotANumber("a yes/no cell")
        if isinstance(value, int | float):
            return cell(value)
        typed = "".join(clean_text(value).split())
        for unit in units:
            typed = typed.removesuffix(unit)
        return text(typed) if typed else None
    except (NotANumber, InvalidOperation) as exc:
        raise CellProblem(problem, value=_shown(value)) from exc


def read_money(value: Raw, column: Column) -> Decimal | None:
    """万元: 3500, "3,500", "3500万元", "0.35亿", "３５００", "5000元" (= 0.5)."""
    amount = _read_number(value, "excel.bad_money", cell=_in_wan, text=parse_money_wan)
    return None if amount is None else _in_range(amount, column, money=True)


def read_decimal(value: Raw, column: Column) -> Decimal | None:
    """A number; a length may say its unit: "12米", "12m"."""
    number = _read_number(value, "excel.bad_number", cell=_exact, text=parse_decimal,
                          units=("米", "m"))
    return None if number is None else _in_range(number, column, money=False)


def read_integer(value: Raw, column: Column) -> int | None:
    number = read_decimal(value, column)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise CellProblem("excel.not_whole", value=_shown(value))
    return int(number)


def _in_range(number: Decimal, column: Column, *, money: bool) -> Decimal:
    if money and number < 0:
        raise CellProblem("excel.negative")
    if money and column.high is not None and number > column.high:
        raise CellProblem("excel.money_too_big", value=f"{number:,f}")
    if column.low is not None and column.high is not None and not (
            column.low <= number <= column.high):
        raise CellProblem("excel.out_of_range", low=f"{column.low:,f}", high=f"{column.high:,f}")
    return number
