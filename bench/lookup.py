"""Issue 6's lookup benchmark: the project index (`handlers.lookup`) against a plain rapidfuzz
scan of the names, over a big generated county.

Run: `.venv/bin/python -m bench.lookup` (`--projects 2000 --queries 500` for a quick look,
`--no-db` to skip the SQLite part).

The county: 10,000 projects named as bench/county_data.py names them (county or town, company,
product, "年产…万吨…项目", "…公路改扩建工程", phases), 12 counties, about 60 % with a short
name (alias) as people say it ("恒通饲料园", "城关镇供水"). The queries (2,000, seeded), a sixth
each: a code as typed ("C03-0042", "c030042"), a part of a name or alias, the pinyin initials of
an alias or a part, full pinyin of a part (sometimes with spaces), a typo (one character of an
alias replaced, two letters of pinyin swapped) and a miss (words in no name).

Measured in one process: the index's `search` for a city-wide viewer (all 10,000 visible) and a
county dispatcher; the baseline `rapidfuzz.process.extractOne(query, names)` over the same
10,000 names; "target" is how often the project a query was made from is among the first 8
answers (the index's matches or suggestions; the baseline's one answer). The build: cold (every
name spelled by pypinyin) and warm (a rebuild after a change: spellings reused), and the
table's memory (tracemalloc, pypinyin's own dictionaries excluded; the RSS they add is shown).
With the database (SQLite, a temporary file): the stamp query that every `/status` runs, reading
the entries for a rebuild, and the whole `ProjectIndex.lookup` (stamp, search, summaries).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import random
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from rapidfuzz import process
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.county_data import (
    COMPANIES,
    COUNTIES,
    INDUSTRIAL,
    INFRASTRUCTURE,
    NUMERALS,
    PHASES,
    PRODUCTS,
    PUBLIC_SERVICE,
    RIVERS,
    ROADS,
    TOWNS,
)
from domain.model import Category, ProjectLevel, RegionLevel, Stage
from domain.scope import ProjectScope
from handlers.lookup import MAX_QUERY, LookupTable, ProjectIndex, fold, spell
from storage import migrate
from storage import models as m
from storage.db import create_engine, session_factory
from storage.repositories.projects import IndexEntry
from storage.uow import UnitOfWorkFactory

T = TypeVar("T")
SHOWN = 8
VIEWER, DISPATCHER = 1, 2
KINDS = ("code", "fragment", "initials", "pinyin", "typo", "miss")
MISSES = ("量子计算中心", "火星基地", "航空母舰码头", "深海养殖", "冰雪大世界", "卫星发射场",
          "磁悬浮列车", "熊猫繁育基地", "qwxz", "zzyy", "kkkk", "xqzv", "bpmf", "天气预报",
          "足球俱乐部", "郁金香花海", "海底隧道", "zhzh", "lllx", "电竞馆")
GENERIC_END = re.compile(r"(?:（[一二三]期）)?(?:建设项目|新建项目|项目|工程)?(?:（[一二三]期）)?$")


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    target: int | None  # the project it was made from


def _alias(rng: random.Random, name: str, county: str, company: str, product: str) -> str:
    if company in name and rng.random() < 0.7:
        return company + product[:2] + rng.choice(("园", "项目", "", "厂"))
    short = GENERIC_END.sub("", name.removeprefix(county))
    return short[:rng.randint(4, 8)]


def county(projects: int, seed: int = 6) -> list[IndexEntry]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    towns = [rng.sample(TOWNS, 4) for _ in COUNTIES]
    entries: list[IndexEntry] = []
    for i in range(projects):
        c = rng.randrange(len(COUNTIES))
        templates = rng.choices((INDUSTRIAL, INFRASTRUCTURE, PUBLIC_SERVICE), (6, 2.5, 1.5))[0]
        town, town2 = rng.sample(towns[c], 2)
        product, company = rng.choice(list(PRODUCTS)), rng.choice(COMPANIES)
        name = rng.choice(templates).format(
            county=COUNTIES[c], town=town, town2=town2, company=company, product=product,
            chain=PRODUCTS[product], road=rng.choice(ROADS), river=rng.choice(RIVERS),
            n=rng.randint(1, 30), cn=rng.choice(NUMERALS)) + rng.choice(PHASES)
        aliases = ((_alias(rng, name, COUNTIES[c], company, product),)
                   if rng.random() < 0.6 else ())
        entries.append(IndexEntry(
            id=i + 1, code=f"C{c + 1:02d}-{i + 1:05d}", name=name, aliases=aliases,
            region_id=100 + c, unit_id=1000 + 10 * c + rng.randrange(6),
            lead_leader_id=10_000 + 20 * c + rng.randrange(20),
            liaison_ids=frozenset({20_000 + i // 2})))
    return entries


def _window(rng: random.Random, text: str, low: int, high: int) -> str:
    size = min(len(text), rng.randint(low, high))
    start = rng.randrange(len(text) - size + 1)
    return text[start:start + size]


def _typed_name(rng: random.Random, e: IndexEntry) -> str:
    """What a person remembers of a project: its alias, or the name without the county."""
    return e.aliases[0] if e.aliases and rng.random() < 0.7 else e.name[3:]


def _pinyin(rng: random.Random, typed: str) -> str:
    spelling = spell(_window(rng, typed, 2, 4))
    if rng.random() < 0.3:  # typed with spaces between the syllables
        bounds = [*spelling.starts, len(spelling.pinyin)]
        return " ".join(spelling.pinyin[a:b] for a, b in itertools.pairwise(bounds))
    return spelling.pinyin


def _typo(rng: random.Random, typed: str, han: str) -> str:
    part = _window(rng, typed, 4, 7)
    if rng.random() < 0.6:  # one character replaced
        at = rng.randrange(len(part))
        return part[:at] + rng.choice(han) + part[at + 1:]
    pinyin = spell(part).pinyin  # two letters swapped
    at = rng.randrange(len(pinyin) - 1)
    return pinyin[:at] + pinyin[at + 1] + pinyin[at] + pinyin[at + 2:]


def _query(rng: random.Random, kind: str, e: IndexEntry, han: str) -> str:
    typed = fold(_typed_name(rng, e))
    makers: dict[str, Callable[[], str]] = {
        "code": lambda: rng.choice((e.code, e.code.lower(), e.code.replace("-", "").lower())),
        "fragment": lambda: _window(rng, typed, 2, 5),
        "initials": lambda: spell(_window(rng, typed, 3, 6)).initials,
        "pinyin": lambda: _pinyin(rng, typed),
        "typo": lambda: _typo(rng, typed, han),
    }
    return makers[kind]()


def queries(entries: Sequence[IndexEntry], count: int, seed: int = 7) -> list[Query]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    han = "".join(sorted({ch for e in entries[:500] for ch in e.name
                          if "\u4e00" <= ch <= "\u9fff"}))
    found: list[Query] = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        if kind == "miss":
            found.append(Query(kind, rng.choice(MISSES), None))
            continue
        e = rng.choice(entries)
        found.append(Query(kind, _query(rng, kind, e, han), e.id))
    rng.shuffle(found)
    return found


def percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def timed(run: Callable[[str], T], items: Sequence[Query]) -> tuple[list[float], list[T]]:
    times: list[float] = []
    answers: list[T] = []
    for q in items:
        started = time.perf_counter_ns()
        answers.append(run(q.text))
        times.append((time.perf_counter_ns() - started) / 1e6)
    return times, answers


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def build_figures(entries: Sequence[IndexEntry]) -> tuple[LookupTable, dict[str, float]]:
    started = time.perf_counter()
    table = LookupTable.build(entries)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    LookupTable.build(entries, table.spellings)
    warm = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    traced = LookupTable.build(entries, {})
    size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    return table, {"cold": cold, "warm": warm, "table_mb": size / 2**20,
                   "peak_mb": peak / 2**20, "rss_mb": rss_mb()}


@dataclass(frozen=True)
class Run:
    """Milliseconds per query, and whether the query's project was among the answers (None
    when the query was made from no project, or from one the asker may not see)."""

    times: list[float]
    hits: list[bool | None]


def share(hits: Sequence[bool | None]) -> str:
    known = [h for h in hits if h is not None]
    return f"{sum(known) / len(known):4.0%}" if known else "   –"


def report(title: str, items: Sequence[Query], index: Run, base: Run) -> None:
    print(f"\n{title}")
    print(f"  {'queries':10} {'n':>5}  {'index p50/p95/p99 ms':>22}  "
          f"{'baseline p50/p95/p99 ms':>24}  {'p95 ratio':>9}  {'target: index / baseline':>24}")
    for kind in (*KINDS, "all"):
        rows = [i for i, q in enumerate(items) if kind in ("all", q.kind)]
        mine = percentiles([index.times[i] for i in rows])
        theirs = percentiles([base.times[i] for i in rows])
        targets = f"{share([index.hits[i] for i in rows])} / {share([base.hits[i] for i in rows])}"
        print(f"  {kind:10} {len(rows):5}  {mine[0]:6.2f} {mine[1]:6.2f} {mine[2]:6.2f}    "
              f"{theirs[0]:6.2f} {theirs[1]:6.2f} {theirs[2]:6.2f}    {mine[1] / theirs[1]:6.3f}×"
              f"  {targets:>24}")


def measure(entries: list[IndexEntry], items: list[Query], dictionaries_mb: float) -> None:
    table, built = build_figures(entries)
    print(f"{len(entries):,} projects, {sum(len(e.aliases) for e in entries):,} aliases, "
          f"{len(items):,} queries (a sixth of each kind); query cut at {MAX_QUERY} characters")
    print(f"build: cold {built['cold']:.2f} s (pypinyin spells every name), "
          f"warm {built['warm'] * 1000:.0f} ms (a rebuild after a change)")
    print(f"memory: table {built['table_mb']:.1f} MiB (tracemalloc; peak while building "
          f"{built['peak_mb']:.1f} MiB), pypinyin dictionaries +{dictionaries_mb:.0f} "
          f"MB RSS, process RSS {built['rss_mb']:.0f} MB")
    names = [e.name for e in entries]
    by_name: dict[str, set[int]] = {}
    for e in entries:
        by_name.setdefault(e.name, set()).add(e.id)
    base_times, base_answers = timed(lambda q: process.extractOne(q, names), items)
    scopes = {f"a city-wide viewer: all {len(entries):,} visible":
              ProjectScope(VIEWER, frozenset(range(100, 100 + len(COUNTIES))), frozenset()),
              "a county dispatcher (云城区, "
              f"{sum(e.region_id == 100 for e in entries):,} visible)":
              ProjectScope(DISPATCHER, frozenset({100}), frozenset())}
    for title, scope in scopes.items():
        visible = {e.id for e in entries if e.region_id in scope.region_ids}
        table.search("预热", scope)  # the scope's visible set, kept per scope

        def search(text: str, scope: ProjectScope = scope) -> tuple[int, ...]:
            hits = table.search(text, scope)
            return (*hits.matches[:SHOWN], *hits.suggestions[:SHOWN])

        times, answers = timed(search, items)
        index = Run(times, [None if q.target not in visible else q.target in a
                            for a, q in zip(answers, items, strict=True)])
        base = Run(base_times, [None if q.target not in visible
                                else a is not None and q.target in by_name[a[0]]
                                for a, q in zip(base_answers, items, strict=True)])
        report(f"search, as {title}", items, index, base)


async def database(entries: list[IndexEntry], items: list[Query], folder: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'lookup.sqlite3'}")
    await migrate.upgrade(engine)
    uow = UnitOfWorkFactory(session_factory(engine))
    now = datetime.now(UTC)
    async with uow() as u:
        city = (await u.places.add_region("990100", "云州市", RegionLevel.CITY)).id
        regions = {100 + c: (await u.places.add_region(
            f"99{c + 10:02d}00", name, RegionLevel.COUNTY, city)).id
            for c, name in enumerate(COUNTIES)}
        units = {(100 + c): (await u.places.add_unit(f"U{c:02d}", f"{name}发改局",
                                                     regions[100 + c])).id
                 for c, name in enumerate(COUNTIES)}
        await u.commit()
    async with engine.begin() as conn:
        await conn.execute(insert(m.Project), [
            {"id": e.id, "code": e.code, "name": e.name, "region_id": regions[e.region_id],
             "unit_id": units[e.region_id], "level": ProjectLevel.COUNTY,
             "category": Category.INDUSTRIAL, "stage": Stage.CONSTRUCTION,
             "total_investment": Decimal(10000), "created_at": now, "updated_at": now}
            for e in entries])
        await conn.execute(insert(m.ProjectAlias), [
            {"project_id": e.id, "alias": a} for e in entries for a in e.aliases])
    scope = ProjectScope(VIEWER, frozenset(regions.values()) | {city}, frozenset())
    stamps = []
    for _ in range(200):
        started = time.perf_counter()
        async with uow() as u:
            await u.projects.index_stamp()
        stamps.append((time.perf_counter() - started) * 1000)
    reads = []
    for _ in range(5):
        started = time.perf_counter()
        async with uow() as u:
            await u.projects.index_entries()
        reads.append((time.perf_counter() - started) * 1000)
    index = ProjectIndex()
    started = time.perf_counter()
    async with uow() as u:
        await index.lookup(u, "预热", scope, 2026, shown=SHOWN)
    first = time.perf_counter() - started
    whole = []
    for q in items[:500]:
        started = time.perf_counter()
        async with uow() as u:
            await index.lookup(u, q.text, scope, 2026, shown=SHOWN)
        whole.append((time.perf_counter() - started) * 1000)
    await engine.dispose()
    p50, p95, p99 = percentiles(whole)
    print(f"\nSQLite, {len(entries):,} projects: stamp query (each /status) "
          f"{statistics.median(stamps):.2f} ms median; reading the entries "
          f"{statistics.median(reads):.0f} ms; first lookup with the build {first:.2f} s")
    print(f"  ProjectIndex.lookup (a transaction: stamp, search, summaries of up to {SHOWN}), "
          f"{len(whole)} queries: p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms "
          f"(index rebuilt {index.builds}×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--no-db", action="store_true", help="skip the SQLite measurements")
    args = parser.parse_args()
    before = rss_mb()
    spell("预热")  # pypinyin's dictionaries, loaded once per process
    dictionaries_mb = rss_mb() - before
    entries = county(args.projects)
    items = queries(entries, args.queries)
    measure(entries, items, dictionaries_mb)
    if not args.no_db:
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(database(entries, items, Path(folder)))


if __name__ == "__main__":
    main()
