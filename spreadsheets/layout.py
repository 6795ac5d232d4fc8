"""How fieldbot's workbooks look: the header style, number formats and print setup they share.

An HQ office prints these sheets for meetings: landscape A4, every column on the page width,
the title and header rows repeated on each page, page numbers in the footer.
"""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from bot.i18n import Translator

DATE_FORMAT = "yyyy-mm-dd"
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.0%"
INTEGER_FORMAT = "#,##0"
TEXT_FORMAT = "@"
A4 = 9  # the paper size code of the OOXML standard

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
TITLE_FONT = Font(bold=True, size=14)
EXAMPLE_FONT = Font(italic=True, color="808080")
WRAP = Alignment(vertical="top", wrap_text=True)
_THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def style_header(cell: Any) -> Any:
    cell.font = HEADER_FONT
    cell.fill = HEADER_FILL
    cell.alignment = HEADER_ALIGNMENT
    cell.border = BORDER
    return cell


def set_widths(worksheet: Any, widths: list[float]) -> None:
    for index, width in enumerate(widths, start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = width


def print_setup(worksheet: Any, t: Translator, *, header_row: int) -> None:
    """Landscape A4, fit to the page width (as many pages long as needed), the rows down to the
    header repeated on every page, 第 1 页，共 3 页 in the footer."""
    worksheet.page_setup.orientation = "landscape"
    worksheet.page_setup.paperSize = A4
    worksheet.page_setup.fitToWidth = 1
    worksheet.page_setup.fitToHeight = 0
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    worksheet.print_title_rows = f"1:{header_row}"
    worksheet.print_options.horizontalCentered = True
    worksheet.page_margins.left = worksheet.page_margins.right = 0.4
    worksheet.oddFooter.center.text = t("excel.footer")
