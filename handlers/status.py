"""`/status <name | code | alias>`: one project's card, or a choice when several match."""

from __future__ import annotations

from domain.events import Button, Outgoing
from domain.model import ProjectStatus, ProjectSummary
from domain.scope import project_scope
from handlers.cards import status_card
from handlers.context import Context, Texts
from handlers.lookup import find_projects
from storage.uow import UnitOfWork

MAX_CHOICES = 8
MAX_QUERY = 100


def _choices(t: Texts, projects: tuple[ProjectSummary, ...]) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(t("status.choice", name=p.name, code=p.code), f"/status {p.code}"),)
                 for p in projects[:MAX_CHOICES])


async def _status_of(uow: UnitOfWork, project: ProjectSummary) -> ProjectStatus:
    reports = await uow.reports.latest([project.id])
    problems = await uow.problems.open_for([project.id])
    visits = await uow.visits.latest([project.id])
    return ProjectStatus(project, reports.get(project.id), tuple(problems), visits.get(project.id))


async def status(ctx: Context) -> list[Outgoing]:
    query = ctx.event.args.strip()[:MAX_QUERY]
    if not query:
        return [Outgoing(text=ctx.t("status.usage"))]
    year = ctx.today.year
    async with ctx.uow() as uow:
        scope = project_scope(ctx.person, await uow.places.regions())
        result = find_projects(query, await uow.projects.visible(scope, year))
        if len(result.matches) == 1:
            return [Outgoing(text=status_card(ctx.t, await _status_of(uow, result.matches[0])))]
    if result.matches:
        text = ctx.t("status.pick", count=len(result.matches))
        if len(result.matches) > MAX_CHOICES:
            text += "\n" + ctx.t("status.refine", shown=MAX_CHOICES)
        return [Outgoing(text=text, buttons=_choices(ctx.t, result.matches))]
    text = ctx.t("status.not_found", query=query)
    if result.suggestions:
        return [Outgoing(text=text + "\n" + ctx.t("status.closest"),
                         buttons=_choices(ctx.t, result.suggestions))]
    return [Outgoing(text=text)]
