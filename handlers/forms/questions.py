"""Forms as data: the kinds of question, and how a typed answer becomes a stored value.

A question never talks to the database: it reads text into a JSON-ready value or raises
`Invalid` with the catalogue key that tells the person what is expected. Buttons, photos and
locations are turned into values by the engine, which knows the draft.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.dates import NotADate, parse_date
from domain.numbers import NotANumber, NotAWholeNumber, parse_count, parse_money_wan, parse_percent

Answers = Mapping[str, Any]
WORDS = re.compile(r"\w")
YES = frozenset({"是", "是的", "对", "有", "好", "确认", "确定", "要", "yes", "y", "ok"})
NO = frozenset({"否", "不", "不是", "没有", "无", "没", "不要", "no", "n"})
SKIP = frozenset({"跳过", "略", "无", "没有", "skip", "none", "-"})
DONE = frozenset({"完成", "好了", "结束", "没了", "done", "ok", "finish"})
OLDEST_DATE = timedelta(days=60)


class Kind(enum.StrEnum):
    CHOICE = "choice"
    MULTI = "multi"
    NUMBER = "number"
    TEXT = "text"
    PHOTOS = "photos"
    LOCATION = "location"
    DATE = "date"
    YES_NO = "yes_no"


class Unit(enum.StrEnum):
    """What a number question holds, which decides how typed text is read."""

    PERCENT = "percent"
    COUNT = "count"
    MONEY_WAN = "money_wan"


class Invalid(Exception):
    """The answer does not fit; `key` and `values` make the message the person reads."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str
    literal: bool = False  # the label is text (a project name), not a catalogue key


def always(_: Answers) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    kind: Kind
    required: bool | Callable[[Answers], bool] = True
    when: Callable[[Answers], bool] = always
    choices: tuple[Choice, ...] = ()
    unit: Unit | None = None
    minimum: Decimal = Decimal(0)
    maximum: Decimal | None = None
    min_length: int = 1
    max_length: int = 1000
    min_photos: int | Callable[[Answers], int] = 0
    max_photos: int = 9

    @property
    def prompt(self) -> str:
        return f"q.{self.key}"

    @property
    def label(self) -> str:
        return f"label.{self.key}"

    def is_required(self, answers: Answers) -> bool:
        return self.required(answers) if callable(self.required) else self.required

    def photos_needed(self, answers: Answers) -> int:
        return self.min_photos(answers) if callable(self.min_photos) else self.min_photos


def read_text(question: Question, text: str, today: date) -> Any:
    """The value of a typed answer, or `Invalid` saying what was expected."""
    text = text.strip()
    if question.kind is Kind.TEXT:
        return _text(question, text)
    if question.kind is Kind.NUMBER:
        return _number(question, text)
    if question.kind is Kind.DATE:
        return _date(text, today)
    if question.kind is Kind.YES_NO:
        return _yes_no(text)
    if question.kind is Kind.LOCATION:
        raise Invalid("form.location_expected")
    if question.kind is Kind.PHOTOS:
        raise Invalid("form.photos_expected")
    raise Invalid("form.choice_expected")


def is_skip(text: str) -> bool:
    return text.strip().casefold() in SKIP


def is_done(text: str) -> bool:
    return text.strip().casefold() in DONE


def _text(question: Question, text: str) -> str:
    if not text:
        raise Invalid("form.text_empty")
    if len(text) > question.max_length:
        raise Invalid("form.text_too_long", max=question.max_length, length=len(text))
    if not WORDS.search(text):
        raise Invalid("form.text_no_words")
    if len(text) < question.min_length:
        raise Invalid("form.text_too_short", min=question.min_length)
    return text


def _number(question: Question, text: str) -> str | int:
    if len(text) > 40:
        raise Invalid(f"form.number_invalid.{question.unit}")
    try:
        value: Decimal | int
        if question.unit is Unit.PERCENT:
            value = parse_percent(text)
        elif question.unit is Unit.MONEY_WAN:
            value = parse_money_wan(text)
        else:
            value = parse_count(text)
    except NotAWholeNumber:
        raise Invalid("form.number_whole") from None
    except NotANumber:
        raise Invalid(f"form.number_invalid.{question.unit}") from None
    if value < 0:
        raise Invalid("form.number_negative")
    if value < question.minimum or (question.maximum is not None and value > question.maximum):
        raise Invalid(f"form.number_range.{question.unit}", min=question.minimum,
                      max=question.maximum)
    return value if isinstance(value, int) else str(value)


def _date(text: str, today: date) -> str:
    try:
        value = parse_date(text, today)
    except NotADate:
        raise Invalid("form.date_invalid") from None
    if value > today:
        raise Invalid("form.date_future")
    if value < today - OLDEST_DATE:
        raise Invalid("form.date_too_old", days=OLDEST_DATE.days)
    return value.isoformat()


def read_yes_no(text: str) -> bool | None:
    """Yes or no as typed (是, 否, yes, n …); None when it is neither."""
    folded = text.strip().casefold()
    return True if folded in YES else False if folded in NO else None


def _yes_no(text: str) -> bool:
    if (answer := read_yes_no(text)) is None:
        raise Invalid("form.yes_no_expected")
    return answer
