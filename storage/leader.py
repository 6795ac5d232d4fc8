"""One leader per deployment for the work only one process may do (the outbox sender, the
scheduler): a PostgreSQL advisory lock held on a connection of its own. SQLite is one process
by design, so there the lock is always granted."""

from __future__ import annotations

import logging
import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

logger = logging.getLogger(__name__)


class LeaderLock:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self._engine = engine
        self.name = name
        self._key = zlib.crc32(f"fieldbot:{name}".encode())
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._engine.dialect.name != "postgresql"

    async def try_acquire(self) -> bool:
        if self.held:
            return True
        conn = await self._engine.connect()
        try:
            got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"),
                                         {"k": self._key}))
            await conn.commit()  # the lock is the session's, not the transaction's
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        logger.info("leader: holding %s", self.name)
        return True

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            await conn.commit()
        finally:
            await conn.close()
