"""`template_workbook`: the import workbook a county fills in — 项目, 人员, 分工 and 说明.

Each sheet has its header row frozen, one grey example row (left as it is, it is skipped on
import), widths that fit the usual content, drop-down lists where the column has choices, and
code, key and phone columns formatted as text so Excel keeps leading zeros and long numbers.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from bot.i18n import Translator, translator
from spreadsheets.columns import SHEETS, Column, Kind, SheetSpec, example_value
from spreadsheets.layout import (
    DATE_FORMAT,
    EXAMPLE_FONT,
    MONEY_FORMAT,
    TEXT_FORMAT,
    TITLE_FONT,
    WRAP,
    set_widths,
    style_header,
)
from spreadsheets.vocabulary import Vocabulary

VALIDATED_ROWS = 20_000  # drop-down lists reach this far down
_FORMATS = {Kind.DATE: DATE_FORMAT, Kind.MONEY: MONEY_FORMAT, Kind.KEY: TEXT_FORMAT,
            Kind.PHONE: TEXT_FORMAT}


def template_workbook(language: str) -> bytes:
    t = translator(language)
    book = Workbook()
    first = book.active
    book.remove(first)
    for spec in SHEETS:
        _sheet(book.create_sheet(spec.title(t)), spec, t)
    _help_sheet(book.create_sheet(t("excel.sheet.help")), t)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _format(column: Column) -> str | None:
    if column.field in ("code", "project"):
        return TEXT_FORMAT  # "001" stays "001"
    return _FORMATS.get(column.kind)


def _sheet(worksheet: Any, spec: SheetSpec, t: Translator) -> None:
    for index, column in enumerate(spec.columns, start=1):
        style_header(worksheet.cell(row=1, column=index, value=spec.header(t, column)))
        example = worksheet.cell(row=2, column=index, value=example_value(t, column))
        example.font = EXAMPLE_FONT
        number_format = _format(column)
        if number_format is not None:
            example.number_format = number_format
            worksheet.column_dimensions[get_column_letter(index)].number_format = number_format
        if column.vocabulary is not None:
            _drop_down(worksheet, index, column.vocabulary, t)
    set_widths(worksheet, [column.width for column in spec.columns])
    worksheet.row_dimensions[1].height = 30
    worksheet.freeze_panes = "A2"


def _drop_down(worksheet: Any, index: int, vocabulary: Vocabulary, t: Translator) -> None:
    labels = ",".join(vocabulary.all_labels(t))
    validation = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=True,
                                showErrorMessage=True, errorStyle="warning",
                                errorTitle=t("excel.template.choice_title"),
                                error=t("excel.template.choice_error", choices=labels))
    letter = get_column_letter(index)
    validation.add(f"{letter}2:{letter}{VALIDATED_ROWS}")
    worksheet.add_data_validation(validation)


def _help_sheet(worksheet: Any, t: Translator) -> None:
    worksheet.cell(row=1, column=1, value=t("excel.help.title")).font = TITLE_FONT
    row = 2
    for line in t("excel.help.intro").split("\n"):
        worksheet.cell(row=row, column=1, value=line)
        row += 1
    row += 1
    headers = ("excel.help.col_sheet", "excel.help.col_column", "excel.help.col_required",
               "excel.help.col_notes")
    for index, key in enumerate(headers, start=1):
        style_header(worksheet.cell(row=row, column=index, value=t(key)))
    for spec in SHEETS:
        for column in spec.columns:
            row += 1
            required = t("excel.help.required" if column.required else "excel.help.optional")
            values = (spec.title(t), spec.header(t, column), required, spec.help(t, column))
            for index, value in enumerate(values, start=1):
                cell = worksheet.cell(row=row, column=index, value=value)
                cell.alignment = WRAP
                if index == 3 and column.required:
                    cell.font = Font(bold=True)
    set_widths(worksheet, [12, 22, 8, 90])
