from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models as m


@dataclass(frozen=True, slots=True)
class Change:
    """One audit entry of a batch: what changed, from what to what."""

    entity: str
    entity_id: int
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditRepository:
    """Who changed what, when, with the state before and after."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, at: datetime, actor_id: int | None, entity: str, entity_id: int, *,
                     action: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
                     ) -> None:
        self._session.add(m.AuditEntry(at=at, actor_id=actor_id, entity=entity,
                                       entity_id=entity_id, action=action, before=before,
                                       after=after))
        await self._session.flush()

    async def record_many(self, at: datetime, actor_id: int | None,
                          changes: Sequence[Change]) -> None:
        """Many entries in one statement (a rhythm's thousands of changes)."""
        if changes:
            await self._session.execute(insert(m.table_of(m.AuditEntry)), [
                {"at": at, "actor_id": actor_id, "entity": c.entity, "entity_id": c.entity_id,
                 "action": c.action, "before": c.before, "after": c.after} for c in changes])

    async def history(self, entity: str, entity_id: int) -> list[tuple[str, dict[str, Any] | None,
                                                                         dict[str, Any] | None]]:
        rows = await self._session.execute(
            select(m.AuditEntry.action, m.AuditEntry.before, m.AuditEntry.after)
            .where(m.AuditEntry.entity == entity, m.AuditEntry.entity_id == entity_id)
            .order_by(m.AuditEntry.id))
        return [(a, b, c) for a, b, c in rows]
