"""B2: form steps per second through the core, in process, on SQLite.

Run: `.venv/bin/python bench/forms.py`

fieldbot: the demo liaison files complete daily reports through the router (the path every
channel takes): /report, project, status, progress, work, investment (skipped), photos (done),
location (skipped), any problem (no), confirm — ten steps per report, each one a full event
with its own transaction, draft read and written back.
Baseline, measured in the same run on the same database file: the least a step must do, as one
plain SQL transaction that reads the draft row and writes it back (SQLAlchemy Core, no ORM).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.demo.seed import seed_demo
from bot.i18n import translator
from domain.clock import FixedClock
from domain.events import EventKind, Incoming
from handlers.forms import field_forms
from handlers.forms.engine import Forms
from handlers.router import Router
from storage import migrate
from storage import models as m
from storage.db import create_engine, session_factory
from storage.photos import PhotoStore
from storage.repositories.drafts import Draft, DraftKey
from storage.uow import UnitOfWorkFactory

REPORTS = 60
ZONE = ZoneInfo("Asia/Shanghai")


async def one_report(router: Router, user: str) -> int:
    """One daily report typed as a liaison would; returns the number of steps."""
    steps = 0

    async def send(event: Incoming) -> list[str]:
        nonlocal steps
        steps += 1
        replies = await router.handle(event)
        return [b.data for r in replies for row in r.buttons for b in row]

    def typed(text: str) -> Incoming:
        return Incoming.from_text("bench", user, user, text)

    def pressed(data: str) -> Incoming:
        return Incoming("bench", user, user, EventKind.BUTTON, button_data=data)

    buttons = await send(typed("/report"))
    buttons = await send(pressed(buttons[0]))  # the first project
    not_started = next(b for b in buttons if b.endswith(":not_started"))
    await send(pressed(not_started))
    await send(typed("100"))
    await send(typed("办理施工许可"))
    buttons = await send(typed("跳过"))
    await send(typed("完成"))
    await send(typed("跳过"))
    buttons = await send(typed("否"))
    await send(pressed(next(b for b in buttons if b.endswith(":~ok"))))
    return steps


async def baseline_steps(engine_url: str, person_id: int, count: int) -> float:
    engine = create_engine(engine_url)
    table = m.FormDraft.__table__
    try:
        start = time.perf_counter()
        for i in range(count):
            async with engine.begin() as conn:
                row = (await conn.execute(select(table).where(
                    table.c.person_id == person_id))).first()
                if row is not None:
                    await conn.execute(update(table).where(table.c.id == row.id)
                                       .values(step=f"s{i}", answers={"i": i}))
        return time.perf_counter() - start
    finally:
        await engine.dispose()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = create_engine(url)
        await migrate.upgrade(engine)
        uow = UnitOfWorkFactory(session_factory(engine))
        clock = FixedClock(datetime(2026, 11, 22, 2, 0, tzinfo=UTC), ZONE)
        async with uow() as u:
            await seed_demo(u, clock)
            await u.commit()
        async with uow() as u:
            person = (await u.people.find("liaison_wang"))[0]
            await u.people.bind_identity(person.id, "bench", "bench", clock.now())
            await u.commit()
        forms = Forms(field_forms(), PhotoStore(Path(tmp) / "photos", zone=ZONE))
        router = Router(uow, clock, translator, "zh-CN", forms=forms)
        await one_report(router, "bench")  # warm up
        timings: list[float] = []
        steps = 0
        start = time.perf_counter()
        for _ in range(REPORTS):
            t0 = time.perf_counter()
            steps += await one_report(router, "bench")
            timings.append(time.perf_counter() - t0)
        ours = time.perf_counter() - start
        async with uow() as u:  # a draft row for the baseline to read and write
            now = clock.now()
            await u.drafts.put(DraftKey(person.id, "bench", "bench"), Draft(
                "report", "progress", "t", {}, {}, now, now, now + timedelta(hours=24)))
            await u.commit()
        await engine.dispose()
        base = await baseline_steps(url, person.id, steps)
    per_step = ours / steps
    per_base = base / steps
    print(f"{REPORTS} daily reports, {steps} form steps, SQLite (WAL), in process")
    print(f"{'':<34}{'steps/s':>10}{'per step':>12}")
    print(f"{'fieldbot form step':<34}{steps / ours:>10.0f}{per_step * 1000:>9.2f} ms")
    print(f"{'plain SQL read+write of the draft':<34}{steps / base:>10.0f}"
          f"{per_base * 1000:>9.2f} ms")
    print(f"{'ratio':<34}{per_step / per_base:>9.1f}x")
    print(f"median whole report: {statistics.median(timings) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
