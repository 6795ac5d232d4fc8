"""`/problems [open|mine|unit|P-2026-0042]` and `/close P-2026-0042`: the problem list and 销号.

Who sees a problem: whoever sees its project, its reporter, and its assigned unit. Who closes
(and reopens) it: its reporter, or a dispatcher over the project's region. A problem the asker
may not see reads exactly like one that does not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time

from domain.events import Button, Outgoing
from domain.model import Person, ProblemState, ProblemView, Region, RoleKind
from domain.problems import OPEN_STATES, UNCLOSED_STATES, ProblemFigures, figures_of, overdue
from domain.scope import ProjectScope, dispatcher_reaches, project_scope
from handlers.context import Context, Texts
from handlers.notify import notify, unit_and_leader
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

MAX_LINES = 15
MAX_BUTTONS = 6
NUMBER_LENGTH = 16
FILTERS = {"open": "open", "未解决": "open", "mine": "mine", "我的": "mine",
           "unit": "unit", "单位": "unit", "本单位": "unit"}


def unit_ids(person: Person) -> set[int]:
    """The units a person acts for: their unit roles, and the unit they belong to."""
    units = {r.unit_id for r in person.roles if r.kind is RoleKind.UNIT and r.unit_id}
    return units | ({person.unit_id} if person.unit_id else set())


async def may_see(uow: UnitOfWork, person: Person, scope: ProjectScope,
                  problem: ProblemView) -> bool:
    if problem.reporter_id == person.id or problem.assignee_unit_id in unit_ids(person):
        return True
    return bool(await uow.projects.visible_ids(scope, [problem.project_id]))


async def may_decide(uow: UnitOfWork, person: Person, problem: ProblemView,
                     regions: Sequence[Region] | None = None) -> bool:
    """Close or reopen: the reporter, or a dispatcher over the project's region."""
    if problem.reporter_id == person.id:
        return True
    if not person.has_role(RoleKind.DISPATCHER):
        return False
    site = await uow.projects.site(problem.project_id)
    if regions is None:
        regions = await uow.places.regions()
    return site is not None and dispatcher_reaches(person, frozenset({site.region_id}), regions)


async def find_visible(ctx: Context, uow: UnitOfWork, number: str) -> ProblemView | None:
    problem = await uow.problems.by_number(number.strip().upper()[:NUMBER_LENGTH])
    if problem is None:
        return None
    scope = project_scope(ctx.person, await uow.places.regions())
    return problem if await may_see(uow, ctx.person, scope, problem) else None


def problem_line(t: Texts, problem: ProblemView, project_name: str, today: date) -> str:
    late = overdue(problem.state, problem.deadline, today)
    return t("problems.line", number=problem.number, project=project_name,
             category=t(f"problem.{problem.category.value}"), level=problem.level,
             state=t(f"problem_state.{problem.state.value}"),
             deadline=t.short_date(problem.deadline),
             late=t("problems.late") if late else "", description=problem.description[:30])


def figures_text(t: Texts, figures: ProblemFigures) -> str:
    rate = "—" if figures.rate is None else f"{t.number(figures.rate)}%"
    median = "—" if figures.median_days_to_close is None else t.number(
        figures.median_days_to_close)
    lines = [t("problems.figures", collected=figures.collected, resolved=figures.resolved,
               rate=rate, median=median)]
    if figures.overdue:
        by_level = t("format.list_separator").join(
            t("problems.overdue_level", level=level, count=count)
            for level, count in figures.overdue_by_level.items())
        lines.append(t("problems.overdue", count=figures.overdue, levels=by_level))
    return "\n".join(lines)


async def problems(ctx: Context) -> list[Outgoing]:
    args = ctx.event.args.strip()
    if args.upper().startswith("P-"):
        return await _detail(ctx, args)
    which = FILTERS.get(args.casefold()) if args else "all"
    if which is None:
        return [Outgoing(text=ctx.t("problems.usage"))]
    async with ctx.uow() as uow:
        regions = await uow.places.regions()
        scope = project_scope(ctx.person, regions)
        if which == "mine":
            found, total = await uow.problems.listing(reporter_id=ctx.person.id)
        elif which == "unit":
            units = sorted(unit_ids(ctx.person))
            if not units:
                return [Outgoing(text=ctx.t("problems.no_unit"))]
            found, total = await uow.problems.listing(unit_ids=units)
        else:
            states = OPEN_STATES if which == "open" else UNCLOSED_STATES
            found, total = await uow.problems.listing(scope=scope, states=states)
        figures = None
        if which in ("all", "open"):
            year_start = datetime.combine(ctx.today.replace(month=1, day=1), time(),
                                          tzinfo=ctx.clock.zone)
            figures = figures_of(
                (await uow.problems.tallies(scope, year_start, ctx.today)).values())
        names = {p.id: p.name for p in await uow.projects.by_ids(
            sorted({p.project_id for p in found}), ctx.today.year)}
        deciding = [p for p in found if p.state is ProblemState.RESOLVED
                    and await may_decide(uow, ctx.person, p, regions)]
    lines = [ctx.t(f"problems.title_{which}", count=total)]
    if figures is not None:
        lines.append(figures_text(ctx.t, figures))
    if not found:
        lines.append(ctx.t("problems.none"))
    lines += [problem_line(ctx.t, p, names.get(p.project_id, ""), ctx.today)
              for p in found[:MAX_LINES]]
    if total > MAX_LINES:
        lines.append(ctx.t("problems.more", count=total - MAX_LINES))
    return [Outgoing(text="\n".join(lines), buttons=_buttons(ctx, found, deciding))]


def _buttons(ctx: Context, found: list[ProblemView],
             deciding: list[ProblemView]) -> tuple[tuple[Button, ...], ...]:
    """销号 for what the asker may close; 报送进展 for what their unit has to work on."""
    units = unit_ids(ctx.person)
    rows = [(Button(ctx.t("problems.close_button", number=p.number), f"/close {p.number}"),)
            for p in deciding]
    rows += [(Button(ctx.t("problems.update_button", number=p.number), f"/update {p.number}"),)
             for p in found if p.state in OPEN_STATES and p.assignee_unit_id in units]
    return tuple(rows[:MAX_BUTTONS])


async def _detail(ctx: Context, number: str) -> list[Outgoing]:
    async with ctx.uow() as uow:
        problem = await find_visible(ctx, uow, number)
        if problem is None:
            return [Outgoing(text=ctx.t("problems.not_found", number=number[:NUMBER_LENGTH]))]
        site = await uow.projects.site(problem.project_id)
        unit = await uow.places.unit(problem.assignee_unit_id) if problem.assignee_unit_id else None
        events = await uow.problems.events(problem.id)
        deciding = await may_decide(uow, ctx.person, problem)
    t = ctx.t
    lines = [t("problems.detail", number=problem.number, project=site.name if site else "",
               category=t(f"problem.{problem.category.value}"),
               state=t(f"problem_state.{problem.state.value}"), level=problem.level,
               ladder=t(f"problem_level.{problem.level}"),
               unit=unit.name if unit else "—", deadline=t.short_date(problem.deadline),
               late=t("problems.late") if overdue(problem.state, problem.deadline, ctx.today)
               else "", description=problem.description)]
    lines.append(t("problems.history"))
    lines += [t("problems.event", at=t.short_date(e.at.astimezone(ctx.clock.zone).date()),
                kind=t(f"problem_event.{e.kind}"), who=e.actor_name or t("problems.system"),
                note=f"：{e.note}" if e.note and e.kind != "escalated" else "")
              for e in events]
    buttons: list[tuple[Button, ...]] = []
    if deciding and problem.state is ProblemState.RESOLVED:
        buttons.append((Button(t("problems.close_button", number=problem.number),
                               f"/close {problem.number}"),
                        Button(t("problems.reopen_button"), f"/reopen {problem.number}")))
    elif deciding and problem.state is ProblemState.CLOSED:
        buttons.append((Button(t("problems.reopen_button"), f"/reopen {problem.number}"),))
    return [Outgoing(text="\n".join(lines), buttons=tuple(buttons))]


async def close(ctx: Context) -> list[Outgoing]:
    """销号: the reporter (or a dispatcher) crosses off a resolved problem, once."""
    number = ctx.event.args.strip().split(" ", 1)[0]
    note = ctx.event.args.strip()[len(number):].strip()[:500]
    if not number:
        return [Outgoing(text=ctx.t("close.usage"))]
    async with ctx.uow() as uow:
        problem = await find_visible(ctx, uow, number)
        if problem is None:
            return [Outgoing(text=ctx.t("problems.not_found", number=number[:NUMBER_LENGTH]),
                             refusal=True)]
        if not await may_decide(uow, ctx.person, problem):
            return [Outgoing(text=ctx.t("close.not_allowed", number=problem.number),
                             refusal=True)]
        closed = await uow.problems.close(problem.id, ctx.person.id, note, ctx.clock.now())
        if closed is None:
            key = "close.already" if problem.state is ProblemState.CLOSED else "close.not_resolved"
            return [Outgoing(text=ctx.t(key, number=problem.number,
                                        state=ctx.t(f"problem_state.{problem.state.value}")),
                             refusal=True)]
        site = await uow.projects.site(problem.project_id)
        people = await unit_and_leader(uow, problem.assignee_unit_id,
                                       site.lead_leader_id if site else None)

        def message(t: Texts) -> str:
            return t("close.notify", number=problem.number, project=site.name if site else "",
                     person=ctx.person.name)

        await notify(ctx, uow, people, kind="problem.closed", period=problem.number, subject="",
                     render=message)
        await uow.commit()
    logger.info("problem %s closed by person %s", problem.number, ctx.person.id)
    return [Outgoing(text=ctx.t("close.done", number=problem.number))]
