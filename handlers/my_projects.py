"""`/my`: the projects a person works on, with stage and last report."""

from __future__ import annotations

from domain.events import Outgoing
from handlers.cards import project_line
from handlers.context import Context
from handlers.projects import own_projects

MAX_LINES = 20


async def my_projects(ctx: Context) -> list[Outgoing]:
    async with ctx.uow() as uow:
        projects = await own_projects(ctx, uow)
        reports = await uow.reports.latest([p.id for p in projects[:MAX_LINES]])
    if not projects:
        return [Outgoing(text=ctx.t("my.none"))]
    lines = [ctx.t("my.header", count=len(projects))]
    lines += [project_line(ctx.t, i, p, reports.get(p.id))
              for i, p in enumerate(projects[:MAX_LINES], start=1)]
    if len(projects) > MAX_LINES:
        lines.append(ctx.t("my.more", count=len(projects) - MAX_LINES))
    return [Outgoing(text="\n".join(lines))]
