"""The five rhythms on a crafted county: who gets what, once, at the right time.

A `FixedClock` is moved and `run_due()` called, as the scheduler does at each fire time; nothing
sleeps. Every storage test here runs on SQLite and (when configured) PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from sqlalchemy import select, update

from bot.config import RhythmSettings
from bot.i18n import translator
from domain.clock import FixedClock
from domain.events import Outgoing
from domain.model import Category, LetterKind, Light, ProjectLevel, SiteStatus, Stage
from domain.quiet import parse_quiet
from domain.workdays import WorkCalendar
from reminders.chart_types import Bar, ChartPort, Series
from reminders.charts import Charts, find_cjk_font
from reminders.rhythms import JOBS, build_rhythms
from reminders.rhythms.base import RhythmDeps
from reminders.scheduler import RhythmScheduler
from storage import models as m
from storage.repositories.projects import NewProject
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWorkFactory
from tests.conftest import ZONE
from tests.world import World

CRONTABS = {name: getattr(RhythmSettings(), name) for name in JOBS}  # the defaults


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


@dataclass(frozen=True)
class Sent:
    kind: str
    period: str
    recipient: str
    text: str
    buttons: list[str]
    image: bool
    due: datetime


def scheduler(uow: UnitOfWorkFactory, clock: FixedClock,
              calendar: WorkCalendar | None = None, charts: ChartPort | None = None,
              ) -> RhythmScheduler:
    deps = RhythmDeps(texts_for=translator, zone=ZONE, calendar=calendar or WorkCalendar(),
                      charts=charts or Charts(find_cjk_font()), default_language="zh-CN")
    return RhythmScheduler(uow, clock, build_rhythms(CRONTABS, deps, ZONE),
                           grace=timedelta(hours=6))


async def table(uow: UnitOfWorkFactory, model: type[T], *order: Any) -> list[T]:
    """Every row of a table, read as the test's own query."""
    async with uow() as u:
        rows = list(await u.session.scalars(select(model).order_by(*order)))
        u.session.expunge_all()  # kept as read, not expired by the rollback at the end
    return rows


async def outbox(uow: UnitOfWorkFactory, kind: str | None = None) -> list[Sent]:
    found = []
    for row in await table(uow, m.OutboxMessage, m.OutboxMessage.id):
        message = Outgoing.from_payload(row.payload)
        found.append(Sent(row.kind, row.period, row.recipient, message.text,
                          [b.data for line in message.buttons for b in line],
                          message.image is not None, row.next_attempt_at))
    return [s for s in found if kind is None or s.kind == kind]


async def report(uow: UnitOfWorkFactory, project_id: int, day: date, reporter: int, *,
                 ytd: Decimal | None = None,
                 status: SiteStatus = SiteStatus.WORKING) -> None:
    async with uow() as u:
        await u.reports.save(ReportInput(project_id, day, reporter, status, Decimal(40),
                                         "主体施工", 30, ytd_investment=ytd,
                                         stop_reason="降雨" if status is SiteStatus.STOPPED
                                         else None), at(day, 12))
        await u.commit()


async def set_project(uow: UnitOfWorkFactory, project_id: int, **values: object) -> None:
    async with uow() as u:
        await u.session.execute(  # crafting what no form edits yet
            update(m.Project).where(m.Project.id == project_id).values(**values))
        await u.commit()


async def bind(uow: UnitOfWorkFactory, clock: FixedClock, *, region: int | None,
               subscriptions: list[str], by: int, chat: str) -> int:
    async with uow() as u:
        group = await u.groups.prepare(chat, region_id=region, unit_id=None,
                                       subscriptions=subscriptions, now=clock.now())
        await u.groups.bind(group.id, channel="telegram", chat_id=chat, title=chat, by=by,
                            now=clock.now())
        await u.commit()
    return group.id


MONDAY = date(2026, 11, 23)
T = TypeVar("T")


async def test_one_reminder_per_liaison_listing_only_unreported_projects(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    await report(uow, world.projects["HB-002"], MONDAY, world.liaison)
    clock.set(at(MONDAY, 16))
    records = await scheduler(uow, clock).run_due()
    assert [(r.rhythm, r.outcome) for r in records] == [("liaison_reminder", "ran")]
    sent = await outbox(uow, "remind.report")
    assert {s.recipient for s in sent} == {f"person:{world.liaison}",
                                           f"person:{world.outsider_liaison}"}
    wang = next(s for s in sent if s.recipient == f"person:{world.liaison}")
    assert "HB-001" in wang.text and "HB-002" not in wang.text
    assert wang.buttons == ["/report HB-001"]
    assert wang.period == "2026-11-23@16:00"


async def test_five_unreported_projects_make_one_message(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    async with uow() as u:
        for n in range(4, 7):
            await u.projects.add(NewProject(
                code=f"HB-00{n}", name=f"汉滨区测试项目{n}", region_id=world.hanbin,
                unit_id=world.unit_industry, level=ProjectLevel.COUNTY,
                category=Category.INDUSTRIAL,
                stage=Stage.CONSTRUCTION, total_investment=Decimal(1000),
                liaison_ids=(world.liaison,)), clock.now())
        await u.commit()
    clock.set(at(MONDAY, 16))
    await scheduler(uow, clock).run_due()
    mine = [s for s in await outbox(uow, "remind.report")
            if s.recipient == f"person:{world.liaison}"]
    assert len(mine) == 1
    assert all(f"HB-00{n}" in mine[0].text for n in range(1, 7) if n != 3)
    assert len(mine[0].buttons) == 5


async def test_a_restart_between_runs_sends_nothing_twice(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    clock.set(at(MONDAY, 16, 0))
    await scheduler(uow, clock).run_due()
    first = await outbox(uow)
    clock.set(at(MONDAY, 16, 3))
    assert await scheduler(uow, clock).run_due() == []  # a new process: nothing due again
    assert await scheduler(uow, clock).run_due() == []
    assert await outbox(uow) == first
    clock.set(at(MONDAY, 19))
    await scheduler(uow, clock).run_due()
    evening = [s for s in await outbox(uow, "remind.report") if s.period.endswith("19:00")]
    assert len(evening) == len(first)  # the 19:00 reminder is its own message, sent once


async def test_downtime_beyond_the_grace_window_skips_with_a_log_line(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock,
        caplog: pytest.LogCaptureFixture) -> None:
    clock.set(at(MONDAY, 16))
    await scheduler(uow, clock).run_due()
    before = await outbox(uow, "remind.report")
    clock.set(at(MONDAY + timedelta(days=1), 2))  # down from 16:05 to 02:00: 19:00 is 7 h ago
    with caplog.at_level(logging.WARNING, logger="reminders.scheduler"):
        records = await scheduler(uow, clock).run_due()
    outcomes = {r.rhythm: r.outcome for r in records}
    assert outcomes["liaison_reminder"] == "skipped"
    assert any("liaison_reminder" in line and "grace" in line for line in caplog.messages)
    assert await outbox(uow, "remind.report") == before
    # 21:00 is within the 6 h window and is caught up, but at 02:00 the leader sleeps:
    # a list about yesterday is not worth waking anyone for.
    assert outcomes["leader_unreported"] == "ran"
    assert await outbox(uow, "remind.unreported") == []


async def test_leaders_get_their_unreported_list_at_21(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    await report(uow, world.projects["HB-001"], MONDAY, world.liaison)
    clock.set(at(MONDAY, 21))
    await scheduler(uow, clock).run_due()
    sent = await outbox(uow, "remind.unreported")
    assert [s.recipient for s in sent] == [f"person:{world.leader}"]  # HB-003, XY-001: no leader
    assert "HB-002" in sent[0].text and "王磊" in sent[0].text and "HB-001" not in sent[0].text


async def test_public_holiday_and_adjusted_working_day(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    """A site that rests on rest days is not reminded on National Day nor an ordinary
    Saturday, but is on the adjusted working Saturday (调休) 2026-10-10; a site that works
    weekends is reminded every day."""
    await set_project(uow, world.projects["HB-001"], works_rest_days=False)
    await set_project(uow, world.projects["HB-002"], works_rest_days=False)
    reminded: dict[date, str] = {}
    for day in (date(2026, 10, 1), date(2026, 10, 10), date(2026, 10, 17), date(2026, 10, 19)):
        clock.set(at(day, 16))
        await scheduler(uow, clock).run_due()
        texts = [s.text for s in await outbox(uow, "remind.report")
                 if s.period.startswith(day.isoformat())]
        reminded[day] = "\n".join(texts)
    assert "HB-001" not in reminded[date(2026, 10, 1)]  # 国庆节
    assert "XY-001" in reminded[date(2026, 10, 1)]  # works through holidays
    assert "HB-001" in reminded[date(2026, 10, 10)]  # 调休: a working Saturday
    assert "HB-001" not in reminded[date(2026, 10, 17)]  # an ordinary Saturday
    assert "HB-001" in reminded[date(2026, 10, 19)]  # Monday


async def test_an_unknown_year_warns_the_dispatchers_once_and_keeps_running(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    await set_project(uow, world.projects["HB-001"], works_rest_days=False)
    for day in (date(2027, 1, 2), date(2027, 1, 4)):  # Saturday, Monday of an unknown year
        clock.set(at(day, 16))
        await scheduler(uow, clock).run_due()
    warnings = await outbox(uow, "calendar.unknown")
    assert [s.recipient for s in warnings] == [f"person:{world.dispatcher}"]
    assert "2027" in warnings[0].text
    by_day = {s.period[:10]: s.text for s in await outbox(uow, "remind.report")
              if s.recipient == f"person:{world.liaison}"}
    assert "HB-001" not in by_day["2027-01-02"] and "HB-001" in by_day["2027-01-04"]


async def test_daily_summary_goes_to_each_group_for_its_scope(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    hanbin = await bind(uow, clock, region=world.hanbin, subscriptions=["daily_summary"],
                        by=world.dispatcher, chat="-100")
    city = await bind(uow, clock, region=world.city, subscriptions=["daily_summary"],
                      by=world.dispatcher, chat="-200")
    await bind(uow, clock, region=world.city, subscriptions=["weekly_digest"],
               by=world.dispatcher, chat="-300")
    await report(uow, world.projects["HB-001"], MONDAY, world.liaison,
                 status=SiteStatus.STOPPED)
    clock.set(at(MONDAY, 21, 30))
    await scheduler(uow, clock).run_due()
    sent = {s.recipient: s.text for s in await outbox(uow, "digest.daily")}
    assert set(sent) == {f"group:{hanbin}", f"group:{city}"}
    assert "应报 3 个，已报 1 个" in sent[f"group:{hanbin}"]
    assert "应报 4 个，已报 1 个" in sent[f"group:{city}"]
    assert "停工项目 1 个" in sent[f"group:{hanbin}"]
    assert "XY-001" not in sent[f"group:{hanbin}"] and "XY-001" in sent[f"group:{city}"]


async def test_visit_reminders_on_monday_and_thursday_list_unvisited_projects(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    async with uow() as u:
        await u.visits.add(world.projects["HB-001"], world.leader, MONDAY, "现场查看",
                           at(MONDAY, 8))
        await u.commit()
    clock.set(at(MONDAY, 9))
    await scheduler(uow, clock).run_due()
    monday = await outbox(uow, "remind.visit")
    assert [s.recipient for s in monday] == [f"person:{world.leader}"]
    assert "HB-002" in monday[0].text and "HB-001" not in monday[0].text
    assert monday[0].buttons == ["/visit HB-002"]
    async with uow() as u:
        await u.visits.add(world.projects["HB-002"], world.leader, MONDAY + timedelta(days=2),
                           "协调用电", at(MONDAY, 18))
        await u.commit()
    clock.set(at(MONDAY + timedelta(days=3), 9))  # Thursday: all visited, nothing to say
    await scheduler(uow, clock).run_due()
    assert await outbox(uow, "remind.visit") == monday


async def test_weekly_digest_with_a_chart_on_friday(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    group = await bind(uow, clock, region=world.city, subscriptions=["weekly_digest"],
                       by=world.dispatcher, chat="-300")
    for offset in range(5):
        await report(uow, world.projects["HB-001"], MONDAY + timedelta(days=offset),
                     world.liaison, ytd=Decimal(9000))
    friday = MONDAY + timedelta(days=4)
    clock.set(at(friday, 17))
    await scheduler(uow, clock).run_due()
    sent = await outbox(uow, "digest.weekly")
    assert [(s.recipient, s.period) for s in sent] == [(f"group:{group}", "2026-W48")]
    assert "实报 5 次" in sent[0].text and "应报 20 次" in sent[0].text
    assert sent[0].image == (find_cjk_font() is not None)


class CountingCharts:
    """Draws a chart as the names of its bars, and counts the drawings."""

    available = True

    def __init__(self) -> None:
        self.drawn: list[list[str]] = []

    def bars(self, title: str, bars: Sequence[Bar], *, unit: str = "%",
             reference: float | None = None, reference_label: str = "") -> bytes:
        self.drawn.append([bar.label for bar in bars])
        return ("chart:" + "|".join(bar.label for bar in bars)).encode()

    def trend(self, title: str, series: Sequence[Series], *, unit: str = "") -> bytes:
        raise AssertionError("no digest draws a trend")


async def test_groups_that_follow_one_scope_share_one_drawing(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    """汉滨's HQ group and its leaders' group see the same chart, drawn once; 旬阳's its own."""
    hq = await bind(uow, clock, region=world.hanbin, subscriptions=["weekly_digest"],
                    by=world.dispatcher, chat="-401")
    leaders = await bind(uow, clock, region=world.hanbin, subscriptions=["weekly_digest"],
                         by=world.dispatcher, chat="-402")
    xunyang = await bind(uow, clock, region=world.xunyang, subscriptions=["weekly_digest"],
                         by=world.dispatcher, chat="-403")
    for code in ("HB-001", "XY-001"):
        await report(uow, world.projects[code], MONDAY, world.liaison, ytd=Decimal(9000))
    charts = CountingCharts()
    clock.set(at(MONDAY + timedelta(days=4), 17))
    await scheduler(uow, clock, charts=charts).run_due()
    images = {row.recipient: Outgoing.from_payload(row.payload).image
              for row in await table(uow, m.OutboxMessage, m.OutboxMessage.id)
              if row.kind == "digest.weekly"}
    assert charts.drawn == [["汉滨区工信局", "汉滨区农业农村局"], []]
    assert images == {f"group:{hq}": "chart:汉滨区工信局|汉滨区农业农村局".encode(),
                      f"group:{leaders}": "chart:汉滨区工信局|汉滨区农业农村局".encode(),
                      f"group:{xunyang}": b"chart:"}


NOV_20 = date(2026, 11, 20)


async def craft_letters(uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    """HB-001 far behind its plan; HB-003 silent; a project about to start and one overdue."""
    await report(uow, world.projects["HB-001"], NOV_20, world.liaison, ytd=Decimal(2000))
    await report(uow, world.projects["HB-002"], NOV_20, world.liaison)
    await report(uow, world.projects["XY-001"], NOV_20, world.outsider_liaison)
    async with uow() as u:
        for code, start in (("HB-010", date(2026, 12, 5)), ("HB-011", date(2026, 10, 1))):
            await u.projects.add(NewProject(
                code=code, name=f"汉滨区前期项目{code}", region_id=world.hanbin,
                unit_id=world.unit_farming, level=ProjectLevel.COUNTY, category=Category.INDUSTRIAL,
                stage=Stage.PRELIMINARY, total_investment=Decimal(5000), planned_start=start,
                lead_leader_id=world.leader), clock.now())
        await u.commit()


async def test_ten_day_check_issues_each_letter_once_to_the_unit_and_the_leader(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    await craft_letters(uow, world, clock)
    clock.set(at(NOV_20, 17))
    await scheduler(uow, clock).run_due()
    letters = await table(uow, m.Letter, m.Letter.seq)
    async with uow() as u:
        lights = {p.code: p.light for p in await u.projects.by_ids(
            list(world.projects.values()), 2026)}
    issued = {(lt.project_id, lt.kind) for lt in letters}
    ids = world.projects
    assert (ids["HB-001"], LetterKind.SUPERVISION) in issued  # 2000 of 12000 by 20 November
    assert (ids["HB-003"], LetterKind.SUPERVISION) in issued  # never reported
    assert (ids["HB-002"], LetterKind.SUPERVISION) not in issued  # no plan, reports daily
    kinds = {lt.cause.split(":")[0]: lt.kind for lt in letters}
    assert kinds["start_soon"] is LetterKind.REMINDER
    assert kinds["start_overdue"] is LetterKind.ASSIGNMENT
    assert [lt.seq for lt in letters if lt.region_id == world.hanbin] == list(
        range(1, len([lt for lt in letters if lt.region_id == world.hanbin]) + 1))
    assert lights["HB-001"] is Light.RED
    sent = await outbox(uow, "letter")
    silent = next(lt for lt in letters if lt.project_id == ids["HB-003"])
    to_farming = [s for s in sent if s.period == str(silent.id)]
    assert {s.recipient for s in to_farming} == {f"person:{world.unit_admin}"}
    assert to_farming[0].buttons == [f"/ack {silent.id}"]
    behind = next(lt for lt in letters if lt.project_id == ids["HB-001"])
    assert {s.recipient for s in sent if s.period == str(behind.id)} == {
        f"person:{world.leader}"}  # the industry unit has nobody to sign; its leader hears
    # Ten days later: no second letter for the same causes; HB-002 and XY-001, silent
    # since the 20th, now get theirs.
    clock.set(at(date(2026, 11, 30), 17))
    await scheduler(uow, clock).run_due()
    first = max(x.id for x in letters)
    later = [lt for lt in await table(uow, m.Letter, m.Letter.id) if lt.id > first]
    assert {(lt.project_id, lt.kind, lt.cause) for lt in later} == {
        (ids["HB-002"], LetterKind.SUPERVISION, "silent:2026-11-3"),
        (ids["XY-001"], LetterKind.SUPERVISION, "silent:2026-11-3")}


async def test_a_red_project_turns_yellow_only_after_catching_up(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    project = world.projects["HB-001"]
    await report(uow, project, NOV_20, world.liaison, ytd=Decimal(2000))
    clock.set(at(NOV_20, 17))
    await scheduler(uow, clock).run_due()
    await report(uow, project, date(2026, 11, 30), world.liaison, ytd=Decimal(11500))
    clock.set(at(date(2026, 11, 30), 17))
    await scheduler(uow, clock).run_due()
    async with uow() as u:
        summary = (await u.projects.by_ids([project], 2026))[0]
        still_open = await u.letters.open_supervision([project])
    assert summary.light is Light.YELLOW  # caught up (4 points behind): yellow, not green
    assert still_open == set()  # the supervision letter is closed


async def test_ten_day_report_monthly_and_quarterly_digests_reach_their_groups(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    group = await bind(uow, clock, region=world.hanbin,
                       subscriptions=["ten_day_report", "monthly_ranking", "quarterly_review"],
                       by=world.dispatcher, chat="-100")
    await craft_letters(uow, world, clock)
    clock.set(at(NOV_20, 17))
    await scheduler(uow, clock).run_due()
    ten_day = await outbox(uow, "digest.ten_day")
    assert [(s.recipient, s.period) for s in ten_day] == [(f"group:{group}", "2026-11-2")]
    assert "11月中旬" in ten_day[0].text and "督办函" in ten_day[0].text
    clock.set(at(date(2026, 12, 1), 9))
    await scheduler(uow, clock).run_due()
    monthly = await outbox(uow, "digest.monthly")
    assert [(s.recipient, s.period) for s in monthly] == [(f"group:{group}", "2026-11")]
    assert "汉滨区工信局" in monthly[0].text
    clock.set(at(date(2027, 1, 1), 9))
    await scheduler(uow, clock).run_due()
    quarterly = await outbox(uow, "digest.quarterly")
    assert [s.period for s in quarterly] == ["2026-Q4"]
    assert "第4季度" in quarterly[0].text


async def test_july_monthly_review_carries_the_half_year_check(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    await bind(uow, clock, region=world.hanbin, subscriptions=["monthly_ranking"],
               by=world.dispatcher, chat="-100")
    await report(uow, world.projects["HB-001"], date(2026, 6, 30), world.liaison,
                 ytd=Decimal(6500))
    clock.set(at(date(2026, 7, 1), 9))
    await scheduler(uow, clock).run_due()
    (july,) = await outbox(uow, "digest.monthly")
    assert "双过半" in july.text and "1 个完成年度计划过半" in july.text
    clock.set(at(date(2026, 8, 1), 9))
    await scheduler(uow, clock).run_due()
    august = [s for s in await outbox(uow, "digest.monthly") if s.period == "2026-07"]
    assert "双过半" not in august[0].text


async def test_quiet_hours_hold_a_letter_until_morning(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    await craft_letters(uow, world, clock)
    clock.set(at(NOV_20, 22, 30))  # the 17:00 check caught up late in the evening
    await scheduler(uow, clock).run_due()
    letters = await outbox(uow, "letter")
    assert letters
    assert {s.due for s in letters} == {at(NOV_20 + timedelta(days=1), 7, 30)}


async def test_a_persons_own_quiet_hours_decide_when_their_letter_comes(
        uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> None:
    """The unit's clerk sleeps until 9; the lead leader wants letters at any hour."""
    await craft_letters(uow, world, clock)
    async with uow() as u:
        await u.people.set_quiet(world.unit_admin, parse_quiet("22点到9点"))
        await u.people.set_quiet(world.leader, parse_quiet("关闭"))
        await u.commit()
    late = at(NOV_20, 22, 30)
    clock.set(late)  # the 17:00 check caught up late in the evening
    await scheduler(uow, clock).run_due()
    letters = await outbox(uow, "letter")
    due = {s.recipient: s.due for s in letters}
    assert due[f"person:{world.unit_admin}"] == at(NOV_20 + timedelta(days=1), 9)
    assert due[f"person:{world.leader}"] == late
    async with uow() as u:
        await u.people.set_quiet(world.unit_admin, None)  # back to the default
        admin = await u.people.get(world.unit_admin)
    assert admin is not None and admin.quiet is None
