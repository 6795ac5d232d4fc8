"""`/reopen P-2026-0042`: the reporter (or a dispatcher) finds a problem not really solved.

It goes back to the unit (交办) with a fresh deadline and the reason in its history; the unit
and the lead leader hear of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.events import Button, Outgoing
from domain.problems import may_reopen
from handlers.context import Context, Texts
from handlers.forms.questions import Kind, Question
from handlers.forms.spec import FormSpec, Refusal, State, Submitted
from handlers.notify import notify, unit_and_leader
from handlers.problems import NUMBER_LENGTH, find_visible, may_decide
from storage.uow import UnitOfWork


class ReopenForm(FormSpec):
    name = "reopen"
    questions = (Question("reopen_reason", Kind.TEXT, min_length=2, max_length=500),)

    async def begin(self, ctx: Context, uow: UnitOfWork, args: str,
                    preset: Mapping[str, Any]) -> State:
        number = args.strip().split(" ", 1)[0][:NUMBER_LENGTH]
        if not number:
            raise Refusal("reopen.usage")
        problem = await find_visible(ctx, uow, number)
        if problem is None:
            raise Refusal("problems.not_found", number=number)
        if not await may_decide(uow, ctx.person, problem):
            raise Refusal("close.not_allowed", number=problem.number)
        if not may_reopen(problem.state):
            raise Refusal("reopen.still_open", number=problem.number,
                          state=ctx.t(f"problem_state.{problem.state.value}"))
        site = await uow.projects.site(problem.project_id)
        return State(self.name, "", "", {}, {
            "problem_id": problem.id, "number": problem.number, "urgent": problem.urgent,
            "project_name": f"{problem.number} {site.name if site else ''}"},
            ctx.clock.now())

    async def submit(self, ctx: Context, uow: UnitOfWork, state: State) -> Submitted:
        reason = state.answers["reopen_reason"]
        deadline = ctx.deadlines.from_day(ctx.today, urgent=bool(state.context["urgent"]))
        reopened = await uow.problems.reopen(state.context["problem_id"], ctx.person.id, reason,
                                             deadline, ctx.clock.now())
        if reopened is None:  # reopened by someone else while this form was open
            raise Refusal("reopen.still_open", number=state.context["number"],
                          state=ctx.t("problem_state.assigned"))
        problem, event_id = reopened
        site = await uow.projects.site(problem.project_id)
        people = await unit_and_leader(uow, problem.assignee_unit_id,
                                       site.lead_leader_id if site else None)

        def message(t: Texts) -> str:
            return t("reopen.notify", number=problem.number, project=site.name if site else "",
                     person=ctx.person.name, reason=reason, deadline=t.short_date(deadline))

        def buttons(t: Texts) -> tuple[tuple[Button, ...], ...]:
            return ((Button(t("problem.update_button"), f"/update {problem.number}"),),)

        await notify(ctx, uow, people, kind="problem.reopened", period=problem.number,
                     subject=str(event_id), render=message, buttons=buttons)
        return Submitted([Outgoing(text=ctx.t("reopen.done", number=problem.number,
                                              deadline=ctx.t.short_date(deadline)))])
