"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Integer,
    Table,
    cast,
    func,
    select,
    true,
)
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


def newest_row(session: AsyncSession, table: Table, columns: list[str], *,
               where: list[ColumnElement[bool]], newest_first: ColumnElement[Any],
               outer: FromClause, name: str) -> tuple[FromClause, ColumnElement[bool]]:
    """The first row of `table` by `newest_first` among those matching `where` (which refers to
    `outer`), for each row of `outer`: a FROM (with at least `columns`) to outer-join and its ON
    clause. Either way one index probe per outer row, the plan fixed by the statement's shape.

    PostgreSQL: a LATERAL subquery (an ordinary join on a correlated value may be planned as a
    hash join over the whole table). SQLite has no LATERAL: the row whose id a correlated
    subquery picks.
    """
    if session.get_bind().dialect.name == "postgresql":
        newest = (select(*(table.c[column] for column in columns)).where(*where)
                  .order_by(newest_first).limit(1))
        return newest.lateral(name), true()
    row = table.alias(name)
    picked = (select(table.c.id).where(*where).order_by(newest_first).limit(1)
              .correlate(outer).scalar_subquery())
    return row, row.c.id == picked
