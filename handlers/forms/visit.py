"""`/visit`: a lead leader's visit to a project (每周必访) — when, whom they met, what was
raised and what was solved on the spot, with photos."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from domain.events import Outgoing
from domain.model import RoleKind
from handlers.context import Context
from handlers.forms.problem import attached
from handlers.forms.projects import PROJECT, ProjectForm
from handlers.forms.questions import Kind, Question
from handlers.forms.spec import Refusal, State, Submitted
from storage.uow import UnitOfWork


class VisitForm(ProjectForm):
    name = "visit"
    questions = (
        PROJECT,
        Question("visit_date", Kind.DATE),
        Question("met", Kind.TEXT, min_length=2, max_length=1000),
        Question("raised", Kind.TEXT, required=False, max_length=1000),
        Question("solved", Kind.TEXT, required=False, max_length=1000),
        Question("photos", Kind.PHOTOS, min_photos=0, max_photos=9),
    )

    async def begin(self, ctx: Context, uow: UnitOfWork, args: str,
                    preset: Mapping[str, Any]) -> State:
        if not ctx.person.has_role(RoleKind.LEADER):
            raise Refusal("visit.leaders_only")
        return await super().begin(ctx, uow, args, preset)

    async def submit(self, ctx: Context, uow: UnitOfWork, state: State) -> Submitted:
        a = state.answers
        now = ctx.clock.now()
        visit_date = date.fromisoformat(a["visit_date"])
        visit_id = await uow.visits.add(
            int(a["project"]), ctx.person.id, visit_date, a["met"], now,
            problems_raised=a.get("raised") or "", solved_on_spot=a.get("solved") or "",
            photos=attached(a))
        await uow.audit.record(now, ctx.person.id, "visit", visit_id, action="create",
                               before=None, after={"project_id": int(a["project"]),
                                                   "visit_date": a["visit_date"]})
        return Submitted([Outgoing(text=ctx.t(
            "visit.saved", project=state.context["project_name"],
            date=ctx.t.short_date(visit_date)))], {"visit_id": visit_id})
