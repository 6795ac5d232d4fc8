"""Setting the demo county up for a simulation, and starting its projects on their day.

The demo is dated around its reference day (2026-11-22). Each project is put in the stage its
dates give on `--from`, every person and group chat is connected on channel "sim", and the
county's sites are built and cast: who starts, who falls silent, whose investment lags.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, select, update

from bot.bootstrap import App
from bot.i18n import Translator
from bot.simulate.county import HABITS, County, Habit, Site, on_plan
from bot.simulate.folder import CHANNEL
from domain.clock import FixedClock
from domain.figures import ProjectFigures
from domain.model import RegionLevel, RoleKind, Stage
from domain.workdays import WorkCalendar
from storage import models as m

logger = logging.getLogger(__name__)

DEMO_DAY = date(2026, 11, 22)  # the day bot/demo/county.py dates its projects around
HQ_FEEDS = ("daily_summary", "ten_day_report", "monthly_ranking")
LEADER_FEEDS = ("weekly_digest", "quarterly_review", "monthly_ranking")


async def rebase_stages(app: App, start: date) -> dict[int, date]:
    """Put each project in the stage its dates give on `start`; returns the starts to come.

    Writes through the engine: there is no repository for changing a project's dates, and this
    is the simulation's own database.
    """
    starts: dict[int, date] = {}
    shift = start - DEMO_DAY
    async with app.engine.begin() as conn:
        rows = (await conn.execute(select(m.Project.id, m.Project.stage, m.Project.planned_start,
                                          m.Project.actual_start, m.Project.actual_end))).all()
        for pid, stage, planned, actual_start, actual_end in rows:
            values: dict[str, object] = {}
            if stage is Stage.PRELIMINARY and planned is not None:
                values["planned_start"] = planned + shift
            elif actual_start is not None and actual_start > start:
                values |= {"stage": Stage.PRELIMINARY, "actual_start": None, "light": None}
                starts[pid] = actual_start
            elif actual_end is not None and actual_end > start:
                values |= {"stage": Stage.CONSTRUCTION, "actual_end": None}
            if values:
                await conn.execute(update(m.Project).where(m.Project.id == pid).values(**values))
        # The seeded history of a site that had not started yet is taken back.
        later = list(starts)
        reports = select(m.DailyReport.id).where(m.DailyReport.project_id.in_(later))
        await conn.execute(delete(m.ReportVersion).where(m.ReportVersion.report_id.in_(reports)))
        await conn.execute(delete(m.DailyReport).where(m.DailyReport.project_id.in_(later)))
    return starts


async def start_project(app: App, project_id: int, day: date) -> None:
    async with app.engine.begin() as conn:
        await conn.execute(update(m.Project).where(m.Project.id == project_id)
                           .values(stage=Stage.CONSTRUCTION, actual_start=day))


async def connect_everyone(app: App, clock: FixedClock, t: Translator) -> dict[str, str]:
    """Every person on channel "sim", and the group chats; returns chat id → who it is."""
    labels: dict[str, str] = {}
    now = clock.now()
    async with app.uow() as uow:
        people = await uow.people.all()
        for person in people:
            await uow.people.bind_identity(person.id, CHANNEL, person.key, now,
                                           display_name=person.name)
            labels[person.key] = t("simulate.person_label", name=person.name, title=person.title)
        regions = await uow.places.regions()
        dispatchers = {role.region_id: p.id for p in await uow.people.dispatchers()
                       for role in p.roles
                       if role.kind is RoleKind.DISPATCHER and role.region_id is not None}
        parents = {r.id: r.parent_id for r in regions}
        for region in regions:
            if region.level is RegionLevel.COUNTY:
                title, feeds, chat = (t("simulate.hq_group", region=region.name), HQ_FEEDS,
                                      f"hq-{region.code}")
                by = dispatchers.get(region.id)
            elif region.level is RegionLevel.CITY:
                title, feeds, chat = (t("simulate.leaders_group", region=region.name),
                                      LEADER_FEEDS, f"leaders-{region.code}")
                by = next((d for r, d in dispatchers.items() if parents.get(r) == region.id),
                          None)
            else:
                continue
            group = await uow.groups.prepare(title, region_id=region.id, unit_id=None,
                                             subscriptions=feeds, now=now)
            await uow.groups.bind(group.id, channel=CHANNEL, chat_id=chat, title=title,
                                  by=by or next(iter(dispatchers.values())), now=now)
            labels[chat] = t("simulate.group_label", title=title)
        await uow.commit()
    return labels


def _site(p: ProjectFigures, liaisons: list[int], habit: Habit, start: date) -> Site:
    ytd = p.ytd_investment
    if ytd is None and p.annual_plan and p.stage is Stage.CONSTRUCTION:
        ytd = on_plan(p.annual_plan, start, 1.0)
    return Site(id=p.id, code=p.code, unit_id=p.unit_id, leader_id=p.lead_leader_id,
                liaisons=liaisons, annual=p.annual_plan, works_rest_days=p.works_rest_days,
                stage=p.stage, habit=habit, ytd=ytd or Decimal(0),
                progress=p.progress_pct or Decimal(3), last_report=p.last_report)


async def build_county(app: App, calendar: WorkCalendar, *, start: date, end: date,
                       starts: dict[int, date], rng: random.Random) -> County:
    async with app.uow() as uow:
        projects = await uow.figures.projects(start, since=start)
        liaisons = await uow.figures.liaisons(p.id for p in projects)
        units = {p.unit_id for p in projects}
        unit_people = {u: [p.id for p in await uow.people.of_unit(u)
                           if p.has_role(RoleKind.UNIT)] for u in units}
        problems = await uow.problems.open_for([p.id for p in projects])
    habits, weights = zip(*HABITS, strict=True)
    sites = [_site(p, liaisons.get(p.id, []), rng.choices(habits, weights)[0], start)
             for p in projects if liaisons.get(p.id)]
    leaders: dict[int, list[Site]] = defaultdict(list)
    for site in sites:
        if site.leader_id is not None:
            leaders[site.leader_id].append(site)
    county = County(sites, dict(leaders), unit_people,
                    {p.id: p.assignee_unit_id for p in problems if p.assignee_unit_id},
                    calendar, app.settings.zone, rng)
    _cast(county, projects, start, end, starts)
    return county


def _cast(county: County, projects: list[ProjectFigures], start: date, end: date,
          starts: dict[int, date]) -> None:
    """Who starts, who falls silent, whose investment lags: the story of the simulation."""
    by_id = {s.id: s for s in county.sites}
    for pid, day in starts.items():
        if pid in by_id:
            by_id[pid].starts_on = day
    coming = sorted((p.planned_start, p.id) for p in projects
                    if p.stage is Stage.PRELIMINARY and p.id not in starts
                    and p.planned_start is not None and start < p.planned_start < end)
    for planned, pid in coming[1:]:  # the first lets its start pass; the others start on time
        if pid in by_id:
            by_id[pid].starts_on = max(start, planned - timedelta(days=1))
    building = [s for s in county.sites if s.stage is Stage.CONSTRUCTION and s.annual]
    picked = county.rng.sample(building, k=min(4, len(building)))
    days = (end - start).days
    for site, spell in zip(picked[:2], ((2, 13), (21, 32)), strict=False):
        site.silent = (start + timedelta(days=spell[0] * days // 40),
                       start + timedelta(days=spell[1] * days // 40))
        logger.info("simulate: %s silent from %s to %s", site.code, *site.silent)
    for site in picked[2:]:
        site.pace = 0.05
        site.correction_on = start + timedelta(days=county.rng.randint(3, 6))
        logger.info("simulate: %s investment corrected down on %s, then lags", site.code,
                    site.correction_on)
    for site in county.sites:
        if site.starts_on is not None:
            logger.info("simulate: %s starts on %s", site.code, site.starts_on)

