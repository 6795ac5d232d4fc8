"""The demo county's people at work between the rhythms, deterministic for a seed.

Liaisons report (most before the 16:00 reminder, some only after it, some miss days, two go
silent for a while), leaders visit, problems are raised and resolved, projects start, and a few
projects' investment is corrected down until they lag badly. `County.plan_day` turns a day into
`Act`s in time order; the run carries each out through a unit of work when its time comes.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from bot.demo.seed import PROBLEMS, STOP_REASONS, VISIT_NOTES, WORK_DONE
from domain.model import ProblemState, SiteStatus, Stage
from domain.progress import planned_pct, year_fraction
from domain.workdays import WorkCalendar
from storage.repositories.problems import NewProblem, ProblemUpdate
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWork

CORRECTION = "根据统计部门入库核查，核减不符合入库条件的投资"
FUNDS_PROBLEM = 4  # PROBLEMS[4]: 专项债资金拨付滞后, raised with the correction
DAY_START = clock_time(8, 30)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")


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

