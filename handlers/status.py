"""`/status <name | code | alias | pinyin>`: one project's card, or a choice when several match
(the lookup index in `handlers.lookup` finds them)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from domain.events import Button, Outgoing
from domain.model import ProjectStatus, ProjectSummary
from domain.scope import project_scope
from handlers.cards import status_card
from handlers.context import Context, Texts
from handlers.lookup import MAX_QUERY
from handlers.progress_chart import CHART_WORD, progress_chart, wants_chart
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

MAX_CHOICES = 8


def _choices(t: Texts, projects: tuple[ProjectSummary, ...]) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(t("status.choice", name=p.name, code=p.code), f"/status {p.code}"),)
                 for p in projects[:MAX_CHOICES])


async def _status_of(uow: UnitOfWork, project: ProjectSummary) -> ProjectStatus:
    reports = await uow.reports.latest([project.id])
    problems = await uow.problems.open_for([project.id])
    visits = await uow.visits.latest([project.id])
    return ProjectStatus(project, reports.get(project.id), tuple(problems), visits.get(project.id))


async def _card(ctx: Context, uow: UnitOfWork, found: ProjectStatus) -> Outgoing:
    """The card, with the last report's first photo and a button for the progress chart."""
    project, report = found.project, found.last_report
    photo = None
    if report is not None and report.photo_count and ctx.photo_files is not None:
        relative = await uow.reports.first_photo(project.id, report.report_date)
        if relative is not None:
            photo = await _read(ctx.photo_files.path(relative))
    buttons: tuple[tuple[Button, ...], ...] = ()
    if ctx.charts is not None:
        buttons = ((Button(ctx.t("status.chart_button"), f"/status {project.code} {CHART_WORD}"),),)
    return Outgoing(text=status_card(ctx.t, found), image=photo,
                    image_name=f"{project.code}.jpg", buttons=buttons)


async def _read(path: Path) -> bytes | None:
    try:
        return await asyncio.to_thread(path.read_bytes)
    except OSError:  # a photo store restored without its files: the card still answers
        logger.warning("status: photo %s could not be read", path.name)
        return None


async def _chart(ctx: Context, uow: UnitOfWork, project: ProjectSummary) -> list[Outgoing]:
    rows = await uow.reports.trend(project.id, ctx.today.replace(month=1, day=1))
    if not rows:
        return [Outgoing(text=ctx.t("status.no_chart"))]
    charts = ctx.charts
    if charts is None or not await asyncio.to_thread(lambda: charts.available):
        return [Outgoing(text=ctx.t("status.chart_unavailable"))]
    image = await asyncio.to_thread(progress_chart, charts, ctx.t, project, rows)
    return [Outgoing(text=ctx.t("chart.progress_title", name=project.name, code=project.code),
                     image=image, image_name=f"{project.code}-progress.png")]


async def status(ctx: Context) -> list[Outgoing]:
    query, chart = wants_chart(ctx.event.args.strip()[:MAX_QUERY])
    if not query:
        return [Outgoing(text=ctx.t("status.usage"))]
    async with ctx.uow() as uow:
        scope = project_scope(ctx.person, await uow.places.regions())
        result = await ctx.projects.lookup(uow, query, scope, ctx.today.year, shown=MAX_CHOICES)
        if len(result.matches) == 1 and not result.more:
            project = result.matches[0]
            if chart:
                return await _chart(ctx, uow, project)
            return [await _card(ctx, uow, await _status_of(uow, project))]
    if result.matches:
        text = ctx.t("status.pick", count=len(result.matches) + result.more)
        if result.more:
            text += "\n" + ctx.t("status.refine", shown=MAX_CHOICES)
        return [Outgoing(text=text, buttons=_choices(ctx.t, result.matches))]
    text = ctx.t("status.not_found", query=query)
    if result.suggestions:
        return [Outgoing(text=text + "\n" + ctx.t("status.closest"),
                         buttons=_choices(ctx.t, result.suggestions))]
    return [Outgoing(text=text)]
