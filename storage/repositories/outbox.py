"""The outbox: messages written in the transaction that caused them, delivered by one sender.

A message moves pending → sending (claimed, with a lease in `next_attempt_at`) → sent, or back
to pending for a retry, or to failed. The sender marks a message as soon as its platform
answered (those answered together in one statement), so a crash can repeat at most the
messages that were in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import OutboxState
from storage import dialect
from storage import models as m

MARK_CHUNK = 900  # ids per UPDATE: under the 999 parameters of SQLite before 3.32


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to add; (kind, period, recipient, subject) is its once-only key."""

    kind: str
    period: str
    recipient: str  # "person:12" or "group:3"
    payload: dict[str, Any]
    subject: str = ""
    channel: str | None = None
    not_before: datetime | None = None  # held back until then (a person's quiet hours)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    kind: str
    recipient: str  # "person:12" or "group:3"
    channel: str | None  # None: whichever channel reaches the recipient
    payload: dict[str, Any]
    attempts: int


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.queued = 0
        """Messages this transaction added (the unit of work signals them on commit)."""

    async def enqueue(self, *, kind: str, period: str, recipient: str, payload: dict[str, Any],
                      now: datetime, subject: str = "", channel: str | None = None,
                      not_before: datetime | None = None) -> bool:
        """Add a message unless its (kind, period, recipient, subject) is already there.

        Returns whether it was new, so a rhythm that runs twice never writes it twice.
        `not_before` holds it back (until a person's quiet hours end).
        """
        message = NewMessage(kind=kind, period=period, recipient=recipient, payload=payload,
                             subject=subject, channel=channel, not_before=not_before)
        return await self.enqueue_many([message], now=now) == 1

    async def enqueue_many(self, messages: Sequence[NewMessage], *, now: datetime) -> int:
        """`enqueue` for many messages in a few statements; how many were new."""
        first: dict[tuple[str, str, str, str], NewMessage] = {}
        for msg in messages:  # a key twice in one batch: the first one counts
            first.setdefault((msg.kind, msg.period, msg.recipient, msg.subject), msg)
        if not first:
            return 0
        rows = [{"kind": msg.kind, "period": msg.period, "recipient": msg.recipient,
                 "subject": msg.subject, "channel": msg.channel, "payload": msg.payload,
                 "state": OutboxState.PENDING, "attempts": 0,
                 "next_attempt_at": (now if msg.not_before is None or msg.not_before < now
                                     else msg.not_before),
                 "created_at": now}
                for msg in first.values()]
        # SQLAlchemy sends the rows as multi-row VALUES batches within the driver's limits.
        added = len((await self._session.execute(self._insert_new(), rows)).all())
        self.queued += added
        return added

    def _insert_new(self) -> Any:
        """INSERT … ON CONFLICT DO NOTHING RETURNING id, on the table (not the mapped class):
        run with many rows, it is compiled once and sent as multi-row VALUES batches."""
        table = m.table_of(m.OutboxMessage)
        return dialect.insert(self._session, table).on_conflict_do_nothing(
            index_elements=[table.c.kind, table.c.period, table.c.recipient, table.c.subject]
        ).returning(table.c.id)

    async def due(self, now: datetime, *, limit: int) -> list[OutboxItem]:
        rows = await self._session.execute(
            select(m.OutboxMessage.id, m.OutboxMessage.kind, m.OutboxMessage.recipient,
                   m.OutboxMessage.channel, m.OutboxMessage.payload, m.OutboxMessage.attempts)
            .where(m.OutboxMessage.state == OutboxState.PENDING,
                   m.OutboxMessage.next_attempt_at <= now)
            .order_by(m.OutboxMessage.next_attempt_at, m.OutboxMessage.id).limit(limit))
        return [OutboxItem(*row) for row in rows]

    async def next_due_at(self) -> datetime | None:
        return await self._session.scalar(
            select(func.min(m.OutboxMessage.next_attempt_at))
            .where(m.OutboxMessage.state == OutboxState.PENDING))

    async def claim(self, ids: Sequence[int], *, lease_until: datetime) -> set[int]:
        """Take these messages for sending; returns the ids that were still pending."""
        if not ids:
            return set()
        result = await self._session.execute(
            update(m.OutboxMessage)
            .where(m.OutboxMessage.id.in_(ids), m.OutboxMessage.state == OutboxState.PENDING)
            .values(state=OutboxState.SENDING, next_attempt_at=lease_until)
            .returning(m.OutboxMessage.id))
        return set(result.scalars())

    async def mark_sent_many(self, ids: Sequence[int], now: datetime) -> None:
        """Mark these messages sent: one statement for up to `MARK_CHUNK` of them."""
        for start in range(0, len(ids), MARK_CHUNK):
            await self._session.execute(
                update(m.OutboxMessage)
                .where(m.OutboxMessage.id.in_(ids[start:start + MARK_CHUNK]))
                .values(state=OutboxState.SENT, sent_at=now, last_error=None))

    async def retry(self, message_id: int, *, at: datetime, error: str | None,
                    count_attempt: bool) -> None:
        """Back to pending until `at`; a flood wait (429) is not counted as an attempt."""
        values: dict[str, Any] = {"state": OutboxState.PENDING, "next_attempt_at": at,
                                  "last_error": error}
        if count_attempt:
            values["attempts"] = m.OutboxMessage.attempts + 1
        await self._session.execute(
            update(m.OutboxMessage).where(m.OutboxMessage.id == message_id).values(**values))

    async def fail(self, message_id: int, error: str) -> None:
        await self._session.execute(
            update(m.OutboxMessage).where(m.OutboxMessage.id == message_id)
            .values(state=OutboxState.FAILED, last_error=error[:500],
                    attempts=m.OutboxMessage.attempts + 1))

    async def recover(self, now: datetime, *, all_claims: bool) -> int:
        """Claims left by a sender that stopped: back to pending, to be sent again.

        `all_claims` when no other sender can be alive (at start-up, holding the sender lock);
        otherwise only claims whose lease has run out.
        """
        stmt = update(m.OutboxMessage).where(m.OutboxMessage.state == OutboxState.SENDING)
        if not all_claims:
            stmt = stmt.where(m.OutboxMessage.next_attempt_at <= now)
        result = await self._session.execute(
            stmt.values(state=OutboxState.PENDING, next_attempt_at=now,
                        last_error="interrupted: the sender stopped while sending"))
        return int(getattr(result, "rowcount", 0) or 0)

    async def pending_count(self) -> int:
        return int(await self._session.scalar(
            select(func.count()).select_from(m.OutboxMessage)
            .where(m.OutboxMessage.state == OutboxState.PENDING)) or 0)

    async def counts(self) -> dict[OutboxState, int]:
        rows = await self._session.execute(
            select(m.OutboxMessage.state, func.count()).group_by(m.OutboxMessage.state))
        return {OutboxState(state): int(n) for state, n in rows}
