"""`/problem`: a problem on site (问题), numbered P-YYYY-NNNN and assigned to the project's unit.

Filed on its own or from inside a daily report (the report's "any problem?" opens this form
and takes the number back). The unit and the lead leader hear of it through the outbox, in
the same transaction that files it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.events import Outgoing
from domain.model import ProblemCategory
from handlers.context import Context, Texts
from handlers.forms.projects import PROJECT, ProjectForm
from handlers.forms.questions import Choice, Kind, Question
from handlers.forms.spec import Refusal, State, Submitted
from handlers.notify import notify, unit_and_leader
from storage.repositories.attachments import AttachedPhoto
from storage.repositories.problems import NewProblem
from storage.uow import UnitOfWork

CATEGORIES = tuple(Choice(c.value, f"problem.{c.value}") for c in ProblemCategory)


def attached(answers: Mapping[str, Any]) -> list[AttachedPhoto]:
    return [AttachedPhoto(p["id"], tuple(p["flags"])) for p in answers.get("photos") or []]


class ProblemForm(ProjectForm):
    name = "problem"
    questions = (
        PROJECT,
        Question("category", Kind.CHOICE, choices=CATEGORIES),
        Question("description", Kind.TEXT, min_length=5, max_length=1000),
        Question("photos", Kind.PHOTOS, min_photos=0, max_photos=9),
        Question("urgent", Kind.YES_NO),
    )

    async def submit(self, ctx: Context, uow: UnitOfWork, state: State) -> Submitted:
        a = state.answers
        site = await uow.projects.site(int(a["project"]))
        if site is None:
            raise Refusal("form.project_gone")
        deadline = ctx.deadlines.from_day(ctx.today, urgent=bool(a["urgent"]))
        problem = await uow.problems.open(NewProblem(
            project_id=site.id, category=ProblemCategory(a["category"]),
            description=a["description"], urgent=bool(a["urgent"]), reporter_id=ctx.person.id,
            assignee_unit_id=site.unit_id, deadline=deadline, photos=attached(a)),
            ctx.clock.now(), ctx.today.year)
        unit = await uow.places.unit(site.unit_id)
        unit_name = unit.name if unit else ""

        def message(t: Texts) -> str:
            return t("problem.notify", number=problem.number, project=site.name,
                     category=t(f"problem.{problem.category.value}"),
                     description=problem.description, reporter=ctx.person.name,
                     deadline=t.short_date(deadline),
                     urgent=t("problem.urgent_mark") if problem.urgent else "")

        await notify(ctx, uow, await unit_and_leader(uow, site.unit_id, site.lead_leader_id),
                     kind="problem.filed", period=problem.number, subject="", render=message)
        text = ctx.t("problem.filed", number=problem.number, unit=unit_name,
                     deadline=ctx.t.short_date(deadline))
        return Submitted([Outgoing(text=text)], {
            "problem_id": problem.id, "number": problem.number,
            "note": ctx.t("problem.filed_note", number=problem.number)})
