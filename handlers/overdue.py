"""`/overdue` ("今天谁没报"): the projects in the asker's scope that owe today's report and have
not sent it, with the liaisons to call, and how many problems are past their deadline."""

from __future__ import annotations

from domain.events import Button, Outgoing
from domain.figures import ProjectFigures
from domain.problems import OPEN_STATES
from domain.scope import project_scope
from handlers.context import Context

MAX_LINES = 20
MAX_NAMES = 3


async def overdue(ctx: Context) -> list[Outgoing]:
    day, t = ctx.today, ctx.t
    async with ctx.uow() as uow:
        scope = project_scope(ctx.person, await uow.places.regions())
        visible = await uow.projects.visible_ids(scope)
        owing = [p for p in await uow.figures.projects(day, since=day)
                 if p.id in visible and p.under_construction
                 and ctx.calendar.reports_due(day, works_rest_days=p.works_rest_days)]
        missing = [p for p in owing if not p.reported_on(day)]
        liaisons = await uow.figures.liaisons(p.id for p in missing[:MAX_LINES])
        people = await uow.people.by_ids({i for ids in liaisons.values() for i in ids})
        _, late = await uow.problems.listing(scope=scope, states=OPEN_STATES,
                                                    overdue_on=day, limit=0)
    if not owing:
        lines = [t("overdue.nothing_owed", day=t.short_date(day))]
    elif not missing:
        lines = [t("overdue.all_reported", day=t.short_date(day), count=len(owing))]
    else:
        lines = [t("overdue.title", day=t.short_date(day), missing=len(missing),
                   owing=len(owing))]
        for p in missing[:MAX_LINES]:
            who = t("format.list_separator").join(
                people[i].name for i in liaisons.get(p.id, ())[:MAX_NAMES] if i in people)
            lines.append(_line(ctx, p, who or t("rhythm.no_liaison")))
        if len(missing) > MAX_LINES:
            lines.append(t("rhythm.more", count=len(missing) - MAX_LINES))
    buttons: tuple[tuple[Button, ...], ...] = ()
    if late:
        lines.append(t("overdue.problems", count=late))
        buttons = ((Button(t("overdue.problems_button"), "/problems open"),),)
    return [Outgoing(text="\n".join(lines), buttons=buttons)]


def _line(ctx: Context, project: ProjectFigures, liaisons: str) -> str:
    t = ctx.t
    last = t.short_date(project.last_report) if project.last_report else t("overdue.never")
    return t("overdue.line", code=project.code, name=project.name, liaisons=liaisons, last=last)
