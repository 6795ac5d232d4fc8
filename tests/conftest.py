"""Databases for the tests: SQLite always, PostgreSQL too when FIELDBOT_TEST_POSTGRES_URL is set.

PostgreSQL gets one throwaway database per test session (created and dropped here), migrated
once; each test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import Base
from storage.uow import UnitOfWorkFactory
from tests.clocks import Ticker
from tests.world import World, build_world

POSTGRES_ENV = "FIELDBOT_TEST_POSTGRES_URL"
ZONE = ZoneInfo("Asia/Shanghai")


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


def _asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin_execute(admin: URL, sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(admin))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_postgres_database() -> URL:
    """A new, empty PostgreSQL database next to the one FIELDBOT_TEST_POSTGRES_URL names."""
    admin = make_url(os.environ[POSTGRES_ENV])
    name = f"fieldbot_test_{uuid.uuid4().hex[:12]}"
    await _admin_execute(admin, f'CREATE DATABASE "{name}"')
    return admin.set(database=name)


async def drop_postgres_database(url: URL) -> None:
    admin = make_url(os.environ[POSTGRES_ENV])
    await _admin_execute(admin, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[URL]:
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[URL | None]:
    """This session's PostgreSQL database, migrated by `postgres_migrated`."""
    if not os.environ.get(POSTGRES_ENV):
        yield None
        return
    url = asyncio.run(create_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


async def migrate_to_head(url: str | URL) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(migrate_to_head(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_migrated(postgres_url: URL | None) -> URL | None:
    if postgres_url is not None:
        asyncio.run(migrate_to_head(postgres_url))
    return postgres_url


@pytest.fixture(params=backends())
async def engine(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path,
                 postgres_migrated: URL | None) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database of each backend under test."""
    if request.param == "sqlite":
        path = tmp_path / "fieldbot.sqlite3"
        shutil.copy(sqlite_template, path)
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    assert postgres_migrated is not None
    engine = create_engine(postgres_migrated)
    try:
        yield engine
    finally:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()


@pytest.fixture
def uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(session_factory(engine))


@pytest.fixture
def ticker() -> Ticker:
    """A monotonic clock the test moves (limiters, token expiry, the outbox sender)."""
    return Ticker()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client for talking to a fake platform server."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 22, 10, 0, tzinfo=ZONE), ZONE)


@pytest.fixture
async def world(uow: UnitOfWorkFactory, clock: FixedClock) -> World:
    return await build_world(uow, clock)
