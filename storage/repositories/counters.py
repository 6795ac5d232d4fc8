from __future__ import annotations

from collections.abc import Mapping

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
        return (await self.take_many({name: count}, year))[name]

    async def take_many(self, counts: Mapping[str, int], year: int) -> dict[str, range]:
        """For each counter named, its `count` consecutive numbers: one statement for all,
        the counters' rows taken in the order of their names."""
        if any(count < 1 for count in counts.values()):
            raise ValueError(f"take at least one number each, not {dict(counts)}")
        if not counts:
            return {}
        stmt = dialect.insert(self._session, m.Counter).values(
            [{"name": name, "year": year, "value": counts[name]} for name in sorted(counts)])
        stmt = stmt.on_conflict_do_update(
            index_elements=[m.Counter.name, m.Counter.year],
            set_={"value": m.Counter.value + stmt.excluded.value},
        ).returning(m.Counter.name, m.Counter.value)
        taken = {}
        for name, last in await self._session.execute(stmt):
            taken[name] = range(int(last) - counts[name] + 1, int(last) + 1)
        return taken
