"""From a checked workbook to each import sheet's header and rows, with header problems.

A sheet is found by its name in either language. Its header row is the first of the first ten
non-blank rows that names at least two known columns, so a title row above it (a merged
"2026年汉滨区重点项目清单") is allowed; columns may come in any order, and unknown ones (备注)
are ignored unless one looks like a misspelt known header, which is refused rather than
silently dropped with its data. Blank rows (trailing ones, spacer rows) are skipped.

Merged cells below the title are refused, with their range: a merged 责任单位 spanning five
projects holds its value in the first row only, so reading the top-left value would leave four
projects without a unit, and filling it down would guess what the clerk meant.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from bot.i18n import Translator
from spreadsheets.cells import Raw, clean_text
from spreadsheets.columns import SHEETS, Column, SheetSpec
from spreadsheets.package import (
    Limits,
    SheetMarks,
    Unreadable,
    open_package,
    scan_sheet,
    sheet_parts,
)
from spreadsheets.vocabulary import closest, every_language, normal

HEADER_SEARCH_ROWS = 10
MIN_HEADER_MATCHES = 2
_RANGE = re.compile(r"([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?")


@dataclass(frozen=True, slots=True)
class CellError:
    """A refused cell (or row, or header, or sheet), as a clerk finds it: 项目!F12."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    @property
    def ref(self) -> str:
        if self.row is None:
            return self.sheet
        if self.column is None:
            return f"{self.sheet}!{self.row}:{self.row}"
        return f"{self.sheet}!{self.column}{self.row}"


@dataclass
class Sheet:
    """One import sheet as read: its header's columns, its data rows, what is wrong with it."""

    spec: SheetSpec
    title: str
    header_row: int = 0
    columns: dict[str, int] = field(default_factory=dict)  # field → 0-based column index
    rows: list[tuple[int, tuple[Raw, ...]]] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    uncached_formulas: frozenset[str] = frozenset()

    def letter(self, field_name: str) -> str:
        return str(get_column_letter(self.columns[field_name] + 1))

    def value(self, values: tuple[Raw, ...], field_name: str) -> Raw:
        index = self.columns.get(field_name)
        return values[index] if index is not None and index < len(values) else None


@dataclass
class Upload:
    """The import sheets found in an uploaded workbook, as read."""

    sheets: dict[str, Sheet]  # by spec name; only the sheets present
    epoch: datetime
    errors: list[CellError] = field(default_factory=list)  # about the workbook as a whole


def _titles(spec: SheetSpec) -> set[str]:
    return {normal(spec.title(t)) for t in every_language()} | {normal(spec.name)}


def _headers(spec: SheetSpec) -> dict[str, Column]:
    found = {normal(column.field): column for column in spec.columns}
    for t in every_language():
        found.update({normal(spec.header(t, column)): column for column in spec.columns})
    return found


def read_workbook(data: bytes, t: Translator, limits: Limits) -> Upload:
    """Every import sheet present in the upload; raises `Unreadable` for a file refused whole."""
    archive = open_package(data, limits)
    parts = sheet_parts(archive)
    try:
        book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError, zlib.error) as exc:
        raise Unreadable("excel.damaged") from exc
    try:
        found: dict[str, Sheet] = {}
        for spec in SHEETS:
            titles = _titles(spec)
            title = next((name for name in book.sheetnames if normal(name) in titles), None)
            if title is not None:
                marks = scan_sheet(archive, parts[title]) if title in parts else SheetMarks()
                found[spec.name] = _read_sheet(spec, title, book[title], marks, t)
        workbook = Upload(found, book.epoch)
        workbook.errors += _sheet_name_errors(t, list(book.sheetnames), found)
        return workbook
    except (zipfile.BadZipFile, OSError, EOFError, ParseError, zlib.error) as exc:
        raise Unreadable("excel.damaged") from exc
    finally:
        book.close()


def _sheet_name_errors(t: Translator, present: list[str], found: dict[str, Sheet],
                       ) -> list[CellError]:
    """A sheet named almost like a missing import sheet (项目表 for 项目) is refused rather
    than skipped with its rows; no import sheet at all is refused too."""
    ours = {normal(t("excel.sheet.help")) for t in every_language()}
    ours |= {normal(sheet.title) for sheet in found.values()}
    others = [name for name in present if normal(name) not in ours]
    errors = []
    for spec in SHEETS:
        if spec.name in found:
            continue
        names = [spec.title(lang) for lang in every_language()]
        near = next((name for name in others if closest(name, names, cutoff=0.6)), None)
        if near is not None:
            errors.append(CellError(near, None, None, t("excel.sheet_suggest", found=near,
                                                        name=spec.title(t))))
    if not found and not errors:
        wanted = "、".join(spec.title(t) for spec in SHEETS)
        errors.append(CellError(t("excel.workbook"), None, None,
                                t("excel.no_sheets", wanted=wanted, found="、".join(present))))
    return errors


def _blank(values: tuple[Any, ...]) -> bool:
    return all(clean_text(v) == "" for v in values)


def _rows(worksheet: Any) -> Iterator[tuple[int, tuple[Raw, ...]]]:
    """Non-blank rows with their Excel numbers; the sheet's own claimed size is not trusted."""
    worksheet.reset_dimensions()
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if not _blank(values):
            yield number, tuple(values)


def _read_sheet(spec: SheetSpec, title: str, worksheet: Any, marks: SheetMarks,
                t: Translator) -> Sheet:
    sheet = Sheet(spec, title, uncached_formulas=marks.uncached_formulas)
    rows = _rows(worksheet)
    known = _headers(spec)
    searched: list[tuple[int, tuple[Raw, ...]]] = []
    for number, values in rows:
        searched.append((number, values))
        matches = sum(normal(clean_text(v)) in known for v in values)
        if matches >= MIN_HEADER_MATCHES or len(searched) == HEADER_SEARCH_ROWS:
            break
    if not searched:
        return sheet  # an empty sheet: nothing to import from it
    header = next(((n, v) for n, v in searched
                   if sum(normal(clean_text(x)) in known for x in v) >= MIN_HEADER_MATCHES),
                  searched[0])
    sheet.header_row = header[0]
    _map_headers(sheet, header[1], known, t)
    sheet.errors += _merged_errors(sheet, marks.merged, t)
    later = [(n, v) for n, v in searched if n > sheet.header_row]
    sheet.rows = [*later, *rows]
    return sheet


def _map_headers(sheet: Sheet, values: tuple[Raw, ...], known: dict[str, Column],
                 t: Translator) -> None:
    spec, row = sheet.spec, sheet.header_row
    unknown: dict[str, int] = {}
    for index, value in enumerate(values):
        text = clean_text(value)
        column = known.get(normal(text))
        if column is None:
            if text:
                unknown[text] = index
        elif column.field in sheet.columns:
            sheet.errors.append(CellError(sheet.title, row, get_column_letter(index + 1),
                                          t("excel.duplicate_header", header=text)))
        else:
            sheet.columns[column.field] = index
    for column in spec.columns:
        if column.field in sheet.columns:
            continue
        names = [spec.header(lang, column) for lang in every_language()]
        near = next((text for text in unknown if closest(text, names, cutoff=0.6)), None)
        header = spec.header(t, column)
        if near is not None:
            sheet.errors.append(CellError(sheet.title, row, get_column_letter(unknown[near] + 1),
                                          t("excel.misspelt_header", found=near, header=header)))
        elif column.required:
            near = next((text for text in unknown if closest(text, names, cutoff=0.4)), None)
            message = (t("excel.missing_header_suggest", header=header, found=near) if near
                       else t("excel.missing_header", header=header))
            sheet.errors.append(CellError(sheet.title, row, None, message))


def _merged_errors(sheet: Sheet, ranges: tuple[str, ...], t: Translator) -> list[CellError]:
    """Merges in the header or the data refuse the sheet; a merged title above is fine."""
    errors = []
    for merged in ranges:
        match = _RANGE.fullmatch(merged)
        if match is None:
            continue
        first_column, first_row, _, last_row = match.groups()
        if int(last_row or first_row) < sheet.header_row:
            continue
        errors.append(CellError(sheet.title, int(first_row), first_column,
                                t("excel.merged", range=merged)))
    return errors
