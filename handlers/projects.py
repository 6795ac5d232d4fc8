"""Which projects a person works on: those they liaise for or lead, else those in their scope."""

from __future__ import annotations

from domain.model import ProjectSummary
from domain.scope import project_scope
from handlers.context import Context
from storage.uow import UnitOfWork


async def own_projects(ctx: Context, uow: UnitOfWork) -> list[ProjectSummary]:
    year = ctx.today.year
    projects = await uow.projects.of_liaison(ctx.person.id, year)
    known = {p.id for p in projects}
    projects += [p for p in await uow.projects.led_by(ctx.person.id, year) if p.id not in known]
    if not projects:
        scope = project_scope(ctx.person, await uow.places.regions())
        projects = await uow.projects.visible(scope, year)
    return projects
