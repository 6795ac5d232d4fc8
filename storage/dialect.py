"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT with ON CONFLICT for the session's database (both dialects spell it alike)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def seconds_between(session: AsyncSession, start: Any, end: Any) -> ColumnElement[int]:
    """Whole seconds from one timestamp column to another, computed in the database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.round(func.extract("epoch", end - start)), BigInteger)
    return (cast(func.strftime("%s", end), Integer)  # SQLite keeps UTC text
            - cast(func.strftime("%s", start), Integer))
