"""Wiring of the rhythms: their settings, calendar, charts and scheduler, from configuration."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import timedelta

from bot.bootstrap import App
from bot.config import Settings
from bot.i18n import translator
from domain.clock import Clock
from reminders.charts import Charts, find_cjk_font
from reminders.rhythms import JOBS, build_rhythms
from reminders.rhythms.base import LetterRules, RhythmDeps
from reminders.scheduler import RhythmScheduler
from storage.leader import LeaderLock

logger = logging.getLogger(__name__)


def rhythm_deps(settings: Settings) -> RhythmDeps:
    font = find_cjk_font(settings.digests.font)
    if font is None:
        logger.warning("charts: no CJK font found; digests go out as text only "
                       "(install fonts-noto-cjk or set digests.font)")
    return RhythmDeps(
        texts_for=translator, zone=settings.zone,
        calendar=settings.work_calendar(),
        charts=Charts(font),
        quiet=settings.default_quiet(),
        letters=LetterRules(**settings.letters.model_dump()),
        deadlines=settings.problem_deadlines(),
        default_language=settings.language)


def build_scheduler(app: App, *, clock: Clock | None = None,
                    deps: RhythmDeps | None = None) -> RhythmScheduler:
    settings = app.settings
    crontabs = {name: getattr(settings.rhythms, name) for name in JOBS}
    rhythms = build_rhythms(crontabs, deps or rhythm_deps(settings), settings.zone)
    return RhythmScheduler(app.uow, clock or app.clock, rhythms,
                           grace=timedelta(hours=settings.rhythms.grace_hours))


async def run_scheduler(app: App, scheduler: RhythmScheduler, stop: asyncio.Event) -> None:
    """Run the rhythms in the one instance holding the scheduler lock; stand by otherwise."""
    lock = LeaderLock(app.engine, "scheduler")
    try:
        while not stop.is_set():
            if await lock.try_acquire():
                await scheduler.serve(stop)
                return
            logger.info("scheduler: another instance runs the rhythms; standing by")
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=10)
    finally:
        await lock.release()
