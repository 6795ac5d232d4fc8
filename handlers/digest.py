"""`/digest` ("今天的汇总"): today's summary so far, for what the asker may see — the daily
summary the HQ groups get at 21:30, plus the year's problem figures."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from domain.events import Outgoing
from domain.problems import figures_of
from domain.scope import project_scope
from handlers.context import Context
from handlers.problems import figures_text
from reminders.rhythms.daily import summary_text


async def digest(ctx: Context) -> list[Outgoing]:
    day, zone = ctx.today, ctx.clock.zone
    start = datetime.combine(day, time(), tzinfo=zone)
    async with ctx.uow() as uow:
        scope = project_scope(ctx.person, await uow.places.regions())
        visible = await uow.projects.visible_ids(scope)
        projects = [p for p in await uow.figures.projects(day, since=day) if p.id in visible]
        created = await uow.figures.problems_created(start, start + timedelta(days=1))
        tallies = await uow.problems.tallies(
            scope, datetime.combine(day.replace(month=1, day=1), time(), tzinfo=zone), day)
    if not projects:
        return [Outgoing(text=ctx.t("ranking.none"))]
    owing = [p for p in projects if p.under_construction
             and ctx.calendar.reports_due(day, works_rest_days=p.works_rest_days)]
    text = summary_text(ctx.t, day, owing=owing, everything=projects, new_problems=created)
    figures = figures_text(ctx.t, figures_of(tallies.values()))
    return [Outgoing(text=f"{text}\n{ctx.t('digest.problems_year')}\n{figures}")]
