"""`/ranking [month|quarter]` ("本月排名"): the monthly ranking or the quarter's standing so far,
for the projects the asker may see: the same text the monthly and quarterly reviews post."""

from __future__ import annotations

from domain.events import Outgoing
from domain.periods import month_of, quarter_of
from domain.scope import project_scope
from handlers.context import Context
from reminders.rhythms.monthly import FACTOR_CATEGORIES, counties, month_text
from reminders.rhythms.quarterly import quarter_facts, quarter_text

PERIODS = {"": "month", "month": "month", "月": "month", "本月": "month",
           "quarter": "quarter", "季": "quarter", "季度": "quarter", "本季度": "quarter"}


async def ranking(ctx: Context) -> list[Outgoing]:
    which = PERIODS.get(ctx.event.args.strip().casefold())
    if which is None:
        return [Outgoing(text=ctx.t("ranking.usage"))]
    day = ctx.today
    period = month_of(day) if which == "month" else quarter_of(day)
    async with ctx.uow() as uow:
        regions = await uow.places.regions()
        visible = await uow.projects.visible_ids(project_scope(ctx.person, regions))
        projects = [p for p in await uow.figures.projects(day, since=period.start)
                    if p.id in visible]
        problems = ([p for p in await uow.figures.open_problems(FACTOR_CATEGORIES)
                     if p.project_id in visible] if which == "month" else [])
    if not projects:
        return [Outgoing(text=ctx.t("ranking.none"))]
    head = ctx.t("ranking.so_far", day=ctx.t.short_date(day))
    if which == "month":
        body = month_text(ctx.t, day, projects, county_of=counties(regions), problems=problems)
    else:
        body = quarter_text(ctx.t, period, quarter_facts(projects, period))
    return [Outgoing(text=f"{body}\n{head}")]
