"""每日必盯, the daily watch: reminders at 16:00 and 19:00, the leaders' list at 21:00 and the
HQ groups' summary at 21:30."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from domain.events import Button, Outgoing
from domain.figures import ProjectFigures
from domain.model import SiteStatus
from handlers.context import Texts
from reminders.rhythms.base import GroupScope, RhythmDeps, names, percent, to_person
from reminders.rhythms.digest import day_start, post_digest, project_line
from reminders.scheduler import Due

MAX_BUTTONS = 6
MAX_LISTED = 10


async def due_today(deps: RhythmDeps, due: Due,
                    projects: list[ProjectFigures] | None = None) -> list[ProjectFigures]:
    """Projects under construction that owe a report today (by their rest-day policy)."""
    day = deps.day(due)
    if projects is None:
        projects = await due.uow.figures.projects(day, since=day)
    owing = [p for p in projects if p.under_construction
             and deps.calendar.reports_due(day, works_rest_days=p.works_rest_days)]
    await warn_calendar(deps, due, day.year)
    return owing


async def warn_calendar(deps: RhythmDeps, due: Due, year: int) -> None:
    """Tell the dispatchers, once a year, that rest days are guessed as Saturday and Sunday."""
    if deps.calendar.knows(year):
        return
    for person in await due.uow.people.dispatchers():
        t = deps.texts(person.language)
        await to_person(deps, due, person, Outgoing(text=t("rhythm.calendar_unknown", year=year)),
                        kind="calendar.unknown", period=str(year))


async def liaison_reminder(deps: RhythmDeps, due: Due) -> int:
    """One message per liaison listing every project they have not reported today."""
    day = deps.day(due)
    unreported = [p for p in await due_today(deps, due) if not p.reported_on(day)]
    liaisons = await due.uow.figures.liaisons(p.id for p in unreported)
    owed: dict[int, list[ProjectFigures]] = defaultdict(list)
    for project in unreported:
        for person_id in liaisons.get(project.id, ()):
            owed[person_id].append(project)
    people = await due.uow.people.by_ids(owed)
    period = f"{day.isoformat()}@{deps.local(due.at):%H:%M}"
    queued = 0
    for person_id, projects in owed.items():
        if (person := people.get(person_id)) is None:
            continue
        t = deps.texts(person.language)
        text = "\n".join([t("rhythm.report_reminder", day=t.short_date(day),
                            count=len(projects)), *map(project_line, projects),
                          t("rhythm.report_reminder_tap")])
        buttons = tuple((Button(t("rhythm.report_button", code=p.code), f"/report {p.code}"),)
                        for p in projects[:MAX_BUTTONS])
        queued += await to_person(deps, due, person, Outgoing(text=text, buttons=buttons),
                                  kind="remind.report", period=period, drop_when_quiet=True)
    return queued


async def leader_unreported(deps: RhythmDeps, due: Due) -> int:
    """Each lead leader: their projects still unreported today, with the liaisons to call."""
    day = deps.day(due)
    unreported = [p for p in await due_today(deps, due) if not p.reported_on(day)]
    by_leader: dict[int, list[ProjectFigures]] = defaultdict(list)
    for project in unreported:
        if project.lead_leader_id is not None:
            by_leader[project.lead_leader_id].append(project)
    liaisons = await due.uow.figures.liaisons(p.id for p in unreported)
    people = await due.uow.people.by_ids(
        [*by_leader, *(i for ids in liaisons.values() for i in ids)])
    queued = 0
    for leader_id, projects in by_leader.items():
        if (leader := people.get(leader_id)) is None:
            continue
        t = deps.texts(leader.language)
        lines = [t("rhythm.leader_unreported", day=t.short_date(day), count=len(projects))]
        for p in projects:
            who = names((people[i].name for i in liaisons.get(p.id, ()) if i in people),
                        limit=3, t=t) or t("rhythm.no_liaison")
            lines.append(t("rhythm.unreported_line", code=p.code, name=p.name, liaisons=who))
        queued += await to_person(deps, due, leader, Outgoing(text="\n".join(lines)),
                                  kind="remind.unreported", period=day.isoformat(),
                                  drop_when_quiet=True)
    return queued


async def daily_summary(deps: RhythmDeps, due: Due) -> int:
    """Each subscribed group: reported x/y, new problems, stopped sites, who is missing."""
    day = deps.day(due)
    groups = await due.uow.groups.subscribed("daily_summary")
    if not groups:
        return 0
    all_projects = await due.uow.figures.projects(day, since=day)
    owing = await due_today(deps, due, all_projects)
    new_problems = await due.uow.figures.problems_created(
        day_start(deps, day), day_start(deps, day + timedelta(days=1)))
    regions = await due.uow.places.regions()
    t = deps.texts(None)
    queued = 0
    for group in groups:
        scope = GroupScope(group, regions)
        text = summary_text(t, day, owing=scope.select(owing),
                            everything=scope.select(all_projects), new_problems=new_problems)
        queued += await post_digest(due, group, text, kind="digest.daily",
                                    period=day.isoformat())
    return queued


def summary_text(t: Texts, day: date, *, owing: list[ProjectFigures],
                 everything: list[ProjectFigures], new_problems: dict[int, int]) -> str:
    reported = [p for p in owing if p.reported_on(day)]
    missing = [p for p in owing if not p.reported_on(day)]
    stopped = [p for p in everything
               if p.reported_on(day) and p.site_status is SiteStatus.STOPPED]
    problems = sum(new_problems.get(p.id, 0) for p in everything)
    rate = percent(t, round(100 * len(reported) / len(owing), 1) if owing else None)
    lines = [t("rhythm.daily_title", day=t.short_date(day)),
             t("rhythm.daily_reported", reported=len(reported), due=len(owing), rate=rate),
             t("rhythm.daily_problems", count=problems),
             t("rhythm.daily_stopped", count=len(stopped))]
    lines += [project_line(p) for p in stopped[:MAX_LISTED]]
    if missing:
        lines.append(t("rhythm.daily_missing", count=len(missing)))
        lines += [project_line(p) for p in missing[:MAX_LISTED]]
        if len(missing) > MAX_LISTED:
            lines.append(t("rhythm.more", count=len(missing) - MAX_LISTED))
    return "\n".join(lines)
