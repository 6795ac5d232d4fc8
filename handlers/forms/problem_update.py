"""`/update P-2026-0042`: the assigned unit reports progress on a problem or its resolution.

A resolution needs photo evidence; the reporter and the lead leader hear of it so that the
reporter (or a dispatcher) can close it (销号) — that step belongs to the problem loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.events import Button, Outgoing
from domain.model import Person, ProblemState, ProblemView, RoleKind
from domain.problems import OPEN_STATES
from domain.scope import project_scope
from handlers.context import Context, Texts
from handlers.forms.problem import attached
from handlers.forms.questions import Answers, Choice, Kind, Question
from handlers.forms.spec import FormSpec, Refusal, State, Submitted
from handlers.notify import notify, unit_and_leader
from storage.repositories.problems import ProblemUpdate
from storage.uow import UnitOfWork

RESOLVED = "resolved"
PROGRESS = "progress"
MAX_CHOICES = 8


def resolving(answers: Answers) -> int:
    return 1 if answers.get("outcome") == RESOLVED else 0


def unit_ids(person: Person) -> set[int]:
    units = {r.unit_id for r in person.roles if r.kind is RoleKind.UNIT and r.unit_id}
    return units | ({person.unit_id} if person.unit_id else set())


class ProblemUpdateForm(FormSpec):
    name = "update"
    questions = (
        Question("outcome", Kind.CHOICE, choices=(Choice(PROGRESS, "update.progress"),
                                                  Choice(RESOLVED, "update.resolved"))),
        Question("note", Kind.TEXT, min_length=2, max_length=1000),
        Question("photos", Kind.PHOTOS, min_photos=resolving, max_photos=9),
    )

    async def begin(self, ctx: Context, uow: UnitOfWork, args: str,
                    preset: Mapping[str, Any]) -> State:
        number = args.strip().upper()
        if not number:
            raise await self._pick(ctx, uow)
        problem = await uow.problems.by_number(number[:16])
        if problem is None or not await self._may_update(ctx, uow, problem):
            raise Refusal("update.not_found", number=number[:16])
        if problem.state not in OPEN_STATES:
            raise Refusal("update.not_open", number=problem.number,
                          state=ctx.t(f"problem_state.{problem.state.value}"))
        site = await uow.projects.site(problem.project_id)
        return State(self.name, "", "", {}, {
            "problem_id": problem.id, "number": problem.number,
            "project_name": f"{problem.number} {site.name if site else ''}"},
            ctx.clock.now())

    async def _pick(self, ctx: Context, uow: UnitOfWork) -> Refusal:
        problems = await uow.problems.assigned_to(sorted(unit_ids(ctx.person)))
        if not problems:
            return Refusal("update.usage")
        buttons = tuple((Button(f"{p.number} {p.description[:16]}", f"/update {p.number}"),)
                        for p in problems[:MAX_CHOICES])
        return Refusal("update.pick", buttons=buttons, count=len(problems))

    async def _may_update(self, ctx: Context, uow: UnitOfWork, problem: ProblemView) -> bool:
        """The assigned unit may; so may a dispatcher over the project's region."""
        if problem.assignee_unit_id in unit_ids(ctx.person):
            return True
        if not ctx.person.has_role(RoleKind.DISPATCHER):
            return False
        site = await uow.projects.site(problem.project_id)
        scope = project_scope(ctx.person, await uow.places.regions())
        return site is not None and site.region_id in scope.region_ids

    async def submit(self, ctx: Context, uow: UnitOfWork, state: State) -> Submitted:
        a = state.answers
        outcome = a["outcome"]
        to_state = ProblemState.RESOLVED if outcome == RESOLVED else ProblemState.IN_PROGRESS
        problem, event_id = await uow.problems.record_update(ProblemUpdate(
            problem_id=state.context["problem_id"], actor_id=ctx.person.id, kind=outcome,
            to_state=to_state, note=a["note"], photos=attached(a)), ctx.clock.now())
        site = await uow.projects.site(problem.project_id)
        reporter = await uow.people.get(problem.reporter_id) if problem.reporter_id else None
        leader = [] if site is None else await unit_and_leader(uow, None, site.lead_leader_id)

        def message(t: Texts) -> str:
            return t(f"update.notify_{outcome}", number=problem.number,
                     project=site.name if site else "", unit_person=ctx.person.name,
                     note=a["note"])

        def buttons(t: Texts) -> tuple[tuple[Button, ...], ...]:
            if outcome != RESOLVED:
                return ()
            return ((Button(t("problems.close_button", number=problem.number),
                            f"/close {problem.number}"),
                     Button(t("problems.reopen_button"), f"/reopen {problem.number}")),)

        # The reporter may close (销号) or reopen it; the lead leader is told.
        await notify(ctx, uow, [reporter] if reporter else [], kind=f"problem.{outcome}",
                     period=problem.number, subject=str(event_id), render=message,
                     buttons=buttons)
        await notify(ctx, uow, [p for p in leader if not reporter or p.id != reporter.id],
                     kind=f"problem.{outcome}", period=problem.number, subject=str(event_id),
                     render=message)
        return Submitted([Outgoing(text=ctx.t(f"update.saved_{outcome}",
                                              number=problem.number))],
                         {"problem_id": problem.id})
