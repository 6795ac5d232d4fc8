"""Numbers as people type them on a phone: "1,200", "３５％", "两千三", "1.2亿元", "负五".

Everything is an exact `Decimal`: a progress figure or an investment total that drifts by a
binary-float rounding error would show up in a letter to the county. That is also why this is
not cn2an, which returns floats.

A text is read in two steps: a tokenizer cuts it into numbers ("1,234.5", "三", "三点五") and
units (十百千万亿), and one left-to-right pass (`_Reading`) combines them the way the number
is read aloud. Anything the tokenizer does not know — letters, emoji, a second decimal point —
makes the whole text `NotANumber`; a figure is never guessed from part of a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, localcontext

# Longer than any number a person types, short enough that a pasted essay is refused at once.
MAX_CHARS = 100

# Room for MAX_CHARS digits times 万亿, so that sums and products below never round (and
# would raise if they did); rounding to the yuan is the one place where rounding is meant.
_EXACT = Context(prec=2 * MAX_CHARS, traps=[Inexact])
_TO_THE_YUAN = Context(prec=2 * MAX_CHARS, rounding=ROUND_HALF_EVEN)

_WAN = 10**4
_YI = 10**8
_YUAN_IN_WAN = Decimal("0.0001")

# A phone keyboard in Chinese mode types full-width digits and punctuation.
_HALF_WIDTH = str.maketrans("０１２３４５６７８９．，％－−", "0123456789.,%--")
_MINUS = ("-", "负")

_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}
_UNITS = {
    "十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": _WAN, "亿": _YI,
}
_CN_DIGITS = "".join(_DIGITS)
_TOKEN = re.compile(
    r"(?P<arabic>[0-9][0-9,]*(?:\.[0-9]+)?)"
    rf"|(?P<chinese>[{_CN_DIGITS}](?:点[{_CN_DIGITS}]+)?)"
    rf"|(?P<unit>[{''.join(_UNITS)}])"
    r"|(?P<other>.)",
    re.DOTALL,
)

_PERCENT_PREFIX = "百分之"
_PERCENT_SUFFIX = "%"
_COUNT_SUFFIXES = ("个人", "人", "名", "个")
_YUAN_SUFFIX = "元"


class NotANumber(ValueError):
    """The text does not read as a number at all."""


class NotAWholeNumber(NotANumber):
    """The text is a number, but a count needs a whole one ("12.5 人")."""


def parse_decimal(text: str) -> Decimal:
    """Any number: "1,200", "三点五", "1.2万" (= 12000), "负5"."""
    negative, body = _split_sign(text)
    return _signed(negative, _read(body).value)


def parse_percent(text: str) -> Decimal:
    """A percentage as its number of points: "35%", "百分之三十五" → 35.

    Not range-checked: the caller refuses 120 % with its own words.
    """
    negative, body = _split_sign(text)
    if body.startswith(_PERCENT_PREFIX):
        body = body.removeprefix(_PERCENT_PREFIX)
    elif body.endswith(_PERCENT_SUFFIX):
        body = body.removesuffix(_PERCENT_SUFFIX)
    return _signed(negative, _read(body.strip()).value)


def parse_count(text: str) -> int:
    """A head count: "120", "120人", "一百二十人", "1.2万人" → int."""
    negative, body = _split_sign(text)
    body = _without_suffix(body, _COUNT_SUFFIXES)
    value = _read(body.strip()).value
    if value != value.to_integral_value():
        raise NotAWholeNumber(f"not a whole number: {text.strip()!r}")
    return int(_signed(negative, value))


def parse_money_wan(text: str) -> Decimal:
    """Money in 万元, to the yuan (4 places, half-even).

    Reports are kept in 万元, so a bare number already is 万元 ("3500" → 3500). A number that
    carries its own unit is converted: "3500万" / "3500万元" → 3500, "1.2亿" → 12000,
    "5000元" → 0.5.
    """
    negative, body = _split_sign(text)
    in_yuan = body.endswith(_YUAN_SUFFIX)
    reading = _read(body.removesuffix(_YUAN_SUFFIX).strip())
    with localcontext(_EXACT):
        wan = reading.value / _WAN if in_yuan or reading.has_big_unit else reading.value
    return _signed(negative, wan.quantize(_YUAN_IN_WAN, context=_TO_THE_YUAN))


def _split_sign(text: str) -> tuple[bool, str]:
    """Normalise what the keyboard typed and take off a leading minus or 负.

    Negative values are returned as such so that the caller can say "must not be negative"
    instead of "not a number".
    """
    if len(text) > MAX_CHARS:
        raise NotANumber(f"too long to be a number ({len(text)} characters)")
    body = text.translate(_HALF_WIDTH).strip()
    if body.startswith(_MINUS):
        return True, body[1:].lstrip()
    return False, body


def _signed(negative: bool, value: Decimal) -> Decimal:
    """Exact whatever the context (unary minus would round); "-0" is plain 0."""
    return value.copy_negate() if negative and value else value


def _without_suffix(body: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if body.endswith(suffix):
            return body.removesuffix(suffix)
    return body


@dataclass(frozen=True, slots=True)
class _Num:
    value: Decimal
    lone_digit: bool  # one digit, so after a unit it may stand for the next lower place


@dataclass(frozen=True, slots=True)
class _Unit:
    value: int


_Token = _Num | _Unit


@dataclass(frozen=True, slots=True)
class _Result:
    value: Decimal
    has_big_unit: bool  # the text said 万 or 亿, so it counts in yuan, not in 万元


def _read(body: str) -> _Result:
    if not body:
        raise NotANumber("empty")
    reading = _Reading()
    with localcontext(_EXACT):
        for token in _tokens(body):
            reading.take(token)
        return _Result(reading.finish(), reading.has_big_unit)


def _tokens(body: str) -> Iterator[_Token]:
    for match in _TOKEN.finditer(body):
        kind, lexeme = match.lastgroup, match.group()
        if kind == "arabic":
            yield _Num(_arabic(lexeme), lone_digit=len(lexeme) == 1)
        elif kind == "chinese":
            yield _Num(_chinese(lexeme), lone_digit=len(lexeme) == 1)
        elif kind == "unit":
            yield _Unit(_UNITS[lexeme])
        else:
            raise NotANumber(f"unexpected {lexeme!r} in {body[:20]!r}")


def _arabic(lexeme: str) -> Decimal:
    """ "1,234.5" → 1234.5; the commas must group by thousands ("1,2" is refused)."""
    whole, _, _ = lexeme.partition(".")
    head, *groups = whole.split(",")
    if groups and not (1 <= len(head) <= 3 and all(len(group) == 3 for group in groups)):
        raise NotANumber(f"misplaced thousands separator in {lexeme!r}")
    return Decimal(lexeme.replace(",", ""))


def _chinese(lexeme: str) -> Decimal:
    """ "三" → 3, "三点一四" → 3.14: a digit, then digit by digit after 点."""
    whole, _, fraction = lexeme.partition("点")
    digits = str(_DIGITS[whole])
    if fraction:
        digits += "." + "".join(str(_DIGITS[char]) for char in fraction)
    return Decimal(digits)


class _Reading:
    """One left-to-right pass that combines tokens as the number is read aloud.

    `done` holds what has already been multiplied by 万 or 亿, `section` the part below 万
    being built from 千百十, and `pending` a number still waiting to learn its unit. Units must
    come in falling order within a section; each of 万 and 亿 closes one. The colloquial
    "两千三" (2300), "三万五" (35000) is a lone digit right after a unit, and stands for the
    next lower place.
    """

    def __init__(self) -> None:
        self.done = Decimal(0)
        self.section = Decimal(0)
        self.pending: _Num | None = None
        self.unit_before_pending: int | None = None
        self.previous: _Token | None = None
        self.ceiling: int | None = None  # a number or small unit from here on must be below
        self.wan_open = True
        self.yi_open = True
        self.has_big_unit = False

    def take(self, token: _Token) -> None:
        if isinstance(token, _Num):
            self._number(token)
        elif token.value >= _WAN:
            self._big_unit(token.value)
        else:
            self._small_unit(token.value)
        self.previous = token

    def finish(self) -> Decimal:
        return self.done + self.section + self._settle(at_end=True)

    def _number(self, token: _Num) -> None:
        if self.pending is not None and self.pending.value != 0:
            raise NotANumber("two numbers in a row")  # "三五" is "three or five", not 35
        self.pending = token
        previous = self.previous
        self.unit_before_pending = previous.value if isinstance(previous, _Unit) else None

    def _small_unit(self, unit: int) -> None:
        """十百千: multiply the pending digit ("三百"); 十 alone is ten ("十二")."""
        if self.ceiling is not None and unit >= self.ceiling:
            raise NotANumber("units out of order")
        if self.pending is None:
            if unit != 10:
                raise NotANumber("a unit without its number")
            coefficient = Decimal(1)
        else:
            coefficient = self.pending.value
        if not 0 < coefficient < 10:
            raise NotANumber("a unit needs a digit from 1 to 9")
        self.section += coefficient * unit
        self.pending = None
        self.ceiling = unit

    def _big_unit(self, unit: int) -> None:
        """万 multiplies its section ("一千二百万"); 亿 everything before it ("一万亿")."""
        previous = self.previous
        if previous is None or (isinstance(previous, _Unit) and previous.value >= unit):
            raise NotANumber("a unit without its number")
        part = self.section + self._settle(at_end=False)
        if unit == _WAN:
            if not self.wan_open:
                raise NotANumber("万 twice")
            self.done += part * _WAN
            self.wan_open = False
        else:
            if not self.yi_open:
                raise NotANumber("亿 twice")
            self.done = (self.done + part) * _YI
            self.yi_open, self.wan_open = False, True
        self.section = Decimal(0)
        self.ceiling = _WAN
        self.has_big_unit = True

    def _settle(self, *, at_end: bool) -> Decimal:
        """The value of the pending number, now that no unit of its own follows."""
        pending, after = self.pending, self.unit_before_pending
        self.pending = None
        if pending is None:
            return Decimal(0)
        if pending.lone_digit and after is not None and (at_end or after < _WAN):
            return pending.value * (after // 10)
        if self.ceiling is not None and pending.value >= self.ceiling:
            raise NotANumber("a number too big for its place")
        return pending.value
