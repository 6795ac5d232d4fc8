"""The rhythms' clock: which run is due, run it once, catch up what was missed.

Each rhythm has a trigger (a crontab line in configuration, APScheduler's `CronTrigger`). A run
writes its messages to the outbox and its own row in `rhythm_runs` in one transaction, so a run
either happened completely or not at all, and a restart never repeats one (the outbox keys
would refuse a repeated message anyway).

`run_due()` is the whole logic and takes the time from the clock, so tests move a clock and
call it. In production APScheduler calls it at each trigger's fire time (and every few minutes
as a safety net), after one call at start-up that catches up: of the due times missed while the
bot was down, the latest is run if it is within the grace window, and everything older is
skipped with one log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from domain.clock import Clock
from storage.repositories.runs import RunRecord
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

SAFETY_TICK = timedelta(minutes=5)
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Due:
    """One due time of one rhythm, as its job sees it."""

    rhythm: str
    at: datetime  # the scheduled moment (aware)
    now: datetime  # when it actually runs (later, when caught up)
    uow: UnitOfWork


Job = Callable[[Due], Awaitable[int]]
"""Writes a run's messages through `due.uow` (not committing) and returns how many."""


@dataclass(frozen=True, slots=True)
class Rhythm:
    name: str
    trigger: CronTrigger
    job: Job


def due_times(trigger: CronTrigger, *, after: datetime, until: datetime) -> list[datetime]:
    """The trigger's fire times in (after, until]."""
    found: list[datetime] = []
    at = trigger.get_next_fire_time(None, after + ONE_MICROSECOND)
    while at is not None and at <= until:
        found.append(at)
        at = trigger.get_next_fire_time(None, at + ONE_MICROSECOND)
    return found


class RhythmScheduler:
    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock, rhythms: Sequence[Rhythm],
                 *, grace: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self.rhythms = tuple(rhythms)
        self.grace = grace
        self._running = asyncio.Lock()

    async def run_due(self) -> list[RunRecord]:
        """Run (or skip) whatever is due now; returns what was recorded."""
        async with self._running:
            now = self._clock.now()
            async with self._uow() as uow:
                handled = await uow.runs.last_due()
            records: list[RunRecord] = []
            for rhythm in self.rhythms:
                after = handled.get(rhythm.name, now - self.grace)
                times = due_times(rhythm.trigger, after=after, until=now)
                if times:
                    record = await self._handle(rhythm, times, now)
                    if record is not None:
                        records.append(record)
            return records

    async def _handle(self, rhythm: Rhythm, times: list[datetime],
                      now: datetime) -> RunRecord | None:
        latest = times[-1]
        if len(times) > 1:
            logger.warning("rhythm %s: %d earlier due times (%s … %s) were missed while the bot "
                           "was down; only the latest is considered", rhythm.name, len(times) - 1,
                           times[0].isoformat(), times[-2].isoformat())
        if now - latest > self.grace:
            note = (f"missed by {now - latest}, beyond the grace window of {self.grace}"
                    + (f"; {len(times) - 1} earlier missed too" if len(times) > 1 else ""))
            logger.warning("rhythm %s due %s skipped: %s", rhythm.name, latest.isoformat(), note)
            return await self._record(rhythm.name, latest, now, outcome="skipped", note=note)
        return await self._run(rhythm, latest, now)

    async def _run(self, rhythm: Rhythm, at: datetime, now: datetime) -> RunRecord | None:
        note = f"caught up {now - at} late" if now - at > SAFETY_TICK else ""
        try:
            async with self._uow() as uow:
                messages = await rhythm.job(Due(rhythm.name, at, now, uow))
                if not await uow.runs.record(rhythm.name, at, outcome="ran", messages=messages,
                                             now=now, note=note):
                    logger.info("rhythm %s due %s: already run elsewhere", rhythm.name, at)
                    return None
                await uow.commit()
        except Exception:
            # Rolled back whole: nothing was queued, and the next tick within grace tries again.
            logger.exception("rhythm %s due %s failed; will retry", rhythm.name, at.isoformat())
            return None
        logger.info("rhythm %s due %s ran: %d messages%s", rhythm.name, at.isoformat(), messages,
                    f" ({note})" if note else "")
        return RunRecord(rhythm.name, at, "ran", messages, now, note)

    async def _record(self, name: str, at: datetime, now: datetime, *, outcome: str,
                      note: str) -> RunRecord | None:
        async with self._uow() as uow:
            recorded = await uow.runs.record(name, at, outcome=outcome, messages=0, now=now,
                                             note=note)
            await uow.commit()
        return RunRecord(name, at, outcome, 0, now, note) if recorded else None

    def rhythm(self, name: str) -> Rhythm | None:
        return next((r for r in self.rhythms if r.name == name), None)

    async def run_now(self, rhythm: Rhythm, *, at: datetime | None = None) -> int:
        """Run one rhythm once, outside its schedule, as of `at` (now by default); returns how
        many messages it queued. A failure rolls back whole and is raised.

        Its messages carry the keys the rhythm gives them for `at`, so the outbox refuses what
        the scheduled run of the same period queued or will queue: a check run by hand and
        then on time sends nothing twice. The run is not written to `rhythm_runs`, which holds
        the schedule's due times and drives the catch-up: an on-demand run takes no due
        time's place (the scheduled run still comes and sends what is new by then) and does
        not move the catch-up window.
        """
        async with self._running:
            now = self._clock.now()
            at = at or now
            async with self._uow() as uow:
                messages = await rhythm.job(Due(rhythm.name, at, now, uow))
                await uow.commit()
        logger.info("rhythm %s run on demand as of %s: %d messages", rhythm.name,
                    at.isoformat(), messages)
        return messages

    async def serve(self, stop: asyncio.Event) -> None:
        """Catch up, then run each rhythm at its times until `stop` is set."""
        await self.run_due()
        scheduler = AsyncIOScheduler(timezone=self._clock.zone)
        for rhythm in self.rhythms:
            scheduler.add_job(self.run_due, rhythm.trigger, id=rhythm.name, coalesce=True,
                              max_instances=1, misfire_grace_time=None)
        scheduler.add_job(self.run_due, IntervalTrigger(seconds=SAFETY_TICK.total_seconds()),
                          id="safety-tick", coalesce=True, max_instances=1)
        scheduler.start()
        logger.info("scheduler: %d rhythms scheduled in %s", len(self.rhythms), self._clock.zone)
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
