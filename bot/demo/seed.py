"""Builds the demo county: places, people, projects and three weeks of believable history.

Deterministic for a given day and seed, so the README's screenshots and the tests agree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from bot.demo import county
from domain.clock import Clock, local_today
from domain.model import (
    Category,
    Light,
    ProblemCategory,
    ProjectLevel,
    RegionLevel,
    RoleKind,
    SiteStatus,
    Stage,
)
from domain.progress import lag_points, light_for
from storage.repositories.problems import NewProblem
from storage.repositories.projects import NewProject
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWork

HISTORY_DAYS = 21
CENT = Decimal("0.01")
TENTH = Decimal("0.1")

WORK_DONE = (
    "主体结构施工，完成{n}层楼板浇筑", "钢结构吊装{n}榀", "场地平整{n}00平方米",
    "基础桩基施工{n}根",
    "厂房屋面板安装", "设备基础浇筑完成{n}处", "室外管网铺设{n}0米", "二次结构砌筑",
    "道路硬化{n}0米", "设备进场安装调试", "外墙保温施工", "消防管道安装",
)
STOP_REASONS = ("连续降雨，暂停室外作业", "等待设计变更批复", "环保督查期间暂停土方作业")
PROBLEMS: tuple[tuple[ProblemCategory, str, bool], ...] = (
    (ProblemCategory.LAND, "二期用地还有12亩未完成报批，影响厂房开工", False),
    (ProblemCategory.DEMOLITION, "红线内3户房屋尚未签订拆迁协议", True),
    (ProblemCategory.UTILITIES, "施工用电容量不足，需增容至2000千伏安", False),
    (ProblemCategory.APPROVALS, "施工许可证办理卡在消防设计审查环节", False),
    (ProblemCategory.FUNDS, "专项债资金拨付滞后，拖欠工程款约800万元", True),
    (ProblemCategory.LABOUR, "钢筋工短缺，在岗人数不足计划的一半", False),
    (ProblemCategory.ENVIRONMENT_SAFETY, "进场道路扬尘治理不达标，被责令整改", False),
    (ProblemCategory.UTILITIES, "天然气接入管线尚未纳入燃气公司年度计划", False),
    (ProblemCategory.OTHER, "项目业主与施工方就进度款结算存在分歧", False),
)
VISIT_NOTES = (
    "现场查看施工进度，要求倒排工期、挂图作战", "与企业负责人座谈，协调用电增容事宜",
    "督促加快设备采购，确保年底前试生产", "检查安全生产，要求落实扬尘治理措施",
    "现场办公，协调征拆遗留问题", "听取项目汇报，要求每日报送进度",
)


@dataclass(frozen=True, slots=True)
class SeedCounts:
    projects: int
    people: int
    reports: int


def _at(day: date, hour: int, minute: int, clock: Clock) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clock.zone)


class _History:
    """Three weeks of daily reports, problems and visits for the projects under construction."""

    def __init__(self, uow: UnitOfWork, clock: Clock, rng: random.Random) -> None:
        self.uow, self.clock, self.rng = uow, clock, rng
        self.today = local_today(clock)
        self.reports = 0

    async def reports_for(self, project_id: int, spec: dict[str, Any], liaisons: list[int],
                          behind: Decimal) -> Decimal:
        """Writes the daily reports; returns the year-to-date investment reached."""
        start: date = spec["actual_start"]
        end: date = spec["planned_end"]
        first = self.today - timedelta(days=HISTORY_DAYS)
        share = Decimal((first - start).days) / Decimal(max((end - start).days, 1))
        progress = max(Decimal(3), min(Decimal(95), share * 100 - behind)).quantize(TENTH)
        annual: Decimal = spec["annual"]
        ytd_share = max(Decimal("0.05"), Decimal((first - date(first.year, 1, 1)).days) / 365
                        - behind / 100)
        ytd = (annual * ytd_share).quantize(CENT)
        diligence = self.rng.uniform(0.7, 1.0)
        for offset in range(HISTORY_DAYS, 0, -1):
            day = self.today - timedelta(days=offset)
            if self.rng.random() > diligence:
                continue
            stopped = self.rng.random() < 0.06
            if not stopped:
                progress = min(Decimal(100), progress + Decimal(self.rng.randint(0, 6)) / 10)
                ytd += (annual / 365 * Decimal(self.rng.uniform(0.3, 1.6))).quantize(CENT)
            await self.uow.reports.save(ReportInput(
                project_id=project_id, report_date=day, reporter_id=self.rng.choice(liaisons),
                site_status=SiteStatus.STOPPED if stopped else SiteStatus.WORKING,
                stop_reason=self.rng.choice(STOP_REASONS) if stopped else None,
                progress_pct=progress,
                work_done="" if stopped else self.rng.choice(WORK_DONE).format(
                    n=self.rng.randint(2, 9)),
                workers=0 if stopped else self.rng.randint(25, 320),
                ytd_investment=ytd),
                _at(day, self.rng.randint(16, 20), self.rng.randint(0, 59), self.clock))
            self.reports += 1
        return ytd

    async def visits(self, project_id: int, leader_id: int) -> None:
        for week in range(HISTORY_DAYS // 7):
            if self.rng.random() < 0.75:
                day = self.today - timedelta(days=7 * week + self.rng.randint(1, 6))
                await self.uow.visits.add(project_id, leader_id, day,
                                          self.rng.choice(VISIT_NOTES),
                                          _at(day, 15, 30, self.clock))

    async def problem(self, project_id: int, unit_id: int, reporter_id: int, index: int) -> None:
        category, text, urgent = PROBLEMS[index % len(PROBLEMS)]
        day = self.today - timedelta(days=self.rng.randint(2, HISTORY_DAYS))
        await self.uow.problems.open(
            NewProblem(project_id=project_id, category=category, description=text, urgent=urgent,
                       reporter_id=reporter_id, assignee_unit_id=unit_id,
                       deadline=day + timedelta(days=3 if urgent else 7)),
            _at(day, 10, 0, self.clock), day.year)


async def seed_demo(uow: UnitOfWork, clock: Clock, seed: int = 2026) -> SeedCounts:
    """Fill an empty database with the demo county; the caller commits."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not security
    now = clock.now()
    today = local_today(clock)
    regions: dict[str, int] = {}
    for code, name, level, parent in county.REGIONS:
        region = await uow.places.add_region(code, name, RegionLevel(level),
                                             regions[parent] if parent else None)
        regions[code] = region.id
    units: dict[str, int] = {}
    for code, name, region_code in county.UNITS:
        units[code] = (await uow.places.add_unit(code, name, regions[region_code])).id
    people: dict[str, int] = {}
    for spec in county.PEOPLE:
        person = await uow.people.add(spec["key"], spec["name"], now, title=spec["title"],
                                      unit_id=units[spec["unit"]] if spec["unit"] else None)
        people[spec["key"]] = person.id
        for role, scope in spec["roles"]:
            kind = RoleKind(role)
            if kind is RoleKind.UNIT:
                await uow.people.grant(person.id, kind, unit_id=units[scope])
            else:
                await uow.people.grant(person.id, kind, region_id=regions[scope])
    history = _History(uow, clock, rng)
    problems = 0
    for spec in county.PROJECTS:
        liaisons = [people[k] for k in spec["liaisons"]]
        project_id = await uow.projects.add(NewProject(
            code=spec["code"], name=spec["name"], region_id=regions[spec["region"]],
            unit_id=units[spec["unit"]], level=ProjectLevel(spec["level"]),
            category=Category(spec["category"]), stage=Stage(spec["stage"]),
            total_investment=spec["total"], chain=spec["chain"],
            planned_start=spec["planned_start"], planned_end=spec["planned_end"],
            actual_start=spec["actual_start"], actual_end=spec["actual_end"], lat=spec["lat"],
            lon=spec["lon"], radius_m=spec["radius_m"], lead_leader_id=people[spec["leader"]],
            aliases=spec["aliases"], liaison_ids=liaisons), now)
        if spec["annual"]:
            await uow.projects.set_plan(project_id, today.year, spec["annual"])
        if spec["stage"] != Stage.CONSTRUCTION:
            continue
        behind = Decimal(rng.choice((0, 0, 0, 5, 12, 25)))
        ytd = await history.reports_for(project_id, spec, liaisons, behind)
        await history.visits(project_id, people[spec["leader"]])
        if rng.random() < 0.35:
            await history.problem(project_id, units[spec["unit"]], liaisons[0], problems)
            problems += 1
        lag = lag_points(ytd, spec["annual"], today - timedelta(days=1))
        light = light_for(lag) if lag is not None else Light.GREEN
        await uow.projects.set_light(project_id, light)
    return SeedCounts(len(county.PROJECTS), len(county.PEOPLE), history.reports)
