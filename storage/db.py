"""Engines for the two supported databases, configured the same way everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import inline_sqlite

SQLITE_BUSY_TIMEOUT_MS = 5000


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened; the message is one line for the operator."""


def safe_url(url: str | URL) -> str:
    """The URL as it may appear in a log line or an error: no password."""
    return make_url(url).render_as_string(hide_password=True)


def create_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Whatever driver the URL names (`sqlite+aiosqlite` in older configurations), SQLite
        # runs inline on the event loop's thread: see storage/inline_sqlite.py.
        parsed = parsed.set(drivername=f"sqlite+{inline_sqlite.DRIVER}")
        timeout = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = create_async_engine(parsed, connect_args=timeout, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if parsed.get_backend_name() == "postgresql":
        # No JIT compilation: it pays off for long analytical queries, while fieldbot's are
        # small or thousands of index probes whose cost PostgreSQL overestimates (more so
        # with dead rows about): compiling took 40-400 ms of a rhythm's figures query.
        settings = kwargs.setdefault("connect_args", {}).setdefault("server_settings", {})
        settings.setdefault("jit", "off")
    return create_async_engine(parsed, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def check_reachable(engine: AsyncEngine) -> None:
    """Connect once, turning any driver or network error into `DatabaseUnavailable`."""
    try:
        database = engine.url.database
        if engine.url.get_backend_name() == "sqlite" and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot reach the database at {safe_url(engine.url)}: {reason}") from exc
