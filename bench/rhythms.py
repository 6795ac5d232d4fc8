"""Issue 5's B3: the weekly digest and the ten-day check over a big county, on SQLite and
PostgreSQL, against one hand-written SQL aggregate over the same data in the same run.

Run: `.venv/bin/python bench/rhythms.py` (add `--projects 500 --days 60` for a quick look).

The county (bench/county_data.py): 5,000 projects × 365 days of daily reports (≈1.7 M rows) and
20,000 problems, built once and kept in bench/.data (SQLite) or a fieldbot_bench_* database
(PostgreSQL). Each backend is measured in its own child process, so its peak RSS is its own.

fieldbot: the real rhythm jobs (`weekly_digest`, `ten_day_check`) for Friday 20 November 2026
17:00, with 13 group chats subscribed (the city and each county), each repetition in a
transaction that is rolled back, so it does the full work again. Measured with charts (what is
sent) and text only (the data path alone: queries, arithmetic, rendering, outbox writes). The
ten-day check twice: the first one a county ever runs (every light set, a letter for every
project that earned one: thousands of rows written) and the usual one (the check of the 10th
committed before, so only what changed since is written). Runs on a scratch copy of the county.
Baseline: the per-project facts as one hand-written aggregate over the year's reports —
reports in the period, last report day and year-to-date investment — fetched whole.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.county_data import CountySize, scratch_postgres, sqlite_scratch
from bot.i18n import translator
from domain.workdays import WorkCalendar
from reminders.charts import Charts, find_cjk_font
from reminders.rhythms.base import RhythmDeps
from reminders.rhythms.ten_day import ten_day_check
from reminders.rhythms.weekly import weekly_digest
from reminders.scheduler import Due
from storage import models as m
from storage.db import create_engine, session_factory
from storage.uow import UnitOfWorkFactory

ZONE = ZoneInfo("Asia/Shanghai")
REPEAT = 3
BASELINE = text("""
SELECT project_id,
       count(CASE WHEN report_date >= :period_start THEN 1 END) AS reported,
       max(report_date) AS last_report,
       max(ytd_investment) AS ytd
FROM daily_reports
WHERE report_date BETWEEN :year_start AND :day
GROUP BY project_id
""")


async def subscribe_groups(uow: UnitOfWorkFactory, now: datetime) -> int:
    """The city's and each county's group chat, subscribed to both digests (made once)."""
    async with uow() as u:
        existing = await u.groups.subscribed("weekly_digest")
        if existing:
            return len(existing)
        regions = [r for r in await u.places.regions() if r.level.value in ("city", "county")]
        dispatcher = (await u.people.dispatchers())[0]
        for n, region in enumerate(regions):
            group = await u.groups.prepare(f"{region.name}调度群", region_id=region.id,
                                           unit_id=None, now=now,
                                           subscriptions=["weekly_digest", "ten_day_report"])
            await u.groups.bind(group.id, channel="bench", chat_id=str(-1000 - n),
                                title=None, by=dispatcher.id, now=now)
        await u.commit()
        return len(regions)


async def timed(work: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def measure(url: str, size: CountySize) -> dict[str, Any]:
    engine = create_engine(url)
    uow = UnitOfWorkFactory(session_factory(engine))
    day = size.end
    at = datetime(day.year, day.month, day.day, 17, tzinfo=ZONE)
    groups = await subscribe_groups(uow, at)

    def deps(charts: Charts) -> RhythmDeps:
        return RhythmDeps(texts_for=translator, zone=ZONE, calendar=WorkCalendar(),
                          charts=charts, default_language="zh-CN")

    with_charts, text_only = deps(Charts(find_cjk_font())), deps(Charts(None))

    def job(run: Callable[[RhythmDeps, Due], Awaitable[int]],
            rhythm_deps: RhythmDeps) -> Callable[[], Awaitable[int]]:
        async def once() -> int:
            async with uow() as u:  # rolled back: the next repetition does it all again
                return await run(rhythm_deps, Due("bench", at, at, u))
        return once

    async def baseline() -> int:
        async with engine.connect() as conn:
            rows = (await conn.execute(BASELINE, {
                "period_start": date(day.year, day.month, 11), "year_start": date(day.year, 1, 1),
                "day": day})).all()
        return len(rows)

    results: dict[str, Any] = {"groups": groups}
    results["baseline"] = await timed(baseline)
    for name, run in (("weekly", weekly_digest), ("first_ten_day", ten_day_check)):
        results[f"{name}_text"] = await timed(job(run, text_only))
        results[f"{name}_charts"] = await timed(job(run, with_charts))
    previous = datetime(day.year, day.month, 10, 17, tzinfo=ZONE)
    async with uow() as u:  # the check of the 10th, kept: the 20th's is the usual one
        await ten_day_check(text_only, Due("bench", previous, previous, u))
        await u.commit()
    results["ten_day_text"] = await timed(job(ten_day_check, text_only))
    results["ten_day_charts"] = await timed(job(ten_day_check, with_charts))
    async with uow() as u:
        results["reports"] = await u.session.scalar(
            select(m.DailyReport.id).order_by(m.DailyReport.id.desc()).limit(1))
    await engine.dispose()
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def child(backend: str, size: CountySize) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = (f"sqlite+aiosqlite:///{sqlite_scratch(size, Path(folder))}" if backend == "sqlite"
               else asyncio.run(scratch_postgres(size)))
        print(json.dumps(asyncio.run(measure(url, size))))


def report(backend: str, found: dict[str, Any]) -> None:
    base, rows = found["baseline"]
    print(f"\n{backend}: {found['reports']:,} report rows, {rows:,} projects reporting, "
          f"{found['groups']} groups; peak RSS {found['peak_rss_mb']:.0f} MB")
    print(f"  baseline (hand-written aggregate)   {base * 1000:8.0f} ms")
    for name in ("weekly", "first_ten_day", "ten_day"):
        for kind in ("text", "charts"):
            seconds, messages = found[f"{name}_{kind}"]
            print(f"  {name:13} {kind:6}  {messages:6} messages  {seconds * 1000:8.0f} ms  "
                  f"{seconds / base:5.2f}× the baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--problems", type=int, default=20000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = CountySize(projects=args.projects, days=args.days, problems=args.problems)
    if args.child:
        child(args.backend, size)
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--backend", backend, "--projects",
             str(args.projects), "--days", str(args.days), "--problems", str(args.problems)],
            check=True, capture_output=True, text=True)
        report(backend, json.loads(out.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
