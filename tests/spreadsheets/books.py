"""Workbooks as a clerk makes them: the template filled in with openpyxl, then mangled."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from io import BytesIO
from typing import Any

from openpyxl import Workbook, load_workbook

from spreadsheets.template import template_workbook

Rows = Sequence[Mapping[str, Any]]


def filled(sheets: Mapping[str, Rows], *, language: str = "zh-CN",
           keep_examples: bool = True) -> bytes:
    """The template with `rows` (by header text) added under each sheet's example row."""
    book = load_workbook(BytesIO(template_workbook(language)))
    for title, rows in sheets.items():
        sheet = book[title]
        headers = {cell.value: cell.column for cell in sheet[1]}
        if not keep_examples:
            sheet.delete_rows(2)
        start = sheet.max_row + 1
        for offset, row in enumerate(rows):
            for header, value in row.items():
                sheet.cell(row=start + offset, column=headers[header], value=value)
    return save(book)


def save(book: Workbook) -> bytes:
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def edit(data: bytes, change: Callable[[Workbook], None]) -> bytes:
    book = load_workbook(BytesIO(data))
    change(book)
    return save(book)


def rewrite_part(data: bytes, part: str, change: Callable[[str], str]) -> bytes:
    """The workbook with one XML part rewritten, as another program might have saved it."""
    source = zipfile.ZipFile(BytesIO(data))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == part:
                content = change(content.decode("utf-8")).encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


def with_formula(data: bytes, sheet_index: int, ref: str, formula: str,
                 cached: str | None) -> bytes:
    """Cell `ref` turned into a formula, with Excel's cached result (or none, as openpyxl and
    some exporters leave it)."""
    value = f"<v>{cached}</v>" if cached is not None else ""

    def change(xml: str) -> str:
        cell = re.compile(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)')
        return cell.sub(f'<c r="{ref}"><f>{formula}</f>{value}</c>', xml, count=1)

    return rewrite_part(data, f"xl/worksheets/sheet{sheet_index}.xml", change)
