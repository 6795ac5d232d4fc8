from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import OutboxState
from storage import dialect
from storage import models as m


class OutboxRepository:
    """Messages waiting for delivery, written in the transaction that caused them."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(self, *, kind: str, period: str, recipient: str, payload: dict[str, Any],
                      now: datetime, subject: str = "", channel: str | None = None) -> bool:
        """Add a message unless its (kind, period, recipient, subject) is already there.

        Returns whether it was new, so a rhythm that runs twice never writes it twice.
        """
        stmt = dialect.insert(self._session, m.OutboxMessage).values(
            kind=kind, period=period, recipient=recipient, subject=subject, channel=channel,
            payload=payload, state=OutboxState.PENDING, attempts=0, next_attempt_at=now,
            created_at=now,
        ).on_conflict_do_nothing(
            index_elements=[m.OutboxMessage.kind, m.OutboxMessage.period,
                            m.OutboxMessage.recipient, m.OutboxMessage.subject]
        ).returning(m.OutboxMessage.id)
        return (await self._session.execute(stmt)).scalar_one_or_none() is not None

    async def pending_count(self) -> int:
        return int(await self._session.scalar(
            select(func.count()).select_from(m.OutboxMessage)
            .where(m.OutboxMessage.state == OutboxState.PENDING)) or 0)
