from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import Region, RegionLevel, Unit
from storage import models as m


def to_region(row: m.Region) -> Region:
    return Region(row.id, row.code, row.name, row.level, row.parent_id)


def to_unit(row: m.Unit) -> Unit:
    return Unit(row.id, row.code, row.name, row.region_id)


class PlacesRepository:
    """Regions and the units (departments) that belong to them."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_region(self, code: str, name: str, level: RegionLevel,
                         parent_id: int | None = None) -> Region:
        row = m.Region(code=code, name=name, level=level, parent_id=parent_id)
        self._session.add(row)
        await self._session.flush()
        return to_region(row)

    async def add_unit(self, code: str, name: str, region_id: int) -> Unit:
        row = m.Unit(code=code, name=name, region_id=region_id)
        self._session.add(row)
        await self._session.flush()
        return to_unit(row)

    async def regions(self) -> list[Region]:
        rows = await self._session.scalars(select(m.Region).order_by(m.Region.id))
        return [to_region(r) for r in rows]

    async def units(self) -> list[Unit]:
        rows = await self._session.scalars(select(m.Unit).order_by(m.Unit.id))
        return [to_unit(r) for r in rows]

    async def unit(self, unit_id: int) -> Unit | None:
        row = await self._session.get(m.Unit, unit_id)
        return to_unit(row) if row else None

    async def unit_region(self, unit_id: int | None) -> int | None:
        if unit_id is None:
            return None
        return await self._session.scalar(select(m.Unit.region_id).where(m.Unit.id == unit_id))
