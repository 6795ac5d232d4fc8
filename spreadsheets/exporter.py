"""`export_workbook`: a date range's reports, problems, letters and the ranking, in the layout
an HQ office prints.

Each sheet has a title row (the region and the dates), a frozen header row repeated on every
printed page, dates as real Excel dates, money in 万元 and rates as numbers with formats (so
they sum and sort), landscape A4 fitted to the width. The workbook is written in openpyxl's
streaming mode, in a worker thread: a month of a big county's daily reports is 150,000 rows.

The ranking is the monthly review's (reminders/rhythms/monthly.py): units, and counties when
there are several, by year-to-date investment completion and start rate, as of the range's end
(or today, if it ends later), computed by the same `standings` over the same figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from bot.i18n import Translator, translator
from domain.clock import Clock, SystemClock, local_today
from domain.figures import Standing, standings
from domain.model import ProblemState, Region
from reminders.rhythms.monthly import counties
from spreadsheets.layout import (
    DATE_FORMAT,
    HEADER_FONT,
    INTEGER_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    TITLE_FONT,
    WRAP,
    print_setup,
    set_widths,
    style_header,
)
from storage.repositories.exports import LetterLine, ProblemLine, ReportLine
from storage.uow import UnitOfWork

HUNDRED = Decimal(100)
LEVEL_FORMAT = '"L"0'
DONE_STATES = frozenset({ProblemState.RESOLVED, ProblemState.CLOSED})


@dataclass(frozen=True)
class ExportData:
    start: date
    end: date
    today: date
    zone: ZoneInfo
    scope_name: str
    reports: Sequence[ReportLine]
    problems: Sequence[ProblemLine]
    letters: Sequence[LetterLine]
    ranking_as_of: date
    by_county: Sequence[Standing]
    by_unit: Sequence[Standing]


async def export_workbook(uow: Callable[[], UnitOfWork], *, start: date, end: date,
                          region_ids: frozenset[int] | None, language: str,
                          clock: Clock | None = None) -> bytes:
    """The workbook for `start`..`end` (both included) over the projects of `region_ids`
    (None: everywhere). Give the regions below too, as `domain.scope.descendants` and
    `project_scope` do: a county's export includes its towns' projects that way."""
    data = await export_data(uow, start=start, end=end, region_ids=region_ids,
                             language=language, clock=clock)
    return await asyncio.to_thread(render_export, data, language)


def _scope_name(t: Translator, regions: Sequence[Region], region_ids: frozenset[int] | None,
                ) -> str:
    if region_ids is None:
        return t("excel.scope.all")
    tops = [r.name for r in regions if r.id in region_ids and r.parent_id not in region_ids]
    return t("format.list_separator").join(tops) or t("excel.scope.none")


async def export_data(uow: Callable[[], UnitOfWork], *, start: date, end: date,
                      region_ids: frozenset[int] | None, language: str,
                      clock: Clock | None = None) -> ExportData:
    clock = clock or SystemClock(ZoneInfo("Asia/Shanghai"))
    zone, today = clock.zone, local_today(clock)
    start_at = datetime.combine(start, time(), tzinfo=zone)
    end_at = datetime.combine(end + timedelta(days=1), time(), tzinfo=zone)
    as_of = min(end, today)
    async with uow() as u:
        regions = await u.places.regions()
        reports = await u.exports.reports(start, end, region_ids)
        problems = await u.exports.problems(start_at, end_at, region_ids)
        letters = await u.exports.letters(start_at, end_at, region_ids)
        figures = await u.figures.projects(as_of, since=as_of.replace(day=1))
    mine = [p for p in figures if region_ids is None or p.region_id in region_ids]
    county_of = counties(regions)
    by_county = standings(mine, by=lambda p: (county_of[p.region_id].id,
                                              county_of[p.region_id].name), as_of=as_of)
    by_unit = standings(mine, by=lambda p: (p.unit_id, p.unit_name), as_of=as_of)
    return ExportData(start, end, today, zone, _scope_name(translator(language), regions,
                                                           region_ids),
                      reports, problems, letters, as_of, by_county, by_unit)


def render_export(data: ExportData, language: str) -> bytes:
    t = translator(language)
    book = Workbook(write_only=True)
    period = {"scope": data.scope_name, "start": t.full_date(data.start),
              "end": t.full_date(data.end)}
    _table(book, t, "reports", t("excel.title.reports", **period), _report_rows(t, data))
    _table(book, t, "problems", t("excel.title.problems", **period), _problem_rows(t, data))
    _table(book, t, "letters", t("excel.title.letters", **period), _letter_rows(t, data))
    _table(book, t, "ranking", t("excel.title.ranking", scope=data.scope_name,
                                 as_of=t.full_date(data.ranking_as_of)), _ranking_rows(t, data))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


# ---- the sheets' columns: (field, width, number format or None) -------------------------------

REPORTS = (("date", 11, DATE_FORMAT), ("code", 11, None), ("project", 30, None),
           ("region", 10, None), ("unit", 16, None), ("reporter", 9, None), ("status", 8, None),
           ("stop_reason", 14, None), ("progress", 9, PERCENT_FORMAT), ("work", 36, None),
           ("workers", 8, INTEGER_FORMAT), ("ytd", 13, MONEY_FORMAT), ("photos", 7, None))
PROBLEMS = (("number", 13, None), ("code", 11, None), ("project", 26, None),
            ("category", 9, None), ("description", 36, None), ("urgent", 6, None),
            ("state", 8, None), ("level", 6, LEVEL_FORMAT), ("unit", 16, None),
            ("created", 11, DATE_FORMAT), ("deadline", 11, DATE_FORMAT),
            ("resolved", 11, DATE_FORMAT), ("closed", 11, DATE_FORMAT),
            ("days", 8, INTEGER_FORMAT), ("overdue", 6, None))
LETTERS = (("number", 22, None), ("kind", 9, None), ("code", 11, None), ("project", 30, None),
           ("unit", 18, None), ("issued", 11, DATE_FORMAT), ("signed", 11, DATE_FORMAT),
           ("signer", 9, None), ("state", 9, None))
RANKING = (("rank", 6, None), ("name", 24, None), ("projects", 8, INTEGER_FORMAT),
           ("plan", 14, MONEY_FORMAT), ("done", 14, MONEY_FORMAT), ("rate", 10, PERCENT_FORMAT),
           ("due", 8, INTEGER_FORMAT), ("started", 8, INTEGER_FORMAT),
           ("start_rate", 10, PERCENT_FORMAT))
COLUMNS = {"reports": REPORTS, "problems": PROBLEMS, "letters": LETTERS, "ranking": RANKING}
WRAPPED = frozenset({"work", "description"})


def _table(book: Workbook, t: Translator, name: str, title: str,
           rows: Iterable[list[Any]]) -> None:
    """One sheet: title, header, rows; cells formatted by their column."""
    columns = COLUMNS[name]
    sheet = book.create_sheet(t(f"excel.sheet.{name}"))
    set_widths(sheet, [width for _, width, _ in columns])
    sheet.freeze_panes = "A3"
    print_setup(sheet, t, header_row=2)
    heading = WriteOnlyCell(sheet, value=title)
    heading.font = TITLE_FONT
    sheet.append([heading])
    sheet.append([style_header(WriteOnlyCell(sheet, value=t(f"excel.col.{name}.{field}")))
                  for field, _, _ in columns])
    count = 0
    for values in rows:
        sheet.append([_cell(sheet, value, columns[i]) for i, value in enumerate(values)])
        count += 1
    if count == 0:
        sheet.append([t("excel.none")])
    sheet.auto_filter.ref = f"A2:{_letter(len(columns))}{count + 2}"


def _letter(index: int) -> str:
    return str(get_column_letter(index))


@dataclass(frozen=True, slots=True)
class Heading:
    """A section's name inside a table (按责任单位), in bold."""

    text: str


def _cell(sheet: Any, value: Any, column: tuple[str, int, str | None]) -> Any:
    field, _, number_format = column
    if isinstance(value, Heading):
        heading = WriteOnlyCell(sheet, value=value.text)
        heading.font = HEADER_FONT
        return heading
    if value is None or (number_format is None and field not in WRAPPED):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if number_format is not None:
        cell.number_format = number_format
    if field in WRAPPED:
        cell.alignment = WRAP
    return cell


def _share(points: Decimal | None) -> Decimal | None:
    """A percentage in points (35.6) as Excel keeps a percentage (0.356)."""
    return None if points is None else points / HUNDRED


def _local(at: datetime | None, zone: ZoneInfo) -> date | None:
    return None if at is None else at.astimezone(zone).date()


def _report_rows(t: Translator, data: ExportData) -> Iterable[list[Any]]:
    for r in data.reports:
        yield [r.report_date, r.code, r.project, r.region, r.unit, r.reporter,
               t(f"site.{r.site_status.value}"), r.stop_reason, _share(r.progress_pct),
               r.work_done, r.workers, r.ytd_investment, r.photos]


def _problem_rows(t: Translator, data: ExportData) -> Iterable[list[Any]]:
    yes = t("excel.yes")
    for p in data.problems:
        created = _local(p.created_at, data.zone) or data.today
        finished = _local(p.closed_at or p.resolved_at, data.zone)
        open_now = p.state not in DONE_STATES
        yield [p.number, p.code, p.project, t(f"problem.{p.category.value}"), p.description,
               yes if p.urgent else None, t(f"problem_state.{p.state.value}"), p.level,
               p.unit, created, p.deadline, _local(p.resolved_at, data.zone),
               _local(p.closed_at, data.zone), ((finished or data.today) - created).days,
               yes if open_now and p.deadline < data.today else None]


def _letter_rows(t: Translator, data: ExportData) -> Iterable[list[Any]]:
    for letter in data.letters:
        kind = t(f"letters.kind.{letter.kind.value}")
        state = ("closed" if letter.closed_at else
                 "acknowledged" if letter.acknowledged_at else "pending")
        yield [t("letters.number", kind=kind, year=str(letter.year), seq=str(letter.seq)),
               kind, letter.code, letter.project, letter.unit,
               _local(letter.issued_at, data.zone), _local(letter.acknowledged_at, data.zone),
               letter.signer, t(f"excel.letter_state.{state}")]


def _ranking_rows(t: Translator, data: ExportData) -> Iterable[list[Any]]:
    sections = [("excel.ranking.by_unit", data.by_unit)]
    if len(data.by_county) > 1:
        sections.insert(0, ("excel.ranking.by_county", data.by_county))
    for key, rows in sections:
        yield [None, Heading(t(key))]
        for rank, s in enumerate(rows, start=1):
            yield [rank, s.name, s.projects, s.plan, s.done, _share(s.rate), s.starts_due,
                   s.started, _share(s.start_rate)]
