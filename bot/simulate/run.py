"""The run: the clock jumps from one rhythm fire time to the next.

Between two fire times the county's people act; at each one `RhythmScheduler.run_due()` runs
what is due and the outbox sender delivers what it wrote, held-back messages included.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from babel.dates import format_date

from bot.bootstrap import App
from bot.simulate.county import County
from bot.simulate.county_setup import start_project
from bot.simulate.folder import FolderPort
from domain.clock import FixedClock
from domain.model import Stage
from reminders.outbox import OutboxSender
from reminders.scheduler import RhythmScheduler, due_times
from storage.repositories.runs import RunRecord

logger = logging.getLogger(__name__)

EVENING = clock_time(21, 0)
MAX_PASSES = 1000  # sender passes at one moment; more means something is stuck


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

