"""SQLite for SQLAlchemy's async engine, run on the event loop's own thread.

SQLAlchemy's `aiosqlite` driver hands every call to a worker thread and waits for the answer:
opening a cursor, executing, fetching and closing are four round trips between the threads for
each statement, each one a queue hand-off, a wake-up of the event loop and a fight for the GIL.
For the few small statements of a form step that costs more than the statements themselves.

Here the same calls run inline on the loop's thread, through the `sqlite3` module. Nothing is
lost by it in fieldbot: the units of work of one process already take turns through one gate
(`storage.uow.Gate`), so no two SQLite transactions of the process ever run at once, and a
statement that takes long (a rhythm over a year of reports) held the gate — every other unit of
work waiting — with the threaded driver too. What does change: while such a statement runs, the
process's network I/O waits as well, and a write lock held by *another* process (a `fieldbot`
command run beside the bot) is waited for on the loop's thread, up to SQLite's busy timeout.

The module stands in for the `aiosqlite` module SQLAlchemy's aiosqlite dialect expects, so the
dialect below is that dialect with only the connection made differently. Engines get it through
`storage.db.create_engine`, for every `sqlite` URL.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from sqlite3 import (  # the driver's exceptions, as the dialect looks them up on this module
    DatabaseError,
    Error,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    sqlite_version,
    sqlite_version_info,
)
from types import TracebackType
from typing import Any, Self

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import VersionInfo, parse_version_string

DRIVER = "fieldbot"
"""`sqlite+fieldbot:///path`: the name the dialect is registered under."""

__all__ = ["DRIVER", "Connection", "Cursor", "DatabaseError", "Error", "IntegrityError",
           "NotSupportedError", "OperationalError", "ProgrammingError", "SQLiteDialectInline",
           "sqlite_version", "sqlite_version_info"]


class Cursor:
    """An `aiosqlite.Cursor` lookalike whose coroutines finish without ever suspending."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> Self:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> Self:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> Sequence[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class Connection:
    """An `aiosqlite.Connection` lookalike over a `sqlite3.Connection` used in place."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        # What SQLAlchemy's adapter reads (as on aiosqlite) to know the connection is open.
        self._connection: sqlite3.Connection | None = connection

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


class _AdaptedConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level  # type: ignore[no-any-return]

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection._conn.isolation_level = value


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> _AdaptedConnection:
        # The pool may close a connection from the garbage collector's thread.
        kwargs["check_same_thread"] = False
        connection: Any = Connection(sqlite3.connect(*args, **kwargs))  # the protocol's shape
        return _AdaptedConnection(self, connection)


class SQLiteDialectInline(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return _DBAPI(sys.modules[__name__], sqlite3)  # this module stands in for aiosqlite

    def retrieve_dbapi_version(self, dbapi: Any) -> VersionInfo:
        return parse_version_string(sqlite3.sqlite_version)


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialectInline")
