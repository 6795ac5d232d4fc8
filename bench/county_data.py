"""A big synthetic county for benchmarks (the weekly digest, the ten-day check), built fast.

Run: `.venv/bin/python bench/county_data.py [--projects 5000 --days 365 --problems 20000]
[--backend both|sqlite|postgres] [--rebuild]` builds (or reuses) the SQLite file and the
PostgreSQL database for that size, checks them through the app's repositories (`verify`), and
prints the row counts and the seconds the build took. At the default size (2 cores): 1,289,586
reports; SQLite about 10 s (a 226 MiB file), PostgreSQL about 7 s (247 MiB).

Use from a benchmark:

    size = CountySize()                         # 5,000 projects, 365 days, 20,000 problems
    path = sqlite_cached(size)                  # bench/.data/county-….sqlite3, built once
    url = await fresh_postgres(size)            # fieldbot_bench_<hash>, built once
    county = await generate(url, size)          # or fill an empty database yourself

The cached SQLite file and PostgreSQL database are reused as they are: a benchmark that writes
(letters, lights, the outbox) should work on a copy — `sqlite_scratch(size, folder)` copies the
file, `scratch_postgres(size)` clones the database (`CREATE DATABASE … TEMPLATE`).

What is in it (deterministic for `CountySize.seed`; the day everything is seen from is `end`):

- one city (云州市) with 12 counties, each with 2–4 towns; about 80 responsible units over the
  counties; people: a liaison for every two projects (both in one county; the liaison's unit is
  the first project's), lead leaders (LEADER, county scope, one per 20 projects), 13 dispatchers
  (one per county, one for the city), 20 viewers, 1–2 UNIT people per unit. Keys are
  `liaison_00001`, `leader_0001`, `dispatcher_c03`, `viewer_01`, `unit_c03_fgj_1`.
- projects coded `C03-0042` (county 3, its 42nd): about 78 % `construction`, 12 % `production`
  (completed during the window), 6 % `preliminary` and 4 % `reserve` (planned to start within
  weeks, later, or overdue). Total investment 1,000–200,000 万元, a lead leader of the county,
  `works_rest_days` True for 90 %; a `project_plans` row for `end.year` (shares 20/50/80/100).
  `light` is left NULL, as before the first ten-day check.
- daily_reports for every project under construction (from its start, or the window's) and every
  production project up to its completion, one per day for `days` days ending at `end`: each
  project misses 0–16 % of its days (8 % on average), projects that do not work rest days file
  nothing on weekends and holidays, 3 % of projects are silent for their last 5–10 days; most
  sites stop around the Spring Festival and now and then for rain, inspections, money (status
  `stopped` with a reason, no workers, progress held). Progress rises monotonically to about 100
  over the project's span; the year-to-date investment rises through the year at the project's
  pace (some lag far behind the plan) and restarts on 1 January; it is NULL on 30 % of rows (the
  optional question skipped). Version 1, filed between 16:00 and 23:00 by the liaison.
- problems spread over the window, numbered as the app numbers them (`P-2026-0001`, by the
  year of filing, in filing order), 8 categories; 30 % still open (mostly `assigned`, some
  `in_progress`, a few `open` without a unit; filed recently, many past their deadline, levels
  1–5 by how long overdue, most at 1), the rest `resolved` or `closed` with their times. The
  `counters` rows hold each year's last number, so the app numbers on from there.

Not written (the benchmarks do not read them): report_versions, audit_log, photos and photo
attachments, problem_events, visits, letters, chat identities, group chats, subscriptions,
outbox. Rows are written as the ORM writes them: on SQLite timestamps as naive UTC text
`YYYY-MM-DD HH:MM:SS.ffffff`, dates as `YYYY-MM-DD`, booleans as 0/1; amounts as the scaled
integers of `ScaledDecimal` (万元 × 10⁴, percent × 10). `verify()` reads rows back through the
repositories and compares them with the generator's own values (on PostgreSQL its rolled-back
writes use up an id of a few sequences: harmless gaps).

Loading: SQLite through the stdlib `sqlite3` module on the migrated file (journal off and
synchronous OFF during the load, one transaction; WAL again at the end, no ANALYZE — the app
never runs one); PostgreSQL through asyncpg `copy_records_to_table` in one transaction with
`session_replication_role = replica` (no foreign-key triggers during the copy: the data is
consistent by construction), then the id sequences are set past the ids written and ANALYZE runs.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import hashlib
import json
import math
import os
import random
import shutil
import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.model import (
    Category,
    ProblemCategory,
    ProblemState,
    ProjectLevel,
    RegionLevel,
    RoleKind,
    SiteStatus,
    Stage,
)
from storage import migrate
from storage import models as m
from storage.db import create_engine, session_factory
from storage.repositories.problems import NewProblem, ProblemsRepository, problem_number
from storage.repositories.reports import ReportInput, ReportsRepository
from storage.uow import UnitOfWorkFactory

try:
    import chinese_calendar
except ImportError:  # pragma: no cover - a dependency of the app, but only for rest days here
    chinese_calendar = None

T = TypeVar("T")

GENERATOR_VERSION = 1  # bump when the data changes: cached files and databases are rebuilt
ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DATA = Path(__file__).resolve().parent / ".data"
LOCAL = timedelta(hours=8)  # Asia/Shanghai has had no daylight saving since 1991
HOUR_US = 3_600_000_000
DAY = timedelta(days=1)
WAN = 10_000  # ScaledDecimal(4): 万元 × 10⁴
PCT = 10  # ScaledDecimal(1): percent × 10
SPRING_FESTIVAL = {2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
                   2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13)}


@dataclass(frozen=True)
class CountySize:
    projects: int = 5000
    days: int = 365
    problems: int = 20000
    end: date = date(2026, 11, 20)  # the last report day; reports cover `days` days ending here
    seed: int = 1

    @property
    def first(self) -> date:
        """The first report day."""
        return self.end - timedelta(days=self.days - 1)

    def key(self) -> str:
        """A short hash of the size and the generator's version: the name of its database."""
        text = (f"{self.projects}/{self.days}/{self.problems}/{self.end.isoformat()}/{self.seed}"
                f"/v{GENERATOR_VERSION}")
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def label(self) -> str:
        return (f"p{self.projects}-d{self.days}-pr{self.problems}-{self.end:%Y%m%d}"
                f"-s{self.seed}-v{GENERATOR_VERSION}")


@dataclass(frozen=True)
class GeneratedCounty:
    url: str
    rows: dict[str, int]  # rows written per table
    seconds: float  # the whole of generate(): migration, generation, load, ANALYZE
    migrate_seconds: float = 0.0
    head: str | None = None
    reused: bool = False  # read from the cache's record, not built now

    @property
    def reports(self) -> int:
        return self.rows.get("daily_reports", 0)

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"reused": False}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> GeneratedCounty:
        data = json.loads(text)
        return cls(data["url"], dict(data["rows"]), float(data["seconds"]),
                   float(data["migrate_seconds"]), data["head"], reused=True)


# ---- words -------------------------------------------------------------------------------------

CITY = ("990100", "云州市")
COUNTIES = ("云城区", "东湖区", "青山区", "临江县", "石门县", "安平县", "清溪县", "白沙县",
            "龙泉市", "永丰县", "长宁县", "桃源县")
COUNTY_WEIGHTS = (1.5, 1.3, 1.0, 1.2, 0.8, 0.9, 0.7, 0.6, 1.4, 1.0, 0.8, 0.8)
TOWNS = (
    "城关镇", "东城街道", "西城街道", "南岭镇", "北山镇", "河口镇", "石桥镇", "新塘镇", "白马镇",
    "青龙镇", "高桥镇", "黄田镇", "马坪镇", "柳溪乡", "杨林镇", "长乐镇", "金鸡镇", "太平镇",
    "双江镇", "龙潭镇", "枫林镇", "茶山镇", "花桥镇", "三合镇", "大坪乡", "望城镇", "沙田镇",
    "梅花镇", "水口镇", "云台镇", "凤凰镇", "桃花镇", "荷塘镇", "松柏镇", "古城镇", "官庄镇",
    "竹园镇", "新华街道", "文昌街道", "江南街道", "平安镇", "仙桥镇", "永安镇", "安乐乡",
    "洪山镇", "和平镇", "清水镇", "银山镇")
# (name after the county's, short name as people say it, code)
UNIT_KINDS = (
    ("发展和改革局", "发改局", "FGJ"), ("工业和信息化局", "工信局", "GXJ"),
    ("住房和城乡建设局", "住建局", "ZJJ"), ("交通运输局", "交通运输局", "JTJ"),
    ("经济开发区管理委员会", "经开区管委会", "JKQ"), ("农业农村局", "农业农村局", "NYJ"),
    ("水利局", "水利局", "SLJ"), ("教育局", "教育局", "JYJ"), ("卫生健康局", "卫健局", "WJJ"),
    ("文化和旅游局", "文旅局", "WLJ"), ("自然资源局", "自然资源局", "ZRJ"))
SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨黄黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖"
    "田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛"
    "闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
COMPOUND_SURNAMES = ("欧阳", "令狐", "司马", "上官")
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂华建国志文斌红梅林海燕鹏辉飞宇浩凯俊婷雪琴"
    "云峰波宁晓春东亮成龙欣玉兰英德永新荣庆翔晨雨佳思嘉子睿博毅瑶琳倩颖凤萍洁晶鑫磊昊天泽")
PRODUCTS = {  # product: its industry chain
    "新型建材": "新型材料", "高性能复合材料": "新型材料", "绿色包装材料": "新型材料",
    "改性塑料": "新型材料", "环保纸制品": "新型材料", "精制茶": "富硒茶业",
    "富硒农产品深加工": "绿色食品", "饲料": "绿色食品", "预制菜": "绿色食品", "有机肥": "绿色食品",
    "锂电池正极材料": "新能源", "光伏玻璃": "新能源", "特种钢材": "装备制造", "铝型材": "装备制造",
    "数控机床": "装备制造", "中药饮片": "生物医药", "智能家电配件": "电子信息",
    "电子线束": "电子信息", "纺织面料": "纺织服装", "冷链仓储": "现代物流"}
NUMERALS = "一二三四五六七八九十"
COMPANIES = ("华兴", "恒通", "鑫源", "瑞丰", "天成", "宏达", "金泰", "远航", "中科", "博润",
             "新宇", "盛隆", "汇川", "嘉禾", "永泰", "长虹", "银河", "正邦", "立信", "和富")
ROADS = ("人民", "建设", "解放", "滨江", "迎宾", "工业", "文化", "环城", "新华", "学府")
RIVERS = ("清溪", "白沙", "桃花", "龙泉", "青龙", "柳溪", "石门", "云河")
INDUSTRIAL = (
    "{company}年产{n}万吨{product}项目", "{company}{product}生产线建设项目",
    "{county}经济开发区标准化厂房建设项目", "{company}{product}智能制造产业园项目",
    "{county}{chain}产业园建设项目", "{company}{product}技术改造项目")
INFRASTRUCTURE = (
    "{town}至{town2}公路改扩建工程", "{county}城区污水处理厂提标改造工程", "{town}集镇供水工程",
    "{river}河流域综合治理工程", "{county}城区{road}路改造工程",
    "{county}经济开发区基础设施配套工程",
    "{town}农村电网升级改造工程", "{county}智慧停车场建设项目", "{county}110千伏变电站新建工程",
    "{town}片区棚户区改造项目", "{town}冷链物流中心建设项目", "{county}城乡供水一体化工程")
PUBLIC_SERVICE = (
    "{county}人民医院住院综合楼建设项目", "{county}第{cn}中学新建项目", "{town}中心幼儿园建设项目",
    "{county}妇幼保健院迁建项目", "{county}文化艺术中心建设项目", "{county}养老服务中心建设项目",
    "{town}卫生院改扩建项目", "{county}全民健身中心建设项目", "{county}职业技术学校实训楼项目",
    "{town}农贸市场改造项目")
PHASES = ("", "", "", "（一期）", "（二期）", "（三期）")
WORK_DONE = (
    "主体结构施工，完成{n}层楼板浇筑", "钢结构吊装{n}榀", "场地平整{n}00平方米",
    "基础桩基施工{n}根",
    "厂房屋面板安装", "设备基础浇筑完成{n}处", "室外管网铺设{n}0米", "二次结构砌筑",
    "道路硬化{n}0米", "设备进场安装调试", "外墙保温施工", "消防管道安装", "土方开挖{n}00立方米",
    "路基填筑{n}0米", "桥梁墩柱浇筑{n}根", "内部装饰装修", "电气设备安装", "绿化种植{n}00平方米")
STOP_REASONS = ("连续降雨，暂停室外作业", "等待设计变更批复", "环保督查期间暂停土方作业",
                "重污染天气预警，停止土石方作业", "主要材料供应不足", "高温天气，停止户外作业",
                "征拆问题阻工", "工程款未到位，暂停施工", "安全检查停工整改")
FESTIVAL_STOP = "春节放假停工"
PROBLEM_TEXTS: dict[ProblemCategory, tuple[str, ...]] = {
    ProblemCategory.LAND: ("项目用地还有{n}亩未完成报批，影响开工",
                           "土地征收补偿标准存在争议，{n}户未签约",
                           "新增建设用地指标不足，需调剂{n}亩"),
    ProblemCategory.DEMOLITION: ("红线内{n}户房屋尚未签订拆迁协议", "施工便道范围内{n}座坟墓待迁",
                                 "高压电力杆线迁改滞后"),
    ProblemCategory.APPROVALS: ("施工许可证办理卡在消防设计审查环节", "环评批复尚未取得",
                                "规划许可变更待审批", "林地使用审批未完成"),
    ProblemCategory.FUNDS: ("专项债资金拨付滞后，拖欠工程款约{n}00万元",
                            "银行贷款审批未到位，资金缺口{n}000万元", "地方配套资金未落实"),
    ProblemCategory.UTILITIES: ("施工用电容量不足，需增容至{n}000千伏安",
                                "天然气接入管线尚未纳入燃气公司年度计划",
                                "供水管网未接通，施工用水靠罐车运送"),
    ProblemCategory.ENVIRONMENT_SAFETY: ("进场道路扬尘治理不达标，被责令整改",
                                         "深基坑支护方案未通过专家论证", "塔吊安装未办理使用登记"),
    ProblemCategory.LABOUR: ("钢筋工短缺，在岗人数不足计划的一半", "农民工工资保证金未按规定缴存",
                             "节后返岗人数不足{n}0%"),
    ProblemCategory.OTHER: ("项目业主与施工方就进度款结算存在分歧", "设计变更导致工期延误约{n}天",
                            "周边群众阻工，要求修缮村道"),
}
PROBLEM_WEIGHTS = {ProblemCategory.LAND: 14, ProblemCategory.DEMOLITION: 10,
                   ProblemCategory.APPROVALS: 18, ProblemCategory.FUNDS: 20,
                   ProblemCategory.UTILITIES: 12, ProblemCategory.ENVIRONMENT_SAFETY: 9,
                   ProblemCategory.LABOUR: 8, ProblemCategory.OTHER: 9}


def _rng(*parts: int) -> random.Random:
    """A generator of its own for each part of the data, so chunks need not run in order."""
    seed = 0
    for part in parts:
        seed = seed * 1_000_003 + part
    return random.Random(seed)  # noqa: S311 - synthetic data, not security


def _name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.35 else 2))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def _at(day: date, local_us: int) -> datetime:
    """`local_us` microseconds after local midnight of `day`, as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - LOCAL + timedelta(
        microseconds=local_us)


# ---- the plan: everything but the reports and problems ----------------------------------------

@dataclass(slots=True)
class ProjectSpec:
    id: int
    code: str
    name: str
    county: int  # 0-based
    region_id: int
    unit_id: int
    level: ProjectLevel
    category: Category
    chain: str
    stage: Stage
    total: int  # 万元 × 10⁴
    annual: int  # 万元 × 10⁴, for end.year
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    lat: float
    lon: float
    radius_m: int
    leader_id: int
    liaison_id: int
    works_rest_days: bool


@dataclass(slots=True)
class PersonSpec:
    id: int
    key: str
    name: str
    title: str
    unit_id: int | None
    roles: list[tuple[RoleKind, int | None, int | None]]  # kind, region id, unit id
    phone: str
    reachable: bool = True


@dataclass
class County:
    """The small tables of one county, in memory; reports and problems are made from it."""

    size: CountySize
    regions: list[tuple[int, str, str, RegionLevel, int | None]] = field(default_factory=list)
    towns: list[list[int]] = field(default_factory=list)  # region ids per county
    units: list[tuple[int, str, str, int]] = field(default_factory=list)
    county_units: list[list[int]] = field(default_factory=list)
    people: list[PersonSpec] = field(default_factory=list)
    projects: list[ProjectSpec] = field(default_factory=list)
    created: datetime = field(default=datetime(2000, 1, 1, tzinfo=UTC))

    @classmethod
    def build(cls, size: CountySize) -> County:
        county = cls(size)
        rng = _rng(size.seed, 1)
        county.created = _at(size.first - timedelta(days=30), 9 * HOUR_US)
        county.places(rng)
        county.staff(rng)
        county.plan_projects(rng)
        return county

    def county_region(self, index: int) -> int:
        return 2 + index

    def places(self, rng: random.Random) -> None:
        self.regions.append((1, CITY[0], CITY[1], RegionLevel.CITY, None))
        for c, name in enumerate(COUNTIES):
            self.regions.append((self.county_region(c), f"{CITY[0][:4]}{c + 2:02d}", name,
                                 RegionLevel.COUNTY, 1))
        towns = rng.sample(TOWNS, 4 * len(COUNTIES))
        for c in range(len(COUNTIES)):
            ids = []
            for t in range(rng.randint(2, 4)):
                region_id = len(self.regions) + 1
                code = f"{self.regions[c + 1][1]}{101 + t:03d}"
                self.regions.append((region_id, code, towns[4 * c + t], RegionLevel.TOWN,
                                     self.county_region(c)))
                ids.append(region_id)
            self.towns.append(ids)
        for c, name in enumerate(COUNTIES):  # 7 units in 8 counties, 6 in 4: 80
            kinds = UNIT_KINDS[:5] + tuple(rng.sample(UNIT_KINDS[5:], 2 if c < 8 else 1))
            ids = []
            for full, _short, code in kinds:
                unit_id = len(self.units) + 1
                self.units.append((unit_id, f"C{c + 1:02d}-{code}", name + full,
                                   self.county_region(c)))
                ids.append(unit_id)
            self.county_units.append(ids)

    def person(self, rng: random.Random, key: str, title: str, unit_id: int | None,
               roles: list[tuple[RoleKind, int | None, int | None]]) -> PersonSpec:
        spec = PersonSpec(len(self.people) + 1, key, _name(rng), title, unit_id, roles,
                          _phone(rng), reachable=rng.random() > 0.01)
        self.people.append(spec)
        return spec

    def staff(self, rng: random.Random) -> None:
        """Viewers, dispatchers, lead leaders and unit people; liaisons come with projects."""
        city_viewers = ("云州市人民政府市长", "云州市人民政府常务副市长", "云州市人民政府副市长",
                        "云州市人大常委会副主任", "云州市政协副主席", "云州市发展和改革委员会主任",
                        "云州市重点项目建设指挥部指挥长", "云州市委督查室主任")
        for i, title in enumerate(city_viewers):
            self.person(rng, f"viewer_{i + 1:02d}", title, None, [(RoleKind.VIEWER, 1, None)])
        for c, name in enumerate(COUNTIES):
            self.person(rng, f"viewer_{len(city_viewers) + c + 1:02d}",
                        f"{name}人民政府{name[-1]}长", None,
                        [(RoleKind.VIEWER, self.county_region(c), None)])
        self.person(rng, "dispatcher_city", "云州市重点项目建设指挥部办公室副主任", None,
                    [(RoleKind.DISPATCHER, 1, None)])
        for c, name in enumerate(COUNTIES):
            self.person(rng, f"dispatcher_c{c + 1:02d}", f"{name}重点项目建设办公室副主任",
                        self.county_units[c][0],
                        [(RoleKind.DISPATCHER, self.county_region(c), None)])
        self.leaders: list[list[int]] = [[] for _ in COUNTIES]
        count = max(len(COUNTIES), round(self.size.projects / 20))
        for i in range(count):
            c = i % len(COUNTIES)
            name, short = COUNTIES[c], COUNTIES[c][-1]
            title = rng.choice((
                f"{name}人民政府副{short}长", f"{name}人民政府副{short}长",
                f"{name}委常委、常务副{short}长", f"{name}人大常委会副主任", f"{name}政协副主席",
                f"{name}委常委", f"{short}发改局局长", f"{short}工信局局长", f"{short}住建局局长"))
            spec = self.person(rng, f"leader_{i + 1:04d}", title, None,
                               [(RoleKind.LEADER, self.county_region(c), None)])
            self.leaders[c].append(spec.id)
        for unit_id, code, _, region_id in self.units:
            c = region_id - 2
            short = next(s for f, s, k in UNIT_KINDS if code.endswith(k))
            for n in range(rng.randint(1, 2)):
                title = f"{COUNTIES[c][-1]}{short}{'重点项目股股长' if n == 0 else '副局长'}"
                self.person(rng, f"unit_{code.lower().replace('-', '_')}_{n + 1}", title,
                            unit_id, [(RoleKind.UNIT, None, unit_id)])

    def plan_projects(self, rng: random.Random) -> None:
        """Projects two by two, each pair in one county with one liaison."""
        size = self.size
        seqs = [0] * len(COUNTIES)
        centres = [(27.2 + 1.6 * rng.random(), 110.4 + 2.2 * rng.random()) for _ in COUNTIES]
        for pair in range((size.projects + 1) // 2):
            c = rng.choices(range(len(COUNTIES)), COUNTY_WEIGHTS)[0]
            unit_id = rng.choice(self.county_units[c])
            short = next(s for f, s, k in UNIT_KINDS if self.units[unit_id - 1][1].endswith(k))
            liaison = self.person(rng, f"liaison_{pair + 1:05d}",
                                  f"{COUNTIES[c][-1]}{short}项目联络员", unit_id,
                                  [(RoleKind.LIAISON, self.county_region(c), None)])
            for n in range(min(2, size.projects - len(self.projects))):
                seqs[c] += 1
                unit = unit_id if n == 0 else rng.choice(self.county_units[c])
                self.projects.append(self.project(rng, c, seqs[c], unit_id=unit,
                                                  liaison_id=liaison.id, centre=centres[c]))

    def project(self, rng: random.Random, c: int, seq: int, *, unit_id: int, liaison_id: int,
                centre: tuple[float, float]) -> ProjectSpec:
        end = self.size.end
        category = rng.choices(list(Category), (45, 35, 20))[0]
        stage = rng.choices(list(Stage), (4, 6, 78, 12))[0]
        region_id = rng.choice(self.towns[c]) if rng.random() < 0.3 else self.county_region(c)
        total = round(math.exp(rng.uniform(math.log(1000), math.log(200_000))), 2)
        planned_start = planned_end = actual_start = actual_end = None
        if stage is Stage.CONSTRUCTION:
            before = rng.random() < 0.85  # most started before the window
            started = rng.randint(self.size.days, 3 * 365) if before else rng.randint(
                20, max(21, self.size.days - 1))
            actual_start = end - timedelta(days=started)
            planned_start = actual_start + timedelta(days=rng.randint(-45, 30))
            if rng.random() < 0.05:  # past its planned completion
                planned_end = end - timedelta(days=rng.randint(1, min(120, started - 1)))
            else:
                planned_end = max(actual_start + timedelta(days=rng.randint(365, 4 * 365)),
                                  end + timedelta(days=rng.randint(30, 900)))
        elif stage is Stage.PRODUCTION:
            actual_end = end - timedelta(days=rng.randint(10, max(11, self.size.days - 35)))
            actual_start = actual_end - timedelta(days=rng.randint(365, 3 * 365))
            planned_start = actual_start + timedelta(days=rng.randint(-30, 30))
            planned_end = actual_end + timedelta(days=rng.randint(-60, 60))
        else:
            when = rng.random()
            if when < 0.4:  # within weeks
                offset = rng.randint(1, 60)
            elif when < 0.75:  # overdue
                offset = -rng.randint(1, 120)
            else:
                offset = rng.randint(61, 500 if stage is Stage.RESERVE else 300)
            planned_start = end + timedelta(days=offset)
            planned_end = planned_start + timedelta(days=rng.randint(365, 3 * 365))
        share = {Stage.CONSTRUCTION: (0.2, 0.55), Stage.PRODUCTION: (0.1, 0.4),
                 Stage.PRELIMINARY: (0.03, 0.25), Stage.RESERVE: (0.01, 0.08)}[stage]
        annual = round(total * rng.uniform(*share), 2)
        name, chain = self.project_name(rng, c, category)
        return ProjectSpec(
            id=len(self.projects) + 1, code=f"C{c + 1:02d}-{seq:04d}", name=name, county=c,
            region_id=region_id, unit_id=unit_id,
            level=rng.choices(list(ProjectLevel), (8, 22, 70))[0], category=category,
            chain=chain, stage=stage, total=round(total * 100) * 100,
            annual=round(annual * 100) * 100, planned_start=planned_start,
            planned_end=planned_end, actual_start=actual_start, actual_end=actual_end,
            lat=round(centre[0] + rng.uniform(-0.2, 0.2), 6),
            lon=round(centre[1] + rng.uniform(-0.2, 0.2), 6),
            radius_m=rng.choice((500, 800, 1000, 1000, 1500, 2000)),
            leader_id=rng.choice(self.leaders[c]), liaison_id=liaison_id,
            works_rest_days=rng.random() < 0.9)

    def project_name(self, rng: random.Random, c: int, category: Category) -> tuple[str, str]:
        """The project's name and its industry chain (industrial projects only)."""
        templates = {Category.INDUSTRIAL: INDUSTRIAL, Category.INFRASTRUCTURE: INFRASTRUCTURE,
                     Category.PUBLIC_SERVICE: PUBLIC_SERVICE}[category]
        town, town2 = (self.regions[t - 1][2] for t in rng.sample(self.towns[c], 2))
        product = rng.choice(list(PRODUCTS))
        name = rng.choice(templates).format(
            county=COUNTIES[c], town=town, town2=town2, company=rng.choice(COMPANIES),
            product=product, chain=PRODUCTS[product], road=rng.choice(ROADS),
            river=rng.choice(RIVERS), n=rng.randint(1, 30), cn=rng.choice(NUMERALS))
        chain = PRODUCTS[product] if category is Category.INDUSTRIAL else ""
        return name + rng.choice(PHASES), chain


# ---- the window's calendar ---------------------------------------------------------------------

class Window:
    """The report days, with what every project's loop needs of each, computed once."""

    def __init__(self, size: CountySize) -> None:
        self.size = size
        self.dates = [size.first + timedelta(days=i) for i in range(size.days)]
        self.rest = [self._rest(d) for d in self.dates]
        # the share of its year elapsed at the end of each day, as domain.progress.year_fraction
        self.year_share = [((d - date(d.year, 1, 1)).days + 1)
                           / (date(d.year + 1, 1, 1) - date(d.year, 1, 1)).days
                           for d in self.dates]
        self.index = {d: i for i, d in enumerate(self.dates)}

    @staticmethod
    def _rest(day: date) -> bool:
        if chinese_calendar is not None:
            try:
                return not bool(chinese_calendar.is_workday(day))
            except NotImplementedError:
                pass
        return day.weekday() >= 5

    def offset(self, day: date) -> int:
        return (day - self.size.first).days

    def festivals(self) -> list[int]:
        """The Spring Festival days (as offsets) near the window."""
        return [self.offset(d) for d in SPRING_FESTIVAL.values()
                if -30 < self.offset(d) < self.size.days + 30]


class Codec:
    """Values as the driver takes them: Python objects for asyncpg (and for comparing)."""

    def __init__(self, window: Window) -> None:
        self.days: list[Any] = list(window.dates)
        self._midnights = [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in window.dates]

    def stamp(self, i: int, utc_us: int) -> Any:
        """`utc_us` microseconds after UTC midnight of window day `i` (below 24 h)."""
        return self._midnights[i] + timedelta(microseconds=utc_us)

    def value(self, value: Any) -> Any:
        return value


class SqliteCodec(Codec):
    """Values as SQLAlchemy's SQLite dialect writes them (`UtcDateTime`: naive UTC, as text)."""

    def __init__(self, window: Window) -> None:
        super().__init__(window)
        self.days = [d.isoformat() for d in window.dates]

    def stamp(self, i: int, utc_us: int) -> Any:
        seconds, micro = divmod(utc_us, 1_000_000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        return f"{self.days[i]} {hour:02d}:{minute:02d}:{second:02d}.{micro:06d}"

    def value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value


# ---- rows --------------------------------------------------------------------------------------

Row = tuple[Any, ...]


@dataclass(frozen=True)
class TableRows:
    table: Table
    columns: tuple[str, ...]
    rows: Iterable[Row]


class Rows:
    """Every table's rows for one county, made lazily; counts what it made."""

    def __init__(self, county: County, codec: Codec, window: Window) -> None:
        self.county = county
        self.codec = codec
        self.window = window
        self.counts: dict[str, int] = {}
        self.max_ids: dict[str, int] = {}

    def tables(self) -> Iterator[TableRows]:
        yield self._small(m.Region, ("id", "code", "name", "level", "parent_id"), (
            (i, code, name, level.value, parent)
            for i, code, name, level, parent in self.county.regions))
        yield self._small(m.Unit, ("id", "code", "name", "region_id"), self.county.units)
        yield self._small(m.Person, (
            "id", "key", "name", "title", "phone", "unit_id", "language", "quiet_start",
            "quiet_end", "reachable", "active", "created_at"), (
            (p.id, p.key, p.name, p.title, p.phone, p.unit_id, None, None, None, p.reachable,
             True, self.county.created) for p in self.county.people))
        yield self._small(m.RoleGrant, ("id", "person_id", "kind", "region_id", "unit_id"), (
            (0, p.id, kind.value, region_id, unit_id)
            for p in self.county.people for kind, region_id, unit_id in p.roles), number=True)
        yield self._small(m.Project, (
            "id", "code", "name", "region_id", "unit_id", "level", "chain", "category", "stage",
            "total_investment", "planned_start", "planned_end", "actual_start", "actual_end",
            "lat", "lon", "radius_m", "lead_leader_id", "works_rest_days", "light", "active",
            "created_at", "updated_at"), (
            (p.id, p.code, p.name, p.region_id, p.unit_id, p.level.value, p.chain,
             p.category.value, p.stage.value, p.total, p.planned_start, p.planned_end,
             p.actual_start, p.actual_end, p.lat, p.lon, p.radius_m, p.leader_id,
             p.works_rest_days, None, True, self.county.created, self.county.created)
            for p in self.county.projects))
        yield self._small(m.ProjectPlan, (
            "id", "project_id", "year", "annual_plan", "q1_pct", "q2_pct", "q3_pct", "q4_pct"), (
            (p.id, p.id, self.county.size.end.year, p.annual, 20, 50, 80, 100)
            for p in self.county.projects))
        yield self._small(m.ProjectLiaison, ("project_id", "person_id"), (
            (p.id, p.liaison_id) for p in self.county.projects), ids=False)
        yield TableRows(m.Base.metadata.tables["daily_reports"], REPORT_COLUMNS,
                        self._counted("daily_reports", self._reports()))
        problems = Problems(self.county, self.window).rows()
        yield self._small(m.Problem, PROBLEM_COLUMNS, problems)
        counters: dict[int, int] = {}
        for row in problems:
            counters[row[2]] = max(counters.get(row[2], 0), row[3])
        yield self._small(m.Counter, ("name", "year", "value"), (
            ("problem", year, seq) for year, seq in sorted(counters.items())), ids=False)

    def _small(self, model: type[m.Base], columns: tuple[str, ...], rows: Iterable[Row], *,
               number: bool = False, ids: bool = True) -> TableRows:
        table = m.Base.metadata.tables[model.__tablename__]
        value = self.codec.value
        made = [tuple(value(v) for v in row) for row in rows]
        if number:
            made = [(i, *row[1:]) for i, row in enumerate(made, 1)]
        self.counts[table.name] = len(made)
        if ids:
            self.max_ids[table.name] = len(made)
        return TableRows(table, columns, made)

    def _counted(self, name: str, rows: Iterator[Row]) -> Iterator[Row]:
        count = 0
        for count, row in enumerate(rows, 1):  # noqa: B007 - the count is the point
            yield row
        self.counts[name] = count
        self.max_ids[name] = count

    def _reports(self) -> Iterator[Row]:
        next_id = 1
        for project in self.county.projects:
            for row in project_reports(project, self.county.size, self.window, self.codec,
                                       next_id):
                yield row
                next_id += 1


REPORT_COLUMNS = ("id", "project_id", "report_date", "version", "reporter_id", "site_status",
                  "stop_reason", "progress_pct", "work_done", "workers", "ytd_investment", "lat",
                  "lon", "created_at", "updated_at")
PROBLEM_COLUMNS = ("id", "number", "year", "seq", "project_id", "category", "description",
                   "urgent", "state", "level", "reporter_id", "assignee_unit_id", "deadline",
                   "report_id", "visit_id", "created_at", "resolved_at", "closed_at")
WORK_POOL = tuple(WORK_DONE[i % len(WORK_DONE)].format(n=2 + (i * 7) % 8)
                  for i in range(8 * len(WORK_DONE)))
WORKING, STOPPED = SiteStatus.WORKING.value, SiteStatus.STOPPED.value


@dataclass(slots=True)
class _Habits:
    """How one project's site and liaison behave over the window."""

    first: int  # the first and last window day it reports on
    last: int
    start: int  # its actual start as a window offset (may be negative)
    span: int  # days from the actual start to planned (or actual) completion
    progress_pace: float
    progress_cap: int
    annual: float  # 万元
    invest_pace: float
    horizon: float  # the share of the year by which the annual plan is done (1 unless completed)
    missing: float
    workers: int
    location: float
    hour_us: int
    stops: set[int]
    stop_reason: str


def _habits(project: ProjectSpec, size: CountySize, window: Window,
            rng: random.Random) -> _Habits | None:
    if project.actual_start is None or project.stage not in {Stage.CONSTRUCTION,
                                                             Stage.PRODUCTION}:
        return None
    start = window.offset(project.actual_start)
    last = size.days - 1
    completed = project.stage is Stage.PRODUCTION and project.actual_end is not None
    if completed:
        assert project.actual_end is not None  # noqa: S101 - for mypy
        last = window.offset(project.actual_end)
        finish = project.actual_end
    else:
        assert project.planned_end is not None  # noqa: S101 - set for every construction project
        finish = project.planned_end
        if rng.random() < 0.03:
            last -= rng.randint(5, 10)
    first = max(0, start)
    if last < first:
        return None
    behind = rng.random()
    invest_pace = (rng.uniform(0.92, 1.1) if behind < 0.6 else rng.uniform(0.75, 0.92)
                   if behind < 0.85 else rng.uniform(0.45, 0.75))
    horizon = 1.0
    if completed and project.actual_end is not None and project.actual_end.year == size.end.year:
        horizon = window.year_share[last]
    stops: set[int] = set()
    for festival in window.festivals():
        if rng.random() < 0.6:
            stops.update(range(festival - rng.randint(3, 10), festival + rng.randint(5, 15)))
    return _Habits(
        first=first, last=last, start=start, span=max(1, (finish - project.actual_start).days),
        progress_pace=1.0 if completed else rng.uniform(0.75, 1.08),
        progress_cap=1000 if completed else rng.randint(960, 995),
        annual=project.annual / WAN, invest_pace=invest_pace, horizon=horizon,
        missing=rng.uniform(0.0, 0.16), workers=rng.randint(20, 120 + project.total // WAN // 250),
        location=rng.uniform(0.0, 0.6), hour_us=rng.randint(8, 11) * HOUR_US, stops=stops,
        stop_reason=rng.choice(STOP_REASONS))


def project_reports(project: ProjectSpec, size: CountySize, window: Window, codec: Codec,
                    first_id: int) -> Iterator[Row]:
    """One project's daily reports, ids from `first_id`. The hot loop: keep it lean."""
    rng = _rng(size.seed, 2, project.id)
    habits = _habits(project, size, window, rng)
    if habits is None:
        return
    r = rng.random
    days, stamp, rest, share = codec.days, codec.stamp, window.rest, window.year_share
    skip_rest = not project.works_rest_days
    pid, reporter, lat, lon = project.id, project.liaison_id, project.lat, project.lon
    h = habits
    progress = ytd = 0
    year = window.dates[h.first].year
    stopped_until, reason = -1, h.stop_reason
    report_id = first_id
    pool = len(WORK_POOL)
    for i in range(h.first, h.last + 1):
        if (skip_rest and rest[i]) or r() < h.missing:
            continue
        if window.dates[i].year != year:
            year, ytd = window.dates[i].year, 0
        if i in h.stops:
            stopped, why = True, FESTIVAL_STOP
        elif i <= stopped_until:
            stopped, why = True, reason
        elif r() < 0.008:
            stopped_until, reason = i + int(r() * 6), STOP_REASONS[int(r() * len(STOP_REASONS))]
            stopped, why = True, reason
        else:
            stopped, why = False, None
        if not stopped:
            done = int((i - h.start) * 1000 * h.progress_pace / h.span)
            progress = max(progress, min(h.progress_cap, done))
            due = min(1.0, share[i] / h.horizon) * h.annual * h.invest_pace * (0.97 + 0.06 * r())
            ytd = max(ytd, int(due * 100) * 100)
        located = r() < h.location
        at = stamp(i, h.hour_us + int(r() * 3 * HOUR_US))
        yield (report_id, pid, days[i], 1, reporter, STOPPED if stopped else WORKING, why,
               progress, "" if stopped else WORK_POOL[int(r() * pool)],
               0 if stopped else int(h.workers * (0.75 + 0.5 * r())),
               None if r() < 0.3 else ytd,
               round(lat + (r() - 0.5) * 0.004, 6) if located else None,
               round(lon + (r() - 0.5) * 0.004, 6) if located else None, at, at)
        report_id += 1


class Problems:
    """The window's problems, numbered in filing order as `ProblemsRepository.open` numbers."""

    def __init__(self, county: County, window: Window) -> None:
        self.county = county
        self.window = window

    def rows(self) -> list[Row]:
        size = self.county.size
        rng = _rng(size.seed, 3)
        weights = {Stage.CONSTRUCTION: 1.0, Stage.PRELIMINARY: 1.0, Stage.PRODUCTION: 0.3,
                   Stage.RESERVE: 0.2}
        projects = self.county.projects
        picks = rng.choices(projects, [weights[p.stage] for p in projects], k=size.problems)
        categories = list(PROBLEM_WEIGHTS)
        shares = list(PROBLEM_WEIGHTS.values())
        made = [self.problem(rng, project, rng.choices(categories, shares)[0])
                for project in picks]
        made.sort(key=lambda row: row[3])
        seqs: dict[int, int] = {}
        rows: list[Row] = []
        for i, (project, category, description, created, urgent, state, level, assignee,
                reporter, resolved, closed) in enumerate(made, 1):
            local_year = (created + LOCAL).year
            seq = seqs[local_year] = seqs.get(local_year, 0) + 1
            deadline = (created + LOCAL).date() + timedelta(days=3 if urgent else 7)
            rows.append((i, problem_number(local_year, seq), local_year, seq, project.id,
                         category.value, description, urgent, state.value, level, reporter,
                         assignee, deadline, None, None, created, resolved, closed))
        return rows

    def problem(self, rng: random.Random, project: ProjectSpec,
                category: ProblemCategory) -> tuple[Any, ...]:
        size, end = self.county.size, self.county.size.end
        text = rng.choice(PROBLEM_TEXTS[category]).format(n=rng.randint(2, 30))
        urgent = rng.random() < 0.15
        reporter = project.liaison_id if rng.random() < 0.8 else project.leader_id
        unit = (project.unit_id if rng.random() < 0.9
                else rng.choice(self.county.county_units[project.county]))
        if rng.random() < 0.3:  # still open: filed recently, most within a fortnight
            age = min(size.days - 1, int(rng.expovariate(1 / 12)))
            day = end - timedelta(days=age)
            overdue = age - (3 if urgent else 7)
            level = (1 if overdue < 5 else 2 if overdue < 12 else 3 if overdue < 20
                     else 4 if overdue < 35 else 5)
            which = rng.random()
            state = (ProblemState.OPEN if which < 0.05 else ProblemState.IN_PROGRESS
                     if which < 0.4 else ProblemState.ASSIGNED)
            created = _at(day, rng.randint(8 * HOUR_US, 18 * HOUR_US))
            return (project, category, text, created, urgent, state, level,
                    None if state is ProblemState.OPEN else unit, reporter, None, None)
        day = size.first + timedelta(days=rng.randrange(size.days))
        created = _at(day, rng.randint(8 * HOUR_US, 18 * HOUR_US))
        latest = _at(end, 20 * HOUR_US)
        resolved = min(latest, created + timedelta(hours=rng.uniform(4, 20 * 24)))
        closed = None
        state = ProblemState.RESOLVED
        if rng.random() < 0.75:
            state = ProblemState.CLOSED
            closed = min(latest, resolved + timedelta(hours=rng.uniform(1, 4 * 24)))
        level = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        return (project, category, text, created, urgent, state, level, unit, reporter,
                resolved, closed)


# ---- loading -----------------------------------------------------------------------------------

def _sqlite_insert(rows: TableRows) -> str:
    """The INSERT that SQLAlchemy compiles for these columns (checked to be in our order)."""
    compiled = insert(rows.table).compile(dialect=sqlite_dialect.dialect(paramstyle="qmark"),
                                          column_keys=list(rows.columns))
    if list(compiled.positiontup or ()) != list(rows.columns):
        raise RuntimeError(f"{rows.table.name}: columns {compiled.positiontup} != {rows.columns}")
    return str(compiled)


def _load_sqlite(path: Path, size: CountySize) -> dict[str, int]:
    window = Window(size)
    rows = Rows(County.build(size), SqliteCodec(window), window)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF",
                       "cache_size=-400000", "temp_store=MEMORY"):
            con.execute(f"PRAGMA {pragma}")
        con.execute("BEGIN")
        for table in rows.tables():
            con.executemany(_sqlite_insert(table), table.rows)
        con.execute("COMMIT")
        con.execute("PRAGMA journal_mode=WAL")  # as the app leaves its files
    finally:
        con.close()
    return rows.counts


def _dsn(url: str) -> str:
    """An SQLAlchemy PostgreSQL URL as a libpq DSN for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _load_postgres(url: str, size: CountySize) -> dict[str, int]:
    window = Window(size)
    rows = Rows(County.build(size), Codec(window), window)
    conn = await asyncpg.connect(_dsn(url))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            for table in rows.tables():
                await conn.copy_records_to_table(table.table.name, records=table.rows,
                                                 columns=list(table.columns))
            for name, max_id in rows.max_ids.items():
                await conn.execute("SELECT setval(pg_get_serial_sequence($1, 'id'), $2, $3)",
                                   name, max(max_id, 1), max_id > 0)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return rows.counts


async def generate(url: str, size: CountySize) -> GeneratedCounty:
    """Migrate the EMPTY database at `url` to head and fill it with the county of `size`."""
    start = time.perf_counter()
    engine = create_engine(url)
    try:
        if await migrate.current(engine) is not None:
            raise ValueError(f"{url} is not empty: it has an alembic revision already")
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    migrated = time.perf_counter() - start
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        counts = await asyncio.to_thread(_load_sqlite, Path(parsed.database or ""), size)
    else:
        counts = await _load_postgres(url, size)
    return GeneratedCounty(url, counts, time.perf_counter() - start, migrated, migrate.head())


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine from sync code, also when the caller is inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def sqlite_path(size: CountySize, folder: Path = DATA) -> Path:
    """Where `sqlite_cached` keeps this size's file for the current schema head."""
    return folder / f"county-{size.label()}-{migrate.head()}.sqlite3"


def sqlite_cached(size: CountySize, folder: Path = DATA) -> Path:
    """The SQLite file of this size, built on first use (or when the schema head changed).

    Built under a temporary name and renamed when complete; its record (counts, seconds) is the
    `.json` beside it. Files of the same size for other heads are removed.
    """
    path = sqlite_path(size, folder)
    record = path.with_suffix(".json")
    if path.exists() and record.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# benchmark data, rebuilt on demand\n*\n")
    for stale in folder.glob(f"county-{size.label()}-*"):  # other schema heads
        stale.unlink()
    for left in folder.glob(".building-*"):  # an interrupted build's, not a running one's
        if left.stat().st_mtime < time.time() - 3600:
            left.unlink()
    building = folder / f".building-{os.getpid()}-{path.name}"
    for part in (building, *(building.with_name(building.name + x) for x in ("-wal", "-shm"))):
        part.unlink(missing_ok=True)
    county = _run(lambda: generate(f"sqlite+aiosqlite:///{building}", size))
    os.replace(building, path)
    record.write_text(replace(county, url=f"sqlite+aiosqlite:///{path}").to_json())
    return path


def sqlite_record(path: Path) -> GeneratedCounty:
    """What building the cached file `path` wrote, and how long it took."""
    return GeneratedCounty.from_json(path.with_suffix(".json").read_text())


def sqlite_scratch(size: CountySize, folder: Path) -> Path:
    """A copy of the cached file in `folder`, for a benchmark that writes."""
    target = folder / "county.sqlite3"
    shutil.copyfile(sqlite_cached(size), target)
    return target


def _quote(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain database name: {name!r}")
    return f'"{name}"'


async def _bench_database(admin: Any, name: str) -> GeneratedCounty | None:
    """The record of a complete bench database `name` for the current head, if there is one."""
    note = await admin.fetchval(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", name)
    try:
        county = GeneratedCounty.from_json(note or "")
    except (ValueError, KeyError, TypeError):
        return None
    if county.head != migrate.head():
        return None
    conn = await asyncpg.connect(_dsn(county.url))
    try:
        revision = await conn.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await conn.close()
    return county if revision == county.head else None


async def fresh_postgres(size: CountySize, admin_url: str = ADMIN_URL) -> str:
    """The URL of database fieldbot_bench_<hash of size>, built unless complete already.

    Complete means: its comment (COMMENT ON DATABASE, written last) holds the record of a build
    for the current schema head, and its alembic revision is that head. Anything else is dropped
    and built again.
    """
    return (await postgres_county(size, admin_url)).url


async def postgres_county(size: CountySize, admin_url: str = ADMIN_URL) -> GeneratedCounty:
    """`fresh_postgres`, returning the build's record (`reused` when it was there already)."""
    name = f"fieldbot_bench_{size.key()}"
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    admin = await asyncpg.connect(_dsn(admin_url))
    try:
        found = await _bench_database(admin, name)
        if found is not None:
            return found
        await admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {_quote(name)} ENCODING 'UTF8' TEMPLATE template0")
        county = await generate(url, size)
        note = county.to_json().replace("'", "''")
        await admin.execute(f"COMMENT ON DATABASE {_quote(name)} IS '{note}'")
        return county
    finally:
        await admin.close()


async def scratch_postgres(size: CountySize, admin_url: str = ADMIN_URL) -> str:
    """A copy of the bench database (fieldbot_bench_<hash>_scratch, made anew each call) for a
    benchmark that writes; a file-level copy, a few seconds for the full size."""
    source = make_url(await fresh_postgres(size, admin_url)).database or ""
    name = f"{source}_scratch"
    admin = await asyncpg.connect(_dsn(admin_url))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        await admin.execute(
            f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(source)} STRATEGY FILE_COPY")
    finally:
        await admin.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


# ---- checking it through the app ---------------------------------------------------------------

def _check(what: str, found: object, expected: object) -> None:
    if found != expected:
        raise RuntimeError(f"{what}: read {found!r}, generated {expected!r}")


async def verify(url: str, size: CountySize, rows: dict[str, int] | None = None) -> list[str]:
    """Read rows back through the app's repositories and compare them with the generator's.

    Checks a few projects of every stage (their summaries and latest reports), the first, last
    and a middle problem, that the problem counter continues after the last number, every
    table's row count against `rows`, and on SQLite that a report saved by the app is stored in
    the same form as the generated ones. Returns a line per check; raises on a difference.
    """
    window = Window(size)
    county = County.build(size)
    codec = Codec(window)
    people = {p.id: p for p in county.people}
    done: list[str] = []
    sample = [county.projects[i] for i in (0, 1, len(county.projects) // 2, -1)]
    for stage in Stage:
        sample += [p for p in county.projects if p.stage is stage][:2]
    by_id = {p.id: p for p in sample}
    engine = create_engine(url)
    uow = UnitOfWorkFactory(session_factory(engine))
    try:
        async with uow() as u:
            summaries = await u.projects.by_ids(sorted(by_id), size.end.year)
            _check("projects read", len(summaries), len(by_id))
            for summary in summaries:
                p = by_id[summary.id]
                _check(f"{p.code}", (
                    summary.code, summary.name, summary.stage, summary.level, summary.category,
                    summary.chain, summary.total_investment, summary.annual_plan,
                    summary.planned_start, summary.planned_end, summary.actual_start,
                    summary.actual_end, summary.lead_leader_name, summary.liaison_names), (
                    p.code, p.name, p.stage, p.level, p.category, p.chain,
                    Decimal(p.total) / WAN, Decimal(p.annual) / WAN, p.planned_start,
                    p.planned_end, p.actual_start, p.actual_end, people[p.leader_id].name,
                    (people[p.liaison_id].name,)))
            done.append(f"{len(summaries)} project summaries (uow.projects.by_ids) as generated")
            latest = await u.reports.latest(sorted(by_id))
            reporting = 0
            for p in by_id.values():
                made = list(project_reports(p, size, window, codec, 1))
                view = latest.get(p.id)
                if not made:
                    _check(f"{p.code} has no reports", view, None)
                    continue
                reporting += 1
                last = made[-1]
                _check(f"{p.code} latest report", None if view is None else (
                    view.report_date, view.version, view.reporter_name, view.site_status,
                    view.stop_reason, view.progress_pct, view.work_done, view.workers,
                    view.ytd_investment, view.submitted_at), (
                    last[2], 1, people[p.liaison_id].name, SiteStatus(last[5]), last[6],
                    Decimal(last[7]) / PCT, last[8], last[9],
                    None if last[10] is None else Decimal(last[10]) / WAN, last[14]))
            done.append(f"latest reports of {reporting} of them (uow.reports.latest) as generated,"
                        f" {len(by_id) - reporting} without reports as expected")
            problems = Problems(county, window).rows()
            for row in (problems[0], problems[len(problems) // 2], problems[-1]):
                found = await u.problems.by_number(row[1])
                _check(f"problem {row[1]}", None if found is None else (
                    found.id, found.project_id, found.category.value, found.description,
                    found.urgent, found.state.value, found.level, found.deadline,
                    found.created_at, found.reporter_id, found.assignee_unit_id),
                    (row[0], row[4], row[5], row[6], row[7], row[8], row[9], row[12], row[15],
                     row[10], row[11]))
            done.append(f"problems {problems[0][1]}, {problems[len(problems) // 2][1]}, "
                        f"{problems[-1][1]} (uow.problems.by_number) as generated")
        if rows is not None:
            async with engine.connect() as conn:
                for name, expected in rows.items():
                    table = m.Base.metadata.tables[name]
                    found_count = await conn.scalar(select(func.count()).select_from(table))
                    _check(f"rows in {name}", found_count, expected)
            done.append(f"row counts of {len(rows)} tables as reported")
            done.append(await _no_orphans(engine, list(rows)))
        done.append(await _app_writes(engine, county, problems, rows or {}))
    finally:
        await engine.dispose()
    return done


async def _no_orphans(engine: AsyncEngine, names: list[str]) -> str:
    """Every foreign key of the written tables points at a row (they were loaded unchecked)."""
    checked = 0
    async with engine.connect() as conn:
        for name in names:
            table = m.Base.metadata.tables[name]
            for key in table.foreign_keys:
                target = key.column.table.alias("target")
                orphans = await conn.scalar(
                    select(func.count()).select_from(table.outerjoin(
                        target, key.parent == target.c[key.column.name]))
                    .where(key.parent.is_not(None), target.c[key.column.name].is_(None)))
                _check(f"rows of {name} whose {key.parent.name} points nowhere", orphans, 0)
                checked += 1
    return f"{checked} foreign keys of those tables: no row points nowhere"


async def _app_writes(engine: AsyncEngine, county: County, problems: list[Row],
                      rows: dict[str, int]) -> str:
    """Save a report and file a problem through the repositories (rolled back): the ids and the
    problem number continue after the generated ones; on SQLite, stored as the generated are."""
    size, project = county.size, county.projects[0]
    day, year = size.end + DAY, size.end.year
    texts = ("report_date", "created_at", "updated_at")  # typeof and length; numbers: typeof
    shape = ", ".join([*(f"typeof({c}) || ':' || length({c})" for c in texts),
                       "typeof(progress_pct)", "typeof(ytd_investment)", "typeof(workers)"])
    query = text(f"SELECT {shape} FROM daily_reports WHERE project_id = :p "  # noqa: S608
                 "AND ytd_investment IS NOT NULL ORDER BY report_date DESC LIMIT 2")
    seq = max((row[3] for row in problems if row[2] == year), default=0) + 1
    now = _at(day, 17 * HOUR_US + 123)
    async with session_factory(engine)() as session:
        report_id, version = await ReportsRepository(session).save(ReportInput(
            project_id=project.id, report_date=day, reporter_id=project.liaison_id,
            site_status=SiteStatus.WORKING, progress_pct=Decimal("12.5"), work_done="x",
            workers=3, ytd_investment=Decimal("12.3456")), now)
        problem = await ProblemsRepository(session).open(NewProblem(
            project_id=project.id, category=ProblemCategory.OTHER, description="核对编号",
            urgent=False, reporter_id=project.liaison_id, assignee_unit_id=project.unit_id,
            deadline=day), now, year)
        shapes = ([tuple(r) for r in await session.execute(query, {"p": project.id})]
                  if engine.dialect.name == "sqlite" else [])
        await session.rollback()
    _check("the app's report: new row", (report_id > rows.get("daily_reports", 0), version),
           (True, 1))
    _check("the app's problem", (problem.id > rows.get("problems", 0), problem.number),
           (True, problem_number(year, seq)))
    line = (f"a report saved and problem {problem.number} filed through the repositories "
            "(rolled back) get new ids and the next number")
    if engine.dialect.name == "sqlite":
        _check("stored form (app's report vs generated)", shapes[1], shapes[0])
        line += f"; SQLite stores them as the generated rows: {shapes[0]}"
    return line


# ---- command line ------------------------------------------------------------------------------

def _print(county: GeneratedCounty, what: str) -> None:
    state = "reused (built earlier in" if county.reused else "built in"
    print(f"{what}: {state} {county.seconds:.1f} s{')' if county.reused else ''}, "
          f"migration {county.migrate_seconds:.1f} s, head {county.head}")
    print("  " + ", ".join(f"{name} {n:,}" for name, n in county.rows.items()))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    defaults = CountySize()
    parser.add_argument("--projects", type=int, default=defaults.projects)
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument("--problems", type=int, default=defaults.problems)
    parser.add_argument("--end", type=date.fromisoformat, default=defaults.end)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--backend", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--rebuild", action="store_true", help="build even if cached")
    args = parser.parse_args(argv)
    size = CountySize(args.projects, args.days, args.problems, args.end, args.seed)
    print(f"county {size.label()}: reports {size.first} … {size.end}")
    if args.backend in {"both", "sqlite"}:
        path = sqlite_path(size)
        if args.rebuild:
            path.unlink(missing_ok=True)
        fresh = not path.exists()
        path = sqlite_cached(size)
        county = sqlite_record(path)
        county = replace(county, reused=not fresh)
        _print(county, f"SQLite {path} ({path.stat().st_size / 2**20:,.0f} MiB)")
        for line in asyncio.run(verify(county.url, size, county.rows)):
            print(f"  ok: {line}")
    if args.backend in {"both", "postgres"}:
        asyncio.run(_postgres_main(size, args.admin_url, rebuild=args.rebuild))


async def _postgres_main(size: CountySize, admin_url: str, *, rebuild: bool) -> None:
    if rebuild:
        admin = await asyncpg.connect(_dsn(admin_url))
        try:
            await admin.execute(
                f"DROP DATABASE IF EXISTS {_quote('fieldbot_bench_' + size.key())} WITH (FORCE)")
        finally:
            await admin.close()
    county = await postgres_county(size, admin_url)
    conn = await asyncpg.connect(_dsn(county.url))
    try:
        megabytes = await conn.fetchval("SELECT pg_database_size(current_database())") / 2**20
    finally:
        await conn.close()
    _print(county, f"PostgreSQL {make_url(county.url).render_as_string()} ({megabytes:,.0f} MiB)")
    for line in await verify(county.url, size, county.rows):
        print(f"  ok: {line}")


if __name__ == "__main__":
    main()
