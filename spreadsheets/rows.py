"""Reading one row's cells by their columns' kinds, and finding the places and people they name.

Every problem is recorded against its cell (项目!F12) and reading goes on, so a clerk gets the
whole list at once instead of one mistake per upload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from bot.i18n import Translator
from spreadsheets.cells import (
    CellProblem,
    Raw,
    clean_text,
    read_choice,
    read_date,
    read_decimal,
    read_integer,
    read_key,
    read_list,
    read_money,
    read_phone,
    read_text,
)
from spreadsheets.columns import Column, Kind, SheetSpec, example_value
from spreadsheets.reading import CellError, Sheet
from spreadsheets.vocabulary import closest, every_language, normal
from storage.repositories.imports import PersonRef, ProjectRef

_READERS: dict[Kind, Any] = {
    Kind.TEXT: read_text, Kind.KEY: read_key, Kind.LIST: read_list, Kind.PHONE: read_phone,
    Kind.MONEY: read_money, Kind.DECIMAL: read_decimal, Kind.INTEGER: read_integer,
}


class Place(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...


P = TypeVar("P", bound=Place)


@dataclass(frozen=True)
class Reference:
    """What is stored already, that a workbook's rows may name."""

    places: Mapping[str, Places[Any]]  # "region", "unit"
    people: Mapping[str, PersonRef]  # by key
    projects: Mapping[str, ProjectRef]  # by code
    unit_regions: Mapping[int, int]  # unit id → its region id
    scope: frozenset[int] | None = None  # the regions the importer may touch; None: all


class Places(Generic[P]):
    """Regions or units, found by code or by name (a name shared by two needs the code)."""

    def __init__(self, kind: str, items: Sequence[P]) -> None:
        self.kind = kind
        self._by_code = {normal(item.code): item for item in items}
        self._by_name: dict[str, list[P]] = {}
        for item in items:
            self._by_name.setdefault(normal(item.name), []).append(item)
        self._names = [item.name for item in items]

    def find(self, text: str) -> P:
        key = normal(text)
        if key in self._by_code:
            return self._by_code[key]
        named = self._by_name.get(key, [])
        if len(named) == 1:
            return named[0]
        if named:
            raise CellProblem(f"excel.ambiguous_{self.kind}", value=text,
                              codes="、".join(item.code for item in named))
        near = closest(text, self._names, cutoff=0.6)
        if near is not None:
            raise CellProblem(f"excel.no_{self.kind}_suggest", value=text, suggestion=near)
        raise CellProblem(f"excel.no_{self.kind}", value=text)


class Row:
    """One data row of a sheet: typed values by field, and the errors of its cells."""

    def __init__(self, sheet: Sheet, number: int, values: tuple[Raw, ...], t: Translator,
                 epoch: datetime) -> None:
        self.sheet, self.number, self.values, self.t, self.epoch = sheet, number, values, t, epoch
        self.errors: list[CellError] = []

    @property
    def ok(self) -> bool:
        return not self.errors

    def in_order(self) -> list[CellError]:
        """The row's errors left to right, as the clerk reads the row."""
        return sorted(self.errors, key=lambda e: (len(e.column or ""), e.column or ""))

    def fail(self, field: str | None, message: str, /, **values: object) -> None:
        """Record `message` (a catalogue key) against the field's cell, or the row."""
        column = self.sheet.letter(field) if field in self.sheet.columns else None
        self.errors.append(CellError(self.sheet.title, self.number, column,
                                     self.t(message, **values)))

    def raw(self, field: str) -> Raw:
        return self.sheet.value(self.values, field)

    def get(self, column: Column) -> Any:
        """The cell read as its column's kind; None (and an error) when it cannot be."""
        if column.field not in self.sheet.columns:
            return None
        raw = self.raw(column.field)
        try:
            value = self._read(column, raw)
        except CellProblem as problem:
            self.fail(column.field, problem.key, **problem.values)
            return None
        if value in (None, "", ()):
            ref = f"{self.sheet.letter(column.field)}{self.number}"
            if ref in self.sheet.uncached_formulas:
                self.fail(column.field, "excel.formula_no_value")
            elif column.required:
                self.fail(column.field, "excel.required")
            return None
        return value

    def _read(self, column: Column, raw: Raw) -> Any:
        if column.kind is Kind.DATE:
            return read_date(raw, self.epoch)
        if column.kind is Kind.CHOICE and column.vocabulary is not None:
            return read_choice(raw, column.vocabulary, column.vocabulary.all_labels(self.t))
        return _READERS[column.kind](raw, column)

    def read_all(self, spec: SheetSpec) -> dict[str, Any]:
        return {column.field: self.get(column) for column in spec.columns}

    def find(self, field: str, places: Places[P], text: str | None) -> P | None:
        if not text:
            return None
        try:
            return places.find(text)
        except CellProblem as problem:
            self.fail(field, problem.key, **problem.values)
            return None

    def in_scope(self, field: str, region_id: int | None, scope: frozenset[int] | None,
                 shown: str) -> None:
        if scope is not None and region_id is not None and region_id not in scope:
            self.fail(field, "excel.out_of_scope", value=shown)


def is_example(sheet: Sheet, values: tuple[Raw, ...]) -> bool:
    """The template's example row, left as it was: skipped rather than imported."""
    cells = {column.field: normal(clean_text(sheet.value(values, column.field)))
             for column in sheet.spec.columns}
    for t in every_language():
        example = {column.field: normal(clean_text(example_value(t, column)))
                   for column in sheet.spec.columns}
        if cells == example:
            return True
    return False
