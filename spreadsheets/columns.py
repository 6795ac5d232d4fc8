"""The import workbook's sheets and columns: what the template writes and the importer reads.

Headers, help lines and sheet names are message keys (`excel.col.projects.code`,
`excel.help.projects.code`, `excel.sheet.projects`), so the template is written in the clerk's
language and either language's headers are understood.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.i18n import Translator
from domain.model import Category, ProjectLevel, RoleKind, Stage
from spreadsheets.vocabulary import (
    CATEGORIES,
    LANGUAGE_CHOICES,
    LEVELS,
    ROLES,
    STAGES,
    YES,
    YES_NO,
    Vocabulary,
)

MAX_WAN = Decimal(10_000_000)  # 1000亿元: more is a figure typed in 元 into a 万元 column


class Kind(enum.Enum):
    TEXT = "text"
    KEY = "key"  # a login key: letters, digits, _ . - @
    LIST = "list"  # several short texts separated by 、 , ， ; ；
    CHOICE = "choice"
    MONEY = "money"  # 万元
    DATE = "date"
    DECIMAL = "decimal"
    INTEGER = "integer"
    PHONE = "phone"


@dataclass(frozen=True)
class Column:
    field: str
    kind: Kind
    required: bool = False
    width: float = 14
    max_length: int = 100
    vocabulary: Vocabulary | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    example: str | date | Decimal | None = None
    """The template's example row; a choice's example is its value, shown as its label."""


@dataclass(frozen=True)
class SheetSpec:
    name: str  # projects, people, assignments
    columns: tuple[Column, ...]

    def title(self, t: Translator) -> str:
        return t(f"excel.sheet.{self.name}")

    def header(self, t: Translator, column: Column) -> str:
        return t(f"excel.col.{self.name}.{column.field}")

    def help(self, t: Translator, column: Column) -> str:
        return t(f"excel.help.{self.name}.{column.field}")

    def column(self, field: str) -> Column:
        return next(c for c in self.columns if c.field == field)


def _choice(field: str, vocabulary: Vocabulary, example: str, *, required: bool = False,
            width: float = 12) -> Column:
    return Column(field, Kind.CHOICE, required=required, width=width, vocabulary=vocabulary,
                  example=example)


def _money(field: str, example: str, *, required: bool = False) -> Column:
    return Column(field, Kind.MONEY, required=required, width=16, low=Decimal(0), high=MAX_WAN,
                  example=Decimal(example))


PROJECTS = SheetSpec("projects", (
    Column("code", Kind.TEXT, required=True, width=12, max_length=32, example="HB-101"),
    Column("name", Kind.TEXT, required=True, width=36, max_length=200,
           example="汉滨区富硒茶精深加工产业园"),
    Column("aliases", Kind.LIST, width=20, max_length=100, example="富硒茶园、茶产业园"),
    Column("region", Kind.TEXT, required=True, width=12, example="汉滨区"),
    Column("unit", Kind.TEXT, required=True, width=18, example="汉滨区工信局"),
    _choice("level", LEVELS, ProjectLevel.COUNTY, required=True),
    Column("chain", Kind.TEXT, width=14, max_length=64, example="富硒食品"),
    _choice("category", CATEGORIES, Category.INDUSTRIAL, required=True),
    _choice("stage", STAGES, Stage.CONSTRUCTION, required=True),
    _money("total_investment", "35000", required=True),
    _money("annual_plan", "12000"),
    Column("planned_start", Kind.DATE, width=13, example=date(2026, 3, 1)),
    Column("planned_end", Kind.DATE, width=13, example=date(2027, 12, 31)),
    Column("actual_start", Kind.DATE, width=13, example=date(2026, 3, 18)),
    Column("actual_end", Kind.DATE, width=13),
    Column("lat", Kind.DECIMAL, width=11, low=Decimal(-90), high=Decimal(90),
           example=Decimal("32.6853")),
    Column("lon", Kind.DECIMAL, width=11, low=Decimal(-180), high=Decimal(180),
           example=Decimal("109.0293")),
    Column("radius", Kind.INTEGER, width=11, low=Decimal(10), high=Decimal(100_000),
           example=Decimal(1000)),
    _choice("rest_days", YES_NO, YES, width=11),
))

PEOPLE = SheetSpec("people", (
    Column("key", Kind.KEY, required=True, width=18, max_length=64, example="liaison_chen"),
    Column("name", Kind.TEXT, required=True, width=10, max_length=64, example="陈静"),
    Column("title", Kind.TEXT, width=22, max_length=100, example="富硒茶产业园项目联络员"),
    Column("phone", Kind.PHONE, width=15, max_length=32, example="13800000000"),
    Column("unit", Kind.TEXT, width=18, example="汉滨区工信局"),
    _choice("language", LANGUAGE_CHOICES, "zh-CN", width=10),
))

ASSIGNMENTS = SheetSpec("assignments", (
    Column("person", Kind.TEXT, required=True, width=18, max_length=64, example="liaison_chen"),
    _choice("role", ROLES, RoleKind.LIAISON, required=True),
    Column("project", Kind.TEXT, width=12, max_length=32, example="HB-101"),
    Column("region", Kind.TEXT, width=12),
    Column("unit", Kind.TEXT, width=18),
))

SHEETS = (PROJECTS, PEOPLE, ASSIGNMENTS)


def example_value(t: Translator, column: Column) -> str | date | Decimal | None:
    """The example row's cell as the template writes it: a choice by its label."""
    if column.vocabulary is not None and isinstance(column.example, str):
        return column.vocabulary.label(t, column.example)
    return column.example
