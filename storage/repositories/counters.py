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
        stmt = dialect.insert(self._session, m.Counter).values(name=name, year=year, value=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[m.Counter.name, m.Counter.year],
            set_={"value": m.Counter.value + 1},
        ).returning(m.Counter.value)
        return int((await self._session.execute(stmt)).scalar_one())
