"""SQLite through the inline driver (storage/inline_sqlite.py): every sqlite URL gets it, it
runs on the event loop's thread, and it behaves as a DBAPI driver must: rows, counts, ids,
batches, errors as SQLAlchemy's own, rollback, commit seen by a second connection."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine


@pytest.mark.parametrize("scheme", ["sqlite", "sqlite+aiosqlite", "sqlite+fieldbot"])
async def test_every_sqlite_url_runs_inline_on_the_loops_thread(tmp_path: Path,
                                                                scheme: str) -> None:
    engine = create_engine(f"{scheme}:///{tmp_path / 'inline.sqlite3'}")
    threads: list[int] = []

    def thread_id() -> int:
        threads.append(threading.get_ident())
        return len(threads)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("thread_id", 0, thread_id)

    event.listen(engine.sync_engine, "connect", on_connect)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT thread_id()")) == 1
            assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
        assert engine.dialect.driver == "fieldbot"
        assert threads == [threading.get_ident()]
    finally:
        await engine.dispose()


@pytest.fixture
async def names(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A database with one table of unique names, holding 甲 (id 1)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'inline.sqlite3'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
        first = await conn.execute(text("INSERT INTO t (name) VALUES ('甲')"))
        assert first.lastrowid == 1
    yield engine
    await engine.dispose()


async def test_rows_counts_ids_and_batches(names: AsyncEngine) -> None:
    async with names.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"),
                           [{"n": "乙"}, {"n": "丙"}, {"n": "丁"}])
        changed = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 2"))
        assert changed.rowcount == 2
    async with names.connect() as conn:
        rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
        streamed = [row async for row in await conn.stream(text("SELECT name FROM t"))]
    assert [tuple(r) for r in rows] == [(1, "甲"), (2, "乙"), (3, "丙!"), (4, "丁!")]
    assert len(streamed) == 4


async def test_errors_are_sqlalchemys_and_a_rollback_keeps_nothing(names: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with names.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('乙')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('甲')"))
    with pytest.raises(OperationalError, match="no such table"):
        async with names.connect() as conn:
            await conn.execute(text("SELECT * FROM missing"))
    async with names.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM t"))).scalars().all() == ["甲"]


async def test_a_commit_is_seen_by_another_engine_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "inline.sqlite3"
    writer, reader = create_engine(f"sqlite:///{path}"), create_engine(f"sqlite:///{path}")
    try:
        async with writer.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        async with writer.connect() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))  # not committed
            async with reader.connect() as other:
                assert await other.scalar(text("SELECT count(*) FROM t")) == 1
            await conn.commit()
        async with reader.connect() as other:
            assert await other.scalar(text("SELECT count(*) FROM t")) == 2
    finally:
        await writer.dispose()
        await reader.dispose()
