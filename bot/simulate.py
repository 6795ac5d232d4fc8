"""`fieldbot simulate`: the demo county through N days on an accelerated clock.

A newcomer sees a month of the product in one command. The demo county is built in a fresh
SQLite database inside the output folder (never the configured one); a `FixedClock` then jumps
from one rhythm fire time to the next. Between two fire times the county's people act through
the repositories, the way `bot/demo/seed.py` writes its history: liaisons report (most before
the 16:00 reminder, some only after it, some miss days, two go silent for a while), leaders
visit, problems are raised and resolved, projects start, and a few projects' investment is
corrected down until they lag badly. At each fire time `RhythmScheduler.run_due()` runs what is
due and the real `OutboxSender` delivers the outbox through `FolderPort`, which writes every
message to `OUT/<day>/<HHMM>-<kind>-<recipient>.txt` (and `.png`).

The demo is dated around its reference day (2026-11-22). At the start, each project is put in
the stage its dates give on `--from` (a construction project that only starts later becomes
preliminary again and starts during the simulation; one completed later is still under
construction), and the demo's preliminary projects keep their distance to the reference day, so
the overdue starts and the starts coming up produce their letters (交办函, 提醒函).
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import delete, select, update

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.demo.seed import PROBLEMS, STOP_REASONS, VISIT_NOTES, WORK_DONE, seed_demo
from bot.i18n import Translator, translator
from bot.schedule import build_scheduler, rhythm_deps
from domain.clock import FixedClock
from domain.events import Outgoing
from domain.figures import ProjectFigures
from domain.model import (
    LetterKind,
    OutboxState,
    ProblemState,
    RegionLevel,
    RoleKind,
    SiteStatus,
    Stage,
)
from domain.progress import planned_pct, year_fraction
from domain.workdays import WorkCalendar
from reminders.limits import ChannelLimits, Limit, Limiter, Slot
from reminders.outbox import Address, OutboxSender, SenderSettings
from reminders.scheduler import RhythmScheduler, due_times
from storage import models as m
from storage.repositories.outbox import OutboxItem
from storage.repositories.problems import NewProblem, ProblemUpdate
from storage.repositories.reports import ReportInput
from storage.repositories.runs import RunRecord
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

CHANNEL = "sim"
DATABASE = "fieldbot.sqlite3"
MARKER = ".fieldbot-simulation"  # only a folder holding this (or an empty one) is deleted
DEMO_DAY = date(2026, 11, 22)  # the day bot/demo/county.py dates its projects around
UNLIMITED = ChannelLimits(overall=Limit(1_000_000, 1.0), per_chat=Limit(1_000_000, 1.0),
                          per_group=Limit(1_000_000, 1.0))
HQ_FEEDS = ("daily_summary", "ten_day_report", "monthly_ranking")
LEADER_FEEDS = ("weekly_digest", "quarterly_review", "monthly_ranking")
CORRECTION = "根据统计部门入库核查，核减不符合入库条件的投资"
FUNDS_PROBLEM = 4  # PROBLEMS[4]: 专项债资金拨付滞后, raised with the correction
DAY_START = clock_time(8, 30)
EVENING = clock_time(21, 0)
MAX_PASSES = 1000  # sender passes at one moment; more means something is stuck
CENT = Decimal("0.01")
TENTH = Decimal("0.1")


class FolderRefused(Exception):
    """The output folder holds something else than an earlier simulation: left alone."""


@dataclass(frozen=True, slots=True)
class Habit:
    """When a project's liaison files the day's report: the chance of doing it before the
    first reminder, between the reminders, after the last one; else it is not filed."""

    before: float
    between: float
    after: float


HABITS: tuple[tuple[Habit, int], ...] = (
    (Habit(0.93, 0.05, 0.01), 55),  # prompt
    (Habit(0.30, 0.45, 0.15), 30),  # needs the reminder
    (Habit(0.35, 0.20, 0.10), 15),  # forgetful
)


# ---- the folder: every delivered message as a file -------------------------------------

_delivering: ContextVar[OutboxItem | None] = ContextVar("simulate_delivering", default=None)


class RecordingSender(OutboxSender):
    """The outbox sender, telling the folder which outbox row it is delivering.

    `DeliveryPort.deliver` is given the chat and the message only, but a file name needs the
    message's kind; each send runs in its own task, so a context variable carries it.
    """

    async def _send(self, item: OutboxItem, address: Address, slot: Slot) -> None:
        _delivering.set(item)
        await super()._send(item, address, slot)


class FolderPort:
    """The delivery port of channel "sim": writes each message where a newcomer can read it."""

    channel = CHANNEL

    def __init__(self, out: Path, clock: FixedClock, t: Translator,
                 labels: Mapping[str, str]) -> None:
        self.limiter = Limiter(UNLIMITED)
        self._out, self._clock, self._t, self._labels = out, clock, t, labels
        self._taken: set[Path] = set()
        self.written = 0
        self.images = 0

    async def deliver(self, chat_id: str, message: Outgoing, *, group: bool,
                      slot: Slot | None = None) -> None:
        item = _delivering.get()
        kind = item.kind if item is not None else "message"
        local = self._clock.now().astimezone(self._clock.zone)
        stem = self._free_stem(self._out / local.date().isoformat(),
                               f"{local:%H%M}-{kind}-{chat_id}")
        text = self._render(chat_id, message, local=local, kind=kind,
                            ident=item.id if item is not None else 0, image=stem.name + ".png")
        await asyncio.to_thread(_write, stem, text, message.image)
        self.written += 1
        self.images += message.image is not None

    def _free_stem(self, folder: Path, name: str) -> Path:
        """A file name not used yet (two letters to one unit in the same minute, say)."""
        stem, n = folder / name, 1
        while stem in self._taken:
            n += 1
            stem = folder / f"{name}-{n}"
        self._taken.add(stem)
        return stem

    def _render(self, chat_id: str, message: Outgoing, *, local: datetime, kind: str,
                ident: int, image: str) -> str:
        t = self._t
        lines = [t("simulate.file_to", to=self._labels.get(chat_id, chat_id)),
                 t("simulate.file_meta", at=f"{local:%Y-%m-%d %H:%M}", kind=kind, id=ident),
                 "", message.text]
        if message.image is not None:
            lines.append(t("simulate.file_image", name=image))
        if message.buttons:
            lines.append("")
            lines += [f"[{b.label} → {b.data}]" for row in message.buttons for b in row]
        return "\n".join(lines) + "\n"


def _write(stem: Path, text: str, image: bytes | None) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_name(stem.name + ".txt").write_text(text, encoding="utf-8")
    if image is not None:
        stem.with_name(stem.name + ".png").write_bytes(image)


def prepare_folder(out: Path, t: Translator) -> None:
    """Delete an earlier simulation's folder and make it afresh; refuse any other folder."""
    if out.exists():
        ours = out.is_dir() and ((out / MARKER).is_file() or not any(out.iterdir()))
        if not ours:
            raise FolderRefused(t("simulate.folder_not_ours", folder=str(out)))
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("fieldbot simulate output: deleted by the next run\n",
                              encoding="utf-8")


# ---- the county: what its people do between the rhythms ---------------------------------

Step = Callable[[UnitOfWork], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Act:
    at: datetime
    run: Step


@dataclass(slots=True)
class Site:
    """A project as the simulation works it."""

    id: int
    code: str
    unit_id: int
    leader_id: int | None
    liaisons: list[int]
    annual: Decimal | None
    works_rest_days: bool
    stage: Stage
    habit: Habit
    ytd: Decimal
    progress: Decimal
    last_report: date | None
    starts_on: date | None = None
    pace: float = 1.0
    silent: tuple[date, date] | None = None  # no report from the first day until the second
    correction_on: date | None = None  # its investment is corrected down from that day


@dataclass(slots=True)
class Tally:
    reports: int = 0
    problems: int = 0
    resolved: int = 0
    visits: int = 0
    started: int = 0
    today_reports: int = 0
    today_problems: int = 0


@dataclass(slots=True)
class County:
    """The demo county's people at work, deterministic for a seed."""

    sites: list[Site]
    leaders: dict[int, list[Site]]
    unit_people: dict[int, list[int]]
    open_problems: dict[int, int]  # problem id → the unit that must solve it
    calendar: WorkCalendar
    zone: ZoneInfo
    rng: random.Random
    tally: Tally = field(default_factory=Tally)
    visit_plan: list[tuple[date, Site]] = field(default_factory=list)

    def at(self, day: date, moment: clock_time) -> datetime:
        return datetime.combine(day, moment, tzinfo=self.zone)

    def between(self, start: datetime, end: datetime) -> datetime:
        seconds = max(int((end - start).total_seconds()), 60)
        return start + timedelta(seconds=self.rng.randrange(0, seconds, 60))

    def start(self, site: Site, day: date) -> None:
        """A site starts: what it spent before (land, design) enters the statistics (入库)."""
        site.stage = Stage.CONSTRUCTION
        site.progress = Decimal(1)
        if site.annual:
            site.ytd = max(site.ytd, on_plan(site.annual, day, self.rng.uniform(0.6, 1.0)))
        self.tally.started += 1

    def owing(self, day: date) -> list[Site]:
        return [s for s in self.sites if s.stage is Stage.CONSTRUCTION
                and self.calendar.reports_due(day, works_rest_days=s.works_rest_days)]

    def plan_day(self, day: date, marks: Sequence[datetime]) -> list[Act]:
        """The day's acts, in time order; `marks` are the reminder times that split the day."""
        acts = [*self._reports(day, marks), *self._visits(day), *self._resolutions(day)]
        return sorted(acts, key=lambda a: a.at)

    def _reports(self, day: date, marks: Sequence[datetime]) -> list[Act]:
        windows = list(zip([self.at(day, DAY_START), *marks], marks, strict=False))
        acts = []
        for site in self.owing(day):
            if site.silent and site.silent[0] <= day < site.silent[1]:
                continue
            chances = (site.habit.before, site.habit.between, site.habit.after)
            draw = self.rng.random()
            for (start, end), chance in zip(windows, chances, strict=False):
                if draw < chance:
                    at = self.between(start + timedelta(minutes=5), end - timedelta(minutes=10))
                    acts.append(Act(at, partial(self._report, site, day, at)))
                    break
                draw -= chance
        return acts

    async def _report(self, site: Site, day: date, at: datetime, uow: UnitOfWork) -> None:
        correcting = site.correction_on is not None and site.correction_on <= day
        stopped = not correcting and self.rng.random() < 0.04
        work = "" if stopped else self.rng.choice(WORK_DONE).format(n=self.rng.randint(2, 9))
        if correcting and site.annual:
            # Down to where the next ten-day checks find it 20+ points behind the plan.
            target = max(Decimal("0.5"), planned_pct(day + timedelta(days=15))
                         - Decimal(self.rng.uniform(22, 28)))
            site.ytd = min(site.ytd, (site.annual * target / 100).quantize(CENT))
            site.correction_on = None
            work = CORRECTION
        elif not stopped and site.annual:
            days = (day - site.last_report).days if site.last_report else 1
            grow = site.annual * days / 365 * Decimal(self.rng.uniform(0.7, 1.4) * site.pace)
            site.ytd = min(site.annual * 2, site.ytd + grow.quantize(CENT))
            site.progress = min(Decimal(100),
                                site.progress + Decimal(self.rng.randint(0, 6)) / 10)
        reporter = self.rng.choice(site.liaisons)
        report_id, _ = await uow.reports.save(ReportInput(
            project_id=site.id, report_date=day, reporter_id=reporter,
            site_status=SiteStatus.STOPPED if stopped else SiteStatus.WORKING,
            stop_reason=self.rng.choice(STOP_REASONS) if stopped else None,
            progress_pct=site.progress.quantize(TENTH), work_done=work,
            workers=0 if stopped else self.rng.randint(25, 320),
            ytd_investment=site.ytd if site.annual else None), at)
        site.last_report = day
        self.tally.reports += 1
        self.tally.today_reports += 1
        if correcting:
            await self._problem(uow, site, reporter, at, FUNDS_PROBLEM, report_id=report_id)
        elif self.rng.random() < 0.025:
            await self._problem(uow, site, reporter, at, self.rng.randrange(len(PROBLEMS)),
                                report_id=report_id)

    async def _problem(self, uow: UnitOfWork, site: Site, reporter: int, at: datetime,
                       index: int, *, report_id: int | None = None,
                       visit_id: int | None = None) -> None:
        category, text, urgent = PROBLEMS[index]
        day = at.date()
        problem = await uow.problems.open(NewProblem(
            project_id=site.id, category=category, description=text, urgent=urgent,
            reporter_id=reporter, assignee_unit_id=site.unit_id,
            deadline=day + timedelta(days=3 if urgent else 7), report_id=report_id,
            visit_id=visit_id), at, day.year)
        self.open_problems[problem.id] = site.unit_id
        self.tally.problems += 1
        self.tally.today_problems += 1

    def plan_week(self, monday: date, days: Iterable[date]) -> None:
        """Each leader visits most of their projects once in the week, on a day of it."""
        week = [d for d in days if monday <= d < monday + timedelta(days=6)]
        if not week:
            return
        for sites in self.leaders.values():
            diligence = self.rng.uniform(0.45, 0.95)
            for site in sites:
                if site.stage in (Stage.PRELIMINARY, Stage.CONSTRUCTION) \
                        and self.rng.random() < diligence:
                    self.visit_plan.append((self.rng.choice(week), site))

    def _visits(self, day: date) -> list[Act]:
        acts = []
        for when, site in self.visit_plan:
            if when == day:
                at = self.between(self.at(day, clock_time(9, 30)), self.at(day, clock_time(17)))
                acts.append(Act(at, partial(self._visit, site, at)))
        return acts

    async def _visit(self, site: Site, at: datetime, uow: UnitOfWork) -> None:
        if site.leader_id is None:
            return
        visit_id = await uow.visits.add(site.id, site.leader_id, at.date(),
                                        self.rng.choice(VISIT_NOTES), at)
        self.tally.visits += 1
        if self.rng.random() < 0.12:
            await self._problem(uow, site, site.leader_id, at, self.rng.randrange(len(PROBLEMS)),
                                visit_id=visit_id)

    def _resolutions(self, day: date) -> list[Act]:
        acts = []
        for problem_id, unit_id in sorted(self.open_problems.items()):
            people = self.unit_people.get(unit_id)
            if people and self.rng.random() < 0.08:
                at = self.between(self.at(day, clock_time(10)), self.at(day, clock_time(17, 30)))
                acts.append(Act(at, partial(self._resolve, problem_id,
                                            self.rng.choice(people), at)))
        return acts

    async def _resolve(self, problem_id: int, actor: int, at: datetime,
                       uow: UnitOfWork) -> None:
        if self.open_problems.pop(problem_id, None) is None:
            return
        await uow.problems.record_update(ProblemUpdate(
            problem_id=problem_id, actor_id=actor, kind="resolved",
            to_state=ProblemState.RESOLVED, note="已协调解决"), at)
        self.tally.resolved += 1


def on_plan(annual: Decimal, day: date, share: float) -> Decimal:
    """`share` of the investment the time-proportional plan expects by `day`."""
    return (annual * year_fraction(day) * Decimal(share)).quantize(CENT)


# ---- setting the county up --------------------------------------------------------------

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


# ---- the run: the clock jumps from one fire time to the next ----------------------------

@dataclass(slots=True)
class Simulation:
    app: App
    clock: FixedClock
    scheduler: RhythmScheduler
    sender: OutboxSender
    port: FolderPort
    county: County
    progress: Callable[[str], None]
    records: list[RunRecord] = field(default_factory=list)

    async def run(self, start: date, end: date) -> None:
        zone = self.clock.zone
        begin = datetime.combine(start, clock_time(0), tzinfo=zone)
        finish = datetime.combine(end, clock_time(0), tzinfo=zone)
        fires: dict[date, list[datetime]] = defaultdict(list)
        for at in sorted({at for rhythm in self.scheduler.rhythms
                          for at in due_times(rhythm.trigger, after=begin - timedelta(
                              microseconds=1), until=finish - timedelta(microseconds=1))}):
            fires[at.astimezone(zone).date()].append(at)
        days = [start + timedelta(days=i) for i in range((end - start).days)]
        for day in days:
            if day == start or day.weekday() == 0:
                self.county.plan_week(day - timedelta(days=day.weekday()), days)
            await self.one_day(day, fires.get(day, []))
        await self.deliver_until(finish)

    def marks(self, day: date) -> list[datetime]:
        """The day's liaison reminders and the leaders' list: the times reports are late by."""
        zone = self.clock.zone
        begin = datetime.combine(day, clock_time(0), tzinfo=zone)
        found = []
        for rhythm in self.scheduler.rhythms:
            if rhythm.name in ("liaison_reminder", "leader_unreported"):
                found += due_times(rhythm.trigger, after=begin, until=begin + timedelta(days=1))
        return sorted(found) or [datetime.combine(day, EVENING, tzinfo=zone)]

    async def one_day(self, day: date, fires: list[datetime]) -> None:
        county, tally = self.county, self.county.tally
        tally.today_reports = tally.today_problems = 0
        written = self.port.written
        for site in county.sites:
            if site.starts_on == day and site.stage is not Stage.CONSTRUCTION:
                await start_project(self.app, site.id, day)
                county.start(site, day)
        acts = county.plan_day(day, self.marks(day))
        midnight = datetime.combine(day + timedelta(days=1), clock_time(0),
                                    tzinfo=self.clock.zone)
        for stop in [*fires, midnight]:
            batch = [a for a in acts if a.at < stop]
            acts = acts[len(batch):]
            await self.deliver_until(stop)
            if batch:
                async with self.app.uow() as uow:
                    for act in batch:
                        await act.run(uow)
                    await uow.commit()
            if stop is not midnight:
                self.clock.set(stop)
                self.records += await self.scheduler.run_due()
                await self.deliver_now()
        t = self.app.texts()
        self.progress(t("simulate.progress", day=day.isoformat(),
                        weekday=format_date(day, "EEE", locale=t.language.replace("-", "_")),
                        reported=tally.today_reports, due=len(county.owing(day)),
                        problems=tally.today_problems, messages=self.port.written - written))

    async def deliver_until(self, limit: datetime) -> None:
        """Deliver what was held back (quiet hours, retries) and falls due before `limit`."""
        while True:
            async with self.app.uow() as uow:
                upcoming = await uow.outbox.next_due_at()
            if upcoming is None or upcoming > limit:
                return
            if upcoming > self.clock.now():
                self.clock.set(upcoming)
            await self.deliver_now()

    async def deliver_now(self) -> None:
        for _ in range(MAX_PASSES):
            await self.sender.drain_once()
            await self.sender.settle()
            async with self.app.uow() as uow:
                if not await uow.outbox.due(self.clock.now(), limit=1):
                    return
        logger.warning("simulate: messages due at %s could not all be delivered",
                       self.clock.now().isoformat())


# ---- what a run shows -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Summary:
    start: date
    days: int
    seed: int
    rows: list[RhythmRow]
    tally: Tally
    letters: dict[LetterKind, int]
    written: int
    images: int
    undelivered: int
    folder: Path
    seconds: float


@dataclass(frozen=True, slots=True)
class RhythmRow:
    rhythm: str
    ran: int
    skipped: int
    failed: int  # due times never recorded: the run raised (see the log)
    messages: int

    @property
    def numbers(self) -> tuple[int, int, int, int]:
        return self.ran, self.skipped, self.failed, self.messages


def tabulate(records: Iterable[RunRecord], expected: Mapping[str, int]) -> list[RhythmRow]:
    """Per rhythm: runs, skipped, failed (a due time never recorded) and messages."""
    ran: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    for record in records:
        (ran if record.outcome == "ran" else skipped)[record.rhythm] += 1
        messages[record.rhythm] += record.messages
    return [RhythmRow(name, ran[name], skipped[name], max(due - ran[name] - skipped[name], 0),
                      messages[name]) for name, due in expected.items()]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int, *, right: bool = False) -> str:
    pad = " " * max(width - _width(text), 0)
    return pad + text if right else text + pad


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], *,
                 numeric_from: int) -> list[str]:
    """Plain-text columns aligned for a terminal (a Chinese character is two columns wide)."""
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(_cell(cell, widths[i], right=i >= numeric_from)
                      for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]


def summary_text(t: Translator, summary: Summary) -> str:
    end = summary.start + timedelta(days=summary.days - 1)
    header = [t("simulate.col_rhythm"), t("simulate.col_about"), t("simulate.col_runs"),
              t("simulate.col_skipped"), t("simulate.col_failed"), t("simulate.col_messages")]
    rows = [[row.rhythm, t(f"simulate.rhythm.{row.rhythm}"), *map(t.number, row.numbers)]
            for row in summary.rows]
    totals = [sum(column) for column in zip(*(row.numbers for row in summary.rows),
                                            strict=True)]
    rows.append([t("simulate.total"), "", *(t.number(n) for n in totals)])
    tally = summary.tally
    letters = t("format.list_separator").join(
        t("simulate.letter_count", kind=t(f"letters.kind.{kind.value}"), count=count)
        for kind, count in summary.letters.items())
    lines = [t("simulate.title", start=summary.start.isoformat(), end=end.isoformat(),
               days=summary.days, seed=summary.seed), "",
             *render_table(header, rows, numeric_from=2), "",
             t("simulate.reports", reports=t.number(tally.reports), problems=tally.problems,
               resolved=tally.resolved, visits=tally.visits, started=tally.started),
             t("simulate.letters", letters=letters),
             t("simulate.messages", messages=t.number(summary.written), images=summary.images,
               folder=str(summary.folder)),
             t("simulate.database", database=str(summary.folder / DATABASE))]
    if summary.undelivered:
        lines.append(t("simulate.undelivered", count=summary.undelivered))
    lines.append(t("simulate.elapsed", seconds=f"{summary.seconds:.1f}"))
    return "\n".join(lines)


# ---- the command ------------------------------------------------------------------------

async def simulate(settings: Settings, *, start: date, days: int, out: Path, seed: int,
                   progress: Callable[[str], None] = print) -> Summary:
    """Run the demo county from `start` through `days` days into the folder `out`."""
    began = time.monotonic()
    t = translator(settings.language)
    out = await asyncio.to_thread(out.resolve)
    await asyncio.to_thread(prepare_folder, out, t)
    settings = settings.model_copy(update={
        "data_dir": out, "database_url": f"sqlite+aiosqlite:///{out / DATABASE}"})
    zone = settings.zone
    clock = FixedClock(datetime.combine(start, clock_time(0), tzinfo=zone), zone)
    app = await build_app(settings, clock, migrate_schema=True)
    try:
        async with app.uow() as uow:
            await seed_demo(uow, clock, seed=seed)
            await uow.commit()
        starts = await rebase_stages(app, start)
        labels = await connect_everyone(app, clock, t)
        deps = rhythm_deps(settings)
        end = start + timedelta(days=days)
        county = await build_county(app, deps.calendar, start=start, end=end, starts=starts,
                                    rng=random.Random(seed))  # noqa: S311 - sample data
        port = FolderPort(out, clock, t, labels)
        sender = RecordingSender(app.uow, clock, [port], texts_for=translator,
                                 settings=SenderSettings(batch=500, concurrency=64))
        scheduler = build_scheduler(app, clock=clock, deps=deps)
        run = Simulation(app, clock, scheduler, sender, port, county, progress)
        progress(t("simulate.starting", start=start.isoformat(), days=days, folder=str(out)))
        await run.run(start, end)
        return await _summarise(app, run, start=start, days=days, seed=seed, out=out,
                                seconds=time.monotonic() - began)
    finally:
        await app.aclose()


async def _summarise(app: App, run: Simulation, *, start: date, days: int, seed: int,
                     out: Path, seconds: float) -> Summary:
    zone = run.clock.zone
    begin = datetime.combine(start, clock_time(0), tzinfo=zone)
    finish = begin + timedelta(days=days)
    expected = {r.name: len(due_times(r.trigger, after=begin - timedelta(microseconds=1),
                                      until=finish - timedelta(microseconds=1)))
                for r in run.scheduler.rhythms}
    async with app.uow() as uow:
        letters = await uow.letters.counts(since=begin)
        states = await uow.outbox.counts()
    undelivered = sum(n for state, n in states.items() if state is not OutboxState.SENT)
    return Summary(start, days, seed, tabulate(run.records, expected), run.county.tally,
                   letters, run.port.written, run.port.images, undelivered, out, seconds)
