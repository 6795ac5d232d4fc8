"""The project question every field form starts with: buttons for the person's projects,
skipped when there is only one, and `/report HB-001` choosing one up front."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.model import ProjectSummary
from handlers.context import Context
from handlers.forms.questions import Choice, Kind, Question
from handlers.forms.spec import FormSpec, Refusal, State
from handlers.lookup import find_projects
from handlers.projects import own_projects
from storage.uow import UnitOfWork

PROJECT = Question("project", Kind.CHOICE)


def new_state(form: str, ctx: Context, projects: Sequence[ProjectSummary], args: str,
              preset: Mapping[str, Any]) -> State:
    """A state offering `projects`; one named in `args` or `preset` is chosen already."""
    options = [[str(p.id), f"{p.name}（{p.code}）"] for p in projects]
    state = State(form, "", "", {}, {"options": options}, ctx.clock.now())
    wanted = preset.get("project_id")
    if wanted is None and args.strip():
        found = find_projects(args, projects)
        if len(found.matches) != 1:
            raise Refusal("form.project_not_yours", query=args.strip()[:40])
        wanted = found.matches[0].id
    if wanted is not None:
        if str(wanted) not in {value for value, _ in options}:
            raise Refusal("form.project_not_yours", query=args.strip()[:40] or str(wanted))
        state.answers["project"] = str(wanted)
        state.context["auto"] = ["project"]
    return state


def project_choices(state: State) -> tuple[Choice, ...]:
    return tuple(Choice(value, label, literal=True) for value, label in state.context["options"])


async def load_site(uow: UnitOfWork, state: State) -> int:
    """Remember the chosen project's name and site (for photo checks); returns its id."""
    project_id = int(state.answers["project"])
    site = await uow.projects.site(project_id)
    if site is None:
        raise Refusal("form.project_gone")
    state.context["project_id"] = project_id
    state.context["project_name"] = site.name
    state.context["site"] = (None if site.lat is None or site.lon is None
                             else [site.lat, site.lon, float(site.radius_m)])
    return project_id


class ProjectForm(FormSpec):
    """A form that starts with the project question (the shared part of the field forms)."""

    async def projects(self, ctx: Context, uow: UnitOfWork) -> list[ProjectSummary]:
        """The projects this form offers the person."""
        return await own_projects(ctx, uow)

    async def begin(self, ctx: Context, uow: UnitOfWork, args: str,
                    preset: Mapping[str, Any]) -> State:
        projects = await self.projects(ctx, uow)
        if not projects:
            raise Refusal("report.no_projects")
        return new_state(self.name, ctx, projects, args, preset)

    async def choices(self, ctx: Context, uow: UnitOfWork, question: Question,
                      state: State) -> tuple[Choice, ...]:
        return project_choices(state) if question.key == "project" else question.choices

    async def answered(self, ctx: Context, uow: UnitOfWork, question: Question,
                       state: State) -> None:
        if question.key == "project":
            await load_site(uow, state)
