"""Excel in the chat, for the HQ office (dispatchers): `/template` sends the import workbook,
an .xlsx sent to the bot is imported (all or nothing), `/export [from] [to]` sends the period's
reports, problems, letters and ranking for the dispatcher's regions.

openpyxl and the exporter (which brings the monthly ranking, and with it matplotlib) are
imported when a command needs them, so building the router stays cheap.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from pathlib import PurePath

from domain.dates import NotADate, parse_date
from domain.events import Attachment, ChatKind, Outgoing
from domain.model import RoleKind
from domain.scope import project_scope
from handlers.context import Context

logger = logging.getLogger(__name__)

MAX_ERRORS_SHOWN = 20
MAX_DAYS = 366
SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".csv", ".et"})
SPREADSHEET_TYPES = frozenset({
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel", "text/csv"})


def _refusal(ctx: Context) -> list[Outgoing]:
    logger.info("refused Excel to person %s: not a dispatcher", ctx.person.id)
    return [Outgoing(text=ctx.t("excel.chat.dispatchers_only"), refusal=True)]


def _is_dispatcher(ctx: Context) -> bool:
    return ctx.person.has_role(RoleKind.DISPATCHER)


async def _region_ids(ctx: Context) -> frozenset[int]:
    async with ctx.uow() as uow:
        regions = await uow.places.regions()
    return project_scope(ctx.person, regions).region_ids


def _range(ctx: Context) -> tuple[date, date] | None:
    """`/export` → this month so far; `/export 3-1` → from then to today; two dates → both."""
    words = ctx.event.args.split()
    today = ctx.today
    if len(words) > 2:
        return None
    try:
        days = [parse_date(word, today) for word in words]
    except NotADate:
        return None
    start = days[0] if days else today.replace(day=1)
    end = days[1] if len(days) == 2 else today
    return start, end


async def export(ctx: Context) -> list[Outgoing]:
    if not _is_dispatcher(ctx):
        return _refusal(ctx)
    found = _range(ctx)
    if found is None:
        return [Outgoing(text=ctx.t("excel.chat.export_usage"))]
    start, end = found
    if end < start:
        return [Outgoing(text=ctx.t("excel.chat.bad_range", start=ctx.t.full_date(start),
                                    end=ctx.t.full_date(end)))]
    if end - start >= timedelta(days=MAX_DAYS):
        return [Outgoing(text=ctx.t("excel.chat.range_too_long", days=MAX_DAYS))]
    from spreadsheets.exporter import export_data, render_export  # noqa: PLC0415 - see the module docstring

    language = ctx.t.language
    data = await export_data(ctx.uow, start=start, end=end, region_ids=await _region_ids(ctx),
                             language=language, clock=ctx.clock)
    document = await asyncio.to_thread(render_export, data, language)
    logger.info("exported %s to %s for person %s: %s reports", start, end, ctx.person.id,
                len(data.reports))
    text = ctx.t("excel.chat.exported", scope=data.scope_name, start=ctx.t.full_date(start),
                 end=ctx.t.full_date(end), reports=len(data.reports),
                 problems=len(data.problems), letters=len(data.letters))
    return [Outgoing(text=text, document=document,
                     document_name=f"fieldbot-{start.isoformat()}-{end.isoformat()}.xlsx")]


async def template(ctx: Context) -> list[Outgoing]:
    if not _is_dispatcher(ctx):
        return _refusal(ctx)
    from spreadsheets.template import template_workbook  # noqa: PLC0415 - openpyxl only when asked

    document = await asyncio.to_thread(template_workbook, ctx.t.language)
    return [Outgoing(text=ctx.t("excel.chat.template"), document=document,
                     document_name=ctx.t("excel.template_file"))]


def spreadsheet(attachments: tuple[Attachment, ...]) -> Attachment | None:
    """The first attachment that is meant as a spreadsheet (by its name or its type)."""
    for attachment in attachments:
        suffix = PurePath(attachment.filename).suffix.lower()
        if suffix in SPREADSHEET_SUFFIXES or attachment.mime_type in SPREADSHEET_TYPES:
            return attachment
    return None


async def import_upload(ctx: Context) -> list[Outgoing] | None:
    """An .xlsx sent in a private chat, imported all or nothing; None for any other event.

    Files that are spreadsheets of another kind (.xls, .csv) are taken too, so that the
    importer can say to save them as .xlsx rather than a photo question refusing them.
    """
    attachment = spreadsheet(ctx.event.attachments)
    if attachment is None or ctx.event.chat_kind is not ChatKind.PRIVATE:
        return None
    if not _is_dispatcher(ctx):
        return _refusal(ctx)
    from spreadsheets.importer import import_workbook, result_lines  # noqa: PLC0415 - see above

    result = await import_workbook(ctx.uow, attachment.path, clock=ctx.clock,
                                   language=ctx.t.language, region_ids=await _region_ids(ctx),
                                   actor_id=ctx.person.id)
    logger.info("import from person %s (%s): %s projects, %s people, %s refused cells",
                ctx.person.id, attachment.filename, result.counts.projects,
                result.counts.people, len(result.errors))
    return [Outgoing(text="\n".join(result_lines(ctx.t, result, limit=MAX_ERRORS_SHOWN)))]
