"""Receipts of handled updates: the idempotency of every channel's inbound side.

A receipt is written in the same transaction as the first change its update causes (see
`UnitOfWork.receipt`), so after a crash an update is either wholly handled and receipted, or
neither, and a redelivered update is recognised and skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models as m

_RECEIPTS = cast(Table, m.InboundReceipt.__table__)
# Asked and written for every update: built once, so SQLAlchemy finds them compiled without
# working out a cache key (or expanding an IN list) each time.
_SEEN_ONE = (select(func.count()).select_from(_RECEIPTS)
             .where(_RECEIPTS.c.channel == bindparam("channel"),
                    _RECEIPTS.c.key == bindparam("key")))
_SEEN = (select(func.count()).select_from(_RECEIPTS)
         .where(_RECEIPTS.c.channel == bindparam("channel"),
                _RECEIPTS.c.key.in_(bindparam("keys", expanding=True))))
_RECORD_SQLITE = sqlite.insert(_RECEIPTS).on_conflict_do_nothing()
_RECORD_PG = postgresql.insert(_RECEIPTS).on_conflict_do_nothing()


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
        if len(keys) == 1:  # one update (an album is several)
            found = await self._session.scalar(_SEEN_ONE, {"channel": channel, "key": keys[0]})
        else:
            found = await self._session.scalar(_SEEN, {"channel": channel, "keys": list(keys)})
        return bool(found)

    async def record(self, receipt: Receipt) -> None:
        if not receipt.keys:
            return
        bind = self._session.get_bind()
        stmt = _RECORD_PG if bind.dialect.name == "postgresql" else _RECORD_SQLITE
        await self._session.execute(stmt, [
            {"channel": receipt.channel, "key": key, "received_at": receipt.at}
            for key in receipt.keys])

    async def prune(self, before: datetime) -> int:
        """Forget receipts older than any redelivery could be (Telegram keeps updates 24 h)."""
        result = await self._session.execute(
            delete(m.InboundReceipt).where(m.InboundReceipt.received_at < before))
        return int(getattr(result, "rowcount", 0) or 0)
