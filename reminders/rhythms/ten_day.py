"""每旬必督, the ten-day check: on the 10th, the 20th and the last day, every project's lag and
traffic light is recomputed, the three letters (三函) are issued where due — once per project
and cause — and the ten-day report goes to the groups that subscribe to it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from domain.events import Outgoing
from domain.figures import ProjectFigures, completion, lag, light_counts, plan_to_date
from domain.model import LetterKind, Light, Person, RoleKind, Stage
from domain.periods import Period, ten_day_of
from domain.progress import light_for
from handlers.context import Texts
from handlers.letters import letter_number, render_letter
from reminders.rhythms.base import GroupScope, RhythmDeps, for_person, percent
from reminders.rhythms.digest import CompletionCharts, days_owed, lag_line, post_digest
from reminders.scheduler import Due
from storage.repositories.audit import Change
from storage.repositories.letters import LetterView, NewLetter
from storage.repositories.outbox import NewMessage

logger = logging.getLogger(__name__)

NOT_STARTED = (Stage.RESERVE, Stage.PRELIMINARY)
SILENCE_LOOKBACK = 60  # days looked back for a site that never reported
MAX_LAGGARDS = 8


Lags = Mapping[int, Decimal | None]
"""Per project id, its `lag` on the day of the check (computed once per check)."""


@dataclass(frozen=True, slots=True)
class Cause:
    kind: LetterKind
    cause: str  # unique per project and kind: the same cause never gets a second letter
    reason: Callable[[], str]  # the sentence of the letter's body: written only when issued


async def ten_day_check(deps: RhythmDeps, due: Due) -> int:
    day = deps.day(due)
    period = ten_day_of(day)
    projects = await due.uow.figures.projects(day, since=period.start)
    lags = {p.id: lag(p, day) for p in projects}
    supervised = await due.uow.letters.open_supervision()
    known = await due.uow.letters.causes()
    t = deps.texts(None)
    wanted: list[NewLetter] = []
    caught_up: list[int] = []
    for project in projects:
        causes = letter_causes(deps, t, project, day=day, period=period,
                               behind=lags[project.id])
        if project.id in supervised and not any(c.kind is LetterKind.SUPERVISION for c in causes):
            caught_up.append(project.id)
            supervised.discard(project.id)
        for cause in causes:
            if ((cause.kind is LetterKind.SUPERVISION and project.id in supervised)
                    or (project.id, cause.kind, cause.cause) in known):
                continue  # one open supervision letter at a time; each cause once
            wanted.append(NewLetter(
                kind=cause.kind, project_id=project.id, cause=cause.cause, period=period.key,
                region_id=project.region_id, unit_id=project.unit_id,
                leader_id=project.lead_leader_id, body=cause.reason()))
            if cause.kind is LetterKind.SUPERVISION:
                supervised.add(project.id)
    await due.uow.letters.close_supervision(caught_up, now=due.now)
    issued = await due.uow.letters.issue_many(wanted, year=day.year, now=due.now)
    supervised = await due.uow.letters.open_supervision()
    updated = await _relight(due, projects, lags, supervised=supervised)
    readers = await Readers.of(due, issued)
    queued = await due.uow.outbox.enqueue_many(
        [new for letter in issued for new in _letter_messages(deps, due, letter, readers)],
        now=due.now)
    logger.info("ten-day check %s: %d letters issued", period.key, len(issued))
    return queued + await _ten_day_report(deps, due, period, day, projects=updated,
                                         issued=issued, lags=lags)


def letter_causes(deps: RhythmDeps, t: Texts, project: ProjectFigures, *, day: date,
                  period: Period, behind: Decimal | None) -> list[Cause]:
    """Which letters a project has earned on `day` (before the once-per-cause check), its
    `lag` on that day being `behind`."""
    rules = deps.letters
    found: list[Cause] = []
    start = project.planned_start
    if project.stage in NOT_STARTED and project.actual_start is None and start is not None:
        if day < start <= day + timedelta(days=rules.reminder_days_before_start):
            found.append(Cause(LetterKind.REMINDER, f"start_soon:{start.isoformat()}",
                               lambda: t("letter_cause.start_soon", date=t.short_date(start))))
        elif (day - start).days >= rules.assignment_days_overdue:
            found.append(Cause(LetterKind.ASSIGNMENT, f"start_overdue:{start.isoformat()}",
                               lambda: t("letter_cause.start_overdue", date=t.short_date(start),
                                         days=(day - start).days)))
    end = project.planned_end
    if (project.stage is Stage.CONSTRUCTION and project.actual_end is None and end is not None
            and (day - end).days >= rules.assignment_days_overdue):
        found.append(Cause(LetterKind.ASSIGNMENT, f"end_overdue:{end.isoformat()}",
                           lambda: t("letter_cause.end_overdue", date=t.short_date(end),
                                     days=(day - end).days)))
    if project.under_construction:
        found += _supervision(deps, t, project, day=day, period=period, behind=behind)
    return found


def _supervision(deps: RhythmDeps, t: Texts, project: ProjectFigures, *, day: date,
                 period: Period, behind: Decimal | None) -> list[Cause]:
    rules = deps.letters
    found = []
    if behind is not None and behind >= rules.supervision_lag_points:
        points = behind
        found.append(Cause(LetterKind.SUPERVISION, f"lag:{period.key}",
                           lambda: t("letter_cause.lag",
                                     rate=t.number(completion(project) or 0),
                                     plan=t.number(plan_to_date(project, day)),
                                     lag=t.number(points))))
    silent = silent_days(deps, project, day)
    if silent >= rules.supervision_silent_days:
        found.append(Cause(LetterKind.SUPERVISION, f"silent:{period.key}",
                           lambda: t("letter_cause.silent", days=silent)))
    if project.top_level >= rules.supervision_problem_level:
        found.append(Cause(LetterKind.SUPERVISION, f"problem:{period.key}",
                           lambda: t("letter_cause.problem", level=project.top_level)))
    return found


def silent_days(deps: RhythmDeps, project: ProjectFigures, day: date) -> int:
    """Report days missed in a row up to `day`, by the project's rest-day policy."""
    since = project.last_report or max(project.actual_start or day,
                                       day - timedelta(days=SILENCE_LOOKBACK))
    missed = 0
    current = since + timedelta(days=1) if project.last_report else since
    while current <= day:
        missed += deps.calendar.reports_due(current, works_rest_days=project.works_rest_days)
        current += timedelta(days=1)
    return missed


async def _relight(due: Due, projects: list[ProjectFigures], lags: Lags, *,
                   supervised: set[int]) -> list[ProjectFigures]:
    """The traffic lights after this check; a red project turns yellow only once caught up."""
    changed: dict[int, Light] = {}
    changes: list[Change] = []
    lit: list[ProjectFigures] = []
    for project in projects:
        light = new_light(project, lags[project.id], supervised=project.id in supervised)
        if light is None or light is project.light:
            lit.append(project)
            continue
        changed[project.id] = light
        changes.append(Change("project", project.id, "light",
                              {"light": project.light and project.light.value},
                              {"light": light.value}))
        lit.append(replace(project, light=light))
    await due.uow.projects.set_lights(changed)
    await due.uow.audit.record_many(due.now, None, changes)
    return lit


def new_light(project: ProjectFigures, behind: Decimal | None, *,
              supervised: bool) -> Light | None:
    """The light of a project `behind` its plan (its `lag`) after the check."""
    if not project.under_construction:
        return project.light
    if behind is None:
        return Light.RED if supervised else project.light
    return light_for(behind, supervision_open=supervised, previous=project.light)


@dataclass(frozen=True, slots=True)
class Readers:
    """Who reads the letters of one check: each unit's people and each lead leader, read once."""

    units: dict[int, list[Person]]
    leaders: dict[int, Person]

    @classmethod
    async def of(cls, due: Due, letters: list[LetterView]) -> Readers:
        units: dict[int, list[Person]] = {}
        if letters:
            for person in await due.uow.people.with_role(RoleKind.UNIT):
                for role in person.roles:
                    if role.kind is RoleKind.UNIT and role.unit_id is not None:
                        units.setdefault(role.unit_id, []).append(person)
        leaders = await due.uow.people.by_ids(
            {lt.leader_id for lt in letters if lt.leader_id is not None})
        return cls(units, leaders)


def _letter_messages(deps: RhythmDeps, due: Due, letter: LetterView,
                     readers: Readers) -> list[NewMessage]:
    """To the unit's people (with the sign button) and to the lead leader."""
    unit_people = readers.units.get(letter.unit_id, [])
    leader = readers.leaders.get(letter.leader_id) if letter.leader_id is not None else None
    if not unit_people:
        logger.warning("letter %s: unit %s has nobody with the unit role to sign it",
                       letter.id, letter.unit_id)
    messages = []
    rendered: dict[tuple[Texts, bool], Outgoing] = {}  # once per language and role
    for person in [*unit_people, *([leader] if leader and leader not in unit_people else [])]:
        signer = person in unit_people
        t = deps.texts(person.language)
        message = rendered.get((t, signer))
        if message is None:
            message = rendered[t, signer] = render_letter(t, letter, can_acknowledge=signer,
                                                          zone=deps.zone)
        new = for_person(deps, due, person, message, kind="letter", period=str(letter.id))
        if new is not None:
            messages.append(new)
    return messages


async def _ten_day_report(deps: RhythmDeps, due: Due, period: Period, day: date, *,
                          projects: list[ProjectFigures], issued: list[LetterView],
                          lags: Lags) -> int:
    groups = await due.uow.groups.subscribed("ten_day_report")
    if not groups:
        return 0
    regions = await due.uow.places.regions()
    owed = days_owed(deps, projects, period.start, day)
    t = deps.texts(None)
    charts = CompletionCharts(deps, t, day, kind="digest.ten_day")
    queued = 0
    for group in groups:
        scope = GroupScope(group, regions)
        mine = scope.select(projects)
        ids = {p.id for p in mine}
        letters = [letter for letter in issued if letter.project_id in ids]
        text = ten_day_text(t, period, day, projects=mine, letters=letters, owed=owed,
                            lags=lags)
        queued += await post_digest(due, group, text, kind="digest.ten_day",
                                    period=period.key,
                                    image=await charts.of(mine))
    return queued


def ten_day_text(t: Texts, period: Period, day: date, *, projects: list[ProjectFigures],
                 letters: list[LetterView], owed: dict[int, int], lags: Lags) -> str:
    building = [p for p in projects if p.under_construction]
    reported = sum(min(p.reported_days, owed[p.id]) for p in building)
    owed_days = sum(owed[p.id] for p in building)
    lights = light_counts(building)
    behind = [(lags[p.id] or Decimal(0), p) for p in building]
    laggards = [p for _, p in sorted((b for b in behind if b[0] >= 10), key=lambda b: -b[0])]
    lines = [t("rhythm.ten_day_title", period=t(f"period.ten_day_{period.part}",
                                                month=period.start.month), day=t.short_date(day)),
             t("rhythm.weekly_projects", projects=len(projects), building=len(building)),
             t("rhythm.ten_day_reports", reported=reported, owed=owed_days,
               rate=percent(t, round(100 * reported / owed_days, 1) if owed_days else None)),
             t("rhythm.lights", green=lights[Light.GREEN], yellow=lights[Light.YELLOW],
               red=lights[Light.RED]),
             t("rhythm.ten_day_letters", count=len(letters))]
    lines += [f"· {letter_number(t, letter)} {letter.project_name}" for letter in letters[:10]]
    if laggards:
        lines.append(t("rhythm.ten_day_laggards", count=len(laggards)))
        lines += [lag_line(t, p, day) for p in laggards[:MAX_LAGGARDS]]
    return "\n".join(lines)
