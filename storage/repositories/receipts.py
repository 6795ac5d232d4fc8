"""Receipts of handled updates: the idempotency of every channel's inbound side.

A receipt is written in the same transaction as the first change its update causes (see
`UnitOfWork.receipt`), so after a crash an update is either wholly handled and receipted, or
neither, and a redelivered update is recognised and skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage import models as m


@dataclass(slots=True)
class Receipt:
    """The keys of one event (a Telegram album is several updates), written once."""

    channel: str
    keys: tuple[str, ...]
    at: datetime
    recorded: bool = field(default=False)


class ReceiptsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def seen(self, channel: str, keys: Sequence[str]) -> bool:
        if not keys:
            return False
        found = await self._session.scalar(
            select(func.count()).select_from(m.InboundReceipt)
            .where(m.InboundReceipt.channel == channel, m.InboundReceipt.key.in_(keys)))
        return bool(found)

    async def record(self, receipt: Receipt) -> None:
        if not receipt.keys:
            return
        stmt = dialect.insert(self._session, m.InboundReceipt).values(
            [{"channel": receipt.channel, "key": key, "received_at": receipt.at}
             for key in receipt.keys])
        await self._session.execute(stmt.on_conflict_do_nothing())

    async def prune(self, before: datetime) -> int:
        """Forget receipts older than any redelivery could be (Telegram keeps updates 24 h)."""
        result = await self._session.execute(
            delete(m.InboundReceipt).where(m.InboundReceipt.received_at < before))
        return int(getattr(result, "rowcount", 0) or 0)
