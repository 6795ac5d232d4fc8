"""The composition root: the one place that builds engines, clocks and routers and closes them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.i18n import Translator, translator
from domain.clock import Clock, SystemClock
from handlers.forms import field_forms
from handlers.forms.engine import Forms
from handlers.router import Router
from reminders.chart_types import LazyCharts
from storage import migrate
from storage.db import check_reachable, create_engine, session_factory
from storage.photos import PhotoStore
from storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)


class SchemaOutdated(Exception):
    def __init__(self, current: str | None, head: str | None) -> None:
        super().__init__(f"schema at {current}, newest is {head}")
        self.current = current
        self.head = head


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    uow: UnitOfWorkFactory
    clock: Clock
    router: Router

    def texts(self, language: str | None = None) -> Translator:
        return translator(language or self.settings.language)

    async def aclose(self) -> None:
        await self.engine.dispose()


async def build_app(settings: Settings, clock: Clock | None = None, *,
                    migrate_schema: bool = False) -> App:
    """Connect, check (or bring) the schema up to date and wire the core.

    Raises `storage.db.DatabaseUnavailable` or `SchemaOutdated` with an operator-readable message.
    """
    engine = create_engine(settings.database_url)
    try:
        await check_reachable(engine)
        if migrate_schema:
            await migrate.upgrade(engine)
        current, head = await migrate.current(engine), migrate.head()
        if current != head:
            raise SchemaOutdated(current, head)
    except BaseException:
        await engine.dispose()
        raise
    clock = clock or SystemClock(settings.zone)
    uow = UnitOfWorkFactory(session_factory(engine))
    photos = settings.photos
    store = PhotoStore(settings.photo_dir, zone=settings.zone,
                       max_pixels=int(photos.max_megapixels * 1_000_000),
                       max_bytes=int(photos.max_megabytes * 1024 * 1024),
                       long_edge=photos.long_edge, thumb_edge=photos.thumb_edge)
    forms = Forms(field_forms(), store, ttl=timedelta(hours=settings.forms.draft_hours))
    router = Router(uow, clock, translator, settings.language, forms=forms,
                    deadlines=settings.problem_deadlines(), calendar=settings.work_calendar(),
                    photo_files=store, charts=LazyCharts(settings.digests.font),
                    quiet=settings.default_quiet())
    return App(settings, engine, uow, clock, router)
