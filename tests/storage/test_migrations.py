"""The migration stairway: every revision upgrades, downgrades and upgrades again, on each database;
and the newest revision builds exactly the schema the models describe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.db import create_engine
from storage.models import Base
from tests.conftest import backends, fresh_postgres_database


@pytest.fixture(params=backends())
async def empty_engine(request: pytest.FixtureRequest, tmp_path: Path,
                       ) -> AsyncIterator[AsyncEngine]:
    """An empty database of its own: the stairway must not disturb the other tests' one."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'stairway.sqlite3'}")
        yield engine
        await engine.dispose()
        return
    async with fresh_postgres_database() as url:
        engine = create_engine(url)
        yield engine
        await engine.dispose()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_stairway_up_down_up_every_revision(empty_engine: AsyncEngine) -> None:
    revisions = migrate.revisions()
    assert revisions, "no migrations found"
    previous = "base"
    for revision in revisions:
        await migrate.upgrade(empty_engine, revision)
        assert await migrate.current(empty_engine) == revision
        await migrate.downgrade(empty_engine, previous)
        assert await migrate.current(empty_engine) == (None if previous == "base" else previous)
        await migrate.upgrade(empty_engine, revision)
        previous = revision
    assert set(Base.metadata.tables) <= await table_names(empty_engine)
    await migrate.downgrade(empty_engine, "base")
    assert await table_names(empty_engine) <= {"alembic_version"}


async def test_newest_revision_matches_the_models(empty_engine: AsyncEngine) -> None:
    await migrate.upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert diff == [], f"models and migrations disagree: {diff}"
