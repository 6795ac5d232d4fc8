"""The command: build the demo county in a fresh folder, run it, and summarise the run."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from bot.bootstrap import App, build_app
from bot.config import Settings
from bot.demo.seed import seed_demo
from bot.i18n import translator
from bot.schedule import build_scheduler, rhythm_deps
from bot.simulate.county_setup import build_county, connect_everyone, rebase_stages
from bot.simulate.folder import DATABASE, FolderPort, prepare_folder
from bot.simulate.run import Simulation
from bot.simulate.summary import Summary, tabulate
from domain.clock import FixedClock
from domain.model import OutboxState
from reminders.outbox import OutboxSender, SenderSettings
from reminders.scheduler import due_times


async def simulate(settings: Settings, *, start: date, days: int, out: Path, seed: int,
                   progress: Callable[[str], None] = print) -> Summary:
    """Run the demo county from `start` through `days` days into the folder `out`."""
    began = time.monotonic()
    t = translator(settings.language)
    out = await asyncio.to_thread(out.resolve)
    await asyncio.to_thread(prepare_folder, out, t)
    settings = settings.model_copy(update={
        "data_dir": out, "database_url": f"sqlite:///{out / DATABASE}"})
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
        sender = OutboxSender(app.uow, clock, [port], texts_for=translator,
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
