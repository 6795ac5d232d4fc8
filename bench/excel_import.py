"""Issue 6's Excel import at county scale: 5,000 projects, 10,000 people and their assignments,
on SQLite and PostgreSQL, against two baselines measured in the same run.

Run: `.venv/bin/python -m bench.excel_import` (add `--projects 500 --people 1000` for a quick
look, `--backend sqlite` to skip PostgreSQL).

The workbook is generated once, as a clerk fills the template: every project with its region,
unit, level, category, stage, money written in several ways (35000, "3.5亿", "35,000万元"),
dates as date cells and as text (2026/3/1, 2026年3月1日, 20260301), coordinates; people with
phone, unit and title; 分工 with a lead leader and two liaisons per project and a dispatcher per
county. The places (a city, 12 counties, 84 units) are stored first, as a county's are.

Measured, each backend in a child process of its own (so its peak RSS is the import's):
- import: `import_workbook` into an empty database (read, check, write, one transaction);
- re-import: the same file again, so every row is compared and nothing changes;
- validation: reading and checking the workbook (`check_upload`), nothing written (median of 3);
- write: the checked batch saved into another empty database (`ImportsRepository.save`);
- baseline read: openpyxl read-only mode reading every row's values, and nothing else
  (median of 3);
- baseline insert: the same people, projects and liaisons with a plain driver executemany
  (sqlite3 / asyncpg) into an empty database, ids and values prepared beforehand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from openpyxl import Workbook, load_workbook
from sqlalchemy.engine import make_url

from bot.i18n import translator
from domain.clock import FixedClock
from domain.model import RegionLevel
from spreadsheets.columns import ASSIGNMENTS, PEOPLE, PROJECTS, SheetSpec
from spreadsheets.importer import check_upload, import_workbook, load_reference
from spreadsheets.package import Limits
from storage import migrate
from storage.db import create_engine, session_factory
from storage.uow import UnitOfWorkFactory

ZONE = ZoneInfo("Asia/Shanghai")
ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REPEAT = 3  # read and validation: the median of three (the machine is shared)
COUNTIES = 12
UNITS_PER_COUNTY = 7
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅"
STAGES = ["在建"] * 78 + ["投产"] * 12 + ["前期"] * 6 + ["储备"] * 4
LEVELS = ["县级重点"] * 6 + ["市级重点"] * 3 + ["省级重点"]
CATEGORIES = ["产业项目"] * 6 + ["基础设施"] * 3 + ["公共服务"]


# ---- the workbook ------------------------------------------------------------------------------

def _money(rng: random.Random, wan: int) -> object:
    shape = rng.randrange(4)
    if shape == 0:
        return wan
    if shape == 1:
        return f"{wan / 10000:g}亿" if wan % 100 == 0 else f"{wan}万元"
    if shape == 2:
        return f"{wan:,}"
    return str(wan)


def _day(rng: random.Random, day: date) -> object:
    shape = rng.randrange(4)
    if shape == 0:
        return day
    if shape == 1:
        return f"{day.year}/{day.month}/{day.day}"
    if shape == 2:
        return f"{day.year}年{day.month}月{day.day}日"
    return day.strftime("%Y%m%d")


def _sheet(book: Workbook, spec: SheetSpec) -> Any:
    t = translator("zh-CN")
    sheet = book.create_sheet(spec.title(t))
    sheet.append([spec.header(t, column) for column in spec.columns])
    return sheet


def generate(projects: int, people: int, seed: int = 2026) -> bytes:
    """The filled-in workbook, written in openpyxl's streaming mode."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    book = Workbook(write_only=True)
    leaders = max(1, projects // 20)
    dispatchers = COUNTIES + 1
    liaisons = max(1, people - leaders - dispatchers)
    staff = _sheet(book, PEOPLE)
    keys = ([f"leader_{i:04d}" for i in range(leaders)]
            + [f"hq_c{i:02d}" for i in range(dispatchers)]
            + [f"liaison_{i:05d}" for i in range(liaisons)])
    for n, key in enumerate(keys):
        county = n % COUNTIES + 1
        staff.append([key, rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
                      "项目联络员" if key.startswith("liaison") else "县领导",
                      f"139{rng.randrange(10**8):08d}",
                      f"U{county:02d}-{rng.randrange(UNITS_PER_COUNTY)}", None])
    sheet = _sheet(book, PROJECTS)
    duties = _sheet(book, ASSIGNMENTS)
    for i in range(projects):
        county = i % COUNTIES + 1
        code = f"C{county:02d}-{i // COUNTIES + 1:04d}"
        total = rng.randrange(1000, 200_000) // 100 * 100
        start = date(2025, 1, 1) + timedelta(days=rng.randrange(600))
        stage = rng.choice(STAGES)
        sheet.append([
            code, f"县{county:02d}第{i + 1}号重点建设项目", f"{code}项目、第{i + 1}号项目",
            f"C{county:02d}", f"U{county:02d}-{rng.randrange(UNITS_PER_COUNTY)}",
            rng.choice(LEVELS), rng.choice(["富硒食品", "新材料", "装备制造", ""]),
            rng.choice(CATEGORIES), stage, _money(rng, total), _money(rng, total // 3),
            _day(rng, start), _day(rng, start + timedelta(days=700)),
            _day(rng, start + timedelta(days=10)) if stage in ("在建", "投产") else None, None,
            round(32.5 + rng.random(), 5), round(108.5 + rng.random(), 5), 1000,
            rng.choice(["是", "是", "否"])])
        duties.append([f"leader_{i // 20 % leaders:04d}", "牵头领导", code, None, None])
        for k in (2 * i, 2 * i + 1):
            duties.append([f"liaison_{k % liaisons:05d}", "联络员", code, None, None])
    for c in range(dispatchers):
        region = f"C{c:02d}" if c else "CITY"
        duties.append([f"hq_c{c:02d}", "项目办", None, region, None])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


# ---- the databases -----------------------------------------------------------------------------

async def places(url: str) -> None:
    """A migrated database with the city, its counties and their units."""
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        async with UnitOfWorkFactory(session_factory(engine))() as u:
            city = await u.places.add_region("CITY", "云州市", RegionLevel.CITY)
            for c in range(1, COUNTIES + 1):
                county = await u.places.add_region(f"C{c:02d}", f"云州{c:02d}县",
                                                   RegionLevel.COUNTY, city.id)
                for k in range(UNITS_PER_COUNTY):
                    await u.places.add_unit(f"U{c:02d}-{k}", f"云州{c:02d}县第{k}局", county.id)
            await u.commit()
    finally:
        await engine.dispose()


async def postgres_database(admin_url: str) -> str | None:
    """A throwaway database next to the admin one, or None when PostgreSQL is not reachable."""
    admin = make_url(admin_url)
    name = f"fieldbot_bench_excel_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(
            hide_password=False), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.set(database=name).render_as_string(hide_password=False)


async def drop_postgres(admin_url: str, url: str) -> None:
    admin = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


# ---- the baselines -----------------------------------------------------------------------------

def read_baseline(data: bytes) -> int:
    """openpyxl read-only: every row of every sheet, values only, nothing checked."""
    book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    rows = 0
    for sheet in book.worksheets:
        for _ in sheet.iter_rows(values_only=True):
            rows += 1
    book.close()
    return rows


def plain_rows(data: bytes) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]],
                                     list[tuple[str, str]]]:
    """People, projects and liaisons as a plain insert takes them (prepared, not timed)."""
    book = load_workbook(BytesIO(data), read_only=True)
    now = datetime.now(UTC).replace(tzinfo=None)
    people = [(key, name, title, phone, now) for key, name, title, phone, *_ in
              book[PEOPLE.title(translator("zh-CN"))].iter_rows(min_row=2, values_only=True)]
    projects = [(code, name, 35000 * 10_000, now, now) for code, name, *_ in
                book[PROJECTS.title(translator("zh-CN"))].iter_rows(min_row=2,
                                                                    values_only=True)]
    liaisons = [(code, key) for key, role, code, *_ in
                book[ASSIGNMENTS.title(translator("zh-CN"))].iter_rows(min_row=2,
                                                                       values_only=True)
                if role == "联络员"]
    book.close()
    return people, projects, liaisons


def sqlite_insert(path: Path, rows: tuple[list[Any], list[Any], list[Any]]) -> None:
    people, projects, liaisons = rows
    conn = sqlite3.connect(path)
    try:
        conn.executemany("INSERT INTO people (key, name, title, phone, reachable, active, "
                         "created_at) VALUES (?, ?, ?, ?, 1, 1, ?)", people)
        conn.executemany(
            "INSERT INTO projects (code, name, region_id, unit_id, level, chain, category, stage,"
            " total_investment, radius_m, works_rest_days, active, created_at, updated_at) "
            "VALUES (?, ?, 1, 1, 'county', '', 'industrial', 'construction', ?, 1000, 1, 1, ?, ?)",
            projects)
        people_ids = dict(conn.execute("SELECT key, id FROM people"))
        project_ids = dict(conn.execute("SELECT code, id FROM projects"))
        conn.executemany("INSERT OR IGNORE INTO project_liaisons VALUES (?, ?)",
                         [(project_ids[c], people_ids[k]) for c, k in liaisons])
        conn.commit()
    finally:
        conn.close()


async def postgres_insert(url: str, rows: tuple[list[Any], list[Any], list[Any]]) -> None:
    people, projects, liaisons = rows
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(
        hide_password=False))
    try:
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO people (key, name, title, phone, reachable, active, created_at) "
                "VALUES ($1, $2, $3, $4, true, true, $5)", people)
            await conn.executemany(
                "INSERT INTO projects (code, name, region_id, unit_id, level, chain, category, "
                "stage, total_investment, radius_m, works_rest_days, active, created_at, "
                "updated_at) VALUES ($1, $2, 1, 1, 'county', '', 'industrial', 'construction', "
                "$3, 1000, true, true, $4, $5)", projects)
            people_ids = dict(await conn.fetch("SELECT key, id FROM people"))
            project_ids = dict(await conn.fetch("SELECT code, id FROM projects"))
            await conn.executemany(
                "INSERT INTO project_liaisons VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [(project_ids[c], people_ids[k]) for c, k in liaisons])
    finally:
        await conn.close()


# ---- one backend, in a child process ---------------------------------------------------------

async def timed(work: Callable[[], Awaitable[Any]], repeat: int = 1) -> tuple[float, Any]:
    """The median time of `repeat` runs, and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def measure(backend: str, data: bytes, admin_url: str) -> dict[str, Any]:
    clock = FixedClock(datetime(2026, 3, 20, 10, tzinfo=ZONE), ZONE)
    t = translator("zh-CN")
    found: dict[str, Any] = {"backend": backend}
    with tempfile.TemporaryDirectory() as folder:
        names = ("app", "write", "plain")
        if backend == "sqlite":
            urls = [f"sqlite+aiosqlite:///{folder}/{name}.sqlite3" for name in names]
        else:
            made = [await postgres_database(admin_url) for _ in names]
            if None in made:
                return {"backend": backend, "skipped": "PostgreSQL is not reachable"}
            urls = [url for url in made if url is not None]
        try:
            for url in urls:
                await places(url)
            found |= await _app(urls[0], data, clock)
            found["read_baseline"], found["rows"] = await timed(
                lambda: asyncio.to_thread(read_baseline, data), REPEAT)
            engine = create_engine(urls[1])
            uow = UnitOfWorkFactory(session_factory(engine))
            async with uow() as u:
                ref = await load_reference(u, None)
            found["validation"], checked = await timed(lambda: asyncio.to_thread(
                check_upload, data, t, Limits(), ref, partial=False), REPEAT)
            found["errors"] = len(checked.errors)

            async def write() -> None:
                async with uow() as u:
                    await u.imports.save(checked.batch(), year=2026, now=clock.now(),
                                         actor_id=None)
                    await u.commit()

            found["write"], _ = await timed(write)
            await engine.dispose()
            plain = plain_rows(data)
            if backend == "sqlite":
                path = Path(make_url(urls[2]).database or "")
                found["insert_baseline"], _ = await timed(
                    lambda: asyncio.to_thread(sqlite_insert, path, plain))
            else:
                found["insert_baseline"], _ = await timed(lambda: postgres_insert(urls[2], plain))
        finally:
            if backend == "postgresql":
                for url in urls:
                    await drop_postgres(admin_url, url)
    found["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return found


async def _app(url: str, data: bytes, clock: FixedClock) -> dict[str, Any]:
    """`import_workbook` end to end into an empty database, then the same file again."""
    engine = create_engine(url)
    uow = UnitOfWorkFactory(session_factory(engine))
    try:
        seconds, result = await timed(lambda: import_workbook(uow, data, clock=clock,
                                                              language="zh-CN"))
        again_seconds, again = await timed(lambda: import_workbook(uow, data, clock=clock,
                                                                   language="zh-CN"))
    finally:
        await engine.dispose()
    counts = result.counts
    return {"import": seconds, "reimport": again_seconds,
            "counts": [counts.projects_new, counts.people_new, counts.assignments,
                       len(result.errors)],
            "reimport_unchanged": [again.counts.projects_unchanged,
                                   again.counts.people_unchanged]}


def report(found: dict[str, Any], generation: float, size_mb: float) -> None:
    backend = found["backend"]
    if "skipped" in found:
        print(f"\n{backend}: skipped ({found['skipped']})")
        return
    projects, people, assignments, errors = found["counts"]
    read, insert = found["read_baseline"], found["insert_baseline"]
    print(f"\n{backend}: {projects:,} projects, {people:,} people, {assignments:,} assignment "
          f"rows imported ({errors} refused cells); peak RSS {found['peak_rss_mb']:.0f} MB")
    rows = [
        ("generation (openpyxl write-only)", generation, f"{size_mb:.1f} MB file"),
        ("baseline read (read-only, values)", read, f"{found['rows']:,} rows"),
        ("baseline insert (driver executemany)", insert, "people, projects, liaisons"),
        ("validation (read + check)", found["validation"],
         f"{found['validation'] / read:.2f}× the read baseline"),
        ("write (compare + write, one commit)", found["write"],
         f"{found['write'] / insert:.2f}× the insert baseline"),
        ("import (import_workbook, end to end)", found["import"],
         f"{found['import'] / (read + insert):.2f}× read + insert baselines"),
        ("re-import, nothing changed", found["reimport"],
         "{:,} projects and {:,} people unchanged".format(*found["reimport_unchanged"])),
    ]
    for name, seconds, note in rows:
        print(f"  {name:38} {seconds:6.2f} s   {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=5000)
    parser.add_argument("--people", type=int, default=10000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--admin-url", default=ADMIN_URL,
                        help="a PostgreSQL database to connect to (throwaway ones are made)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        data = args.child.read_bytes()
        print(json.dumps(asyncio.run(measure(args.backend, data, args.admin_url))))
        return
    started = time.perf_counter()
    data = generate(args.projects, args.people)
    generation = time.perf_counter() - started
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as folder:
        workbook = Path(folder) / "county.xlsx"
        workbook.write_bytes(data)
        for backend in backends:
            out = subprocess.run(
                [sys.executable, "-m", "bench.excel_import", "--child", str(workbook),
                 "--backend", backend, "--admin-url", args.admin_url],
                check=True, capture_output=True, text=True, cwd=Path(__file__).parent.parent)
            report(json.loads(out.stdout.strip().splitlines()[-1]), generation,
                   len(data) / 1024 / 1024)


if __name__ == "__main__":
    main()
