from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage import models as m


class CountersRepository:
    """Gap-free numbers that stay unique under concurrent transactions.

    One atomic upsert: on PostgreSQL the row lock serialises concurrent writers until commit; on
    SQLite the write lock does the same.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next(self, name: str, year: int) -> int:
        return (await self.take(name, year, 1)).start

    async def take(self, name: str, year: int, count: int) -> range:
        """`count` consecutive numbers at once (one statement for a whole batch)."""
        if count < 1:
            raise ValueError(f"take at least one number, not {count}")
        stmt = dialect.insert(self._session, m.Counter).values(name=name, year=year, value=count)
        stmt = stmt.on_conflict_do_update(
            index_elements=[m.Counter.name, m.Counter.year],
            set_={"value": m.Counter.value + count},
        ).returning(m.Counter.value)
        last = int((await self._session.execute(stmt)).scalar_one())
        return range(last - count + 1, last + 1)
