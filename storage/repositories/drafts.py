"""Unfinished forms, one per person and chat, kept in the database so a restart loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models as m


@dataclass(frozen=True, slots=True)
class DraftKey:
    person_id: int
    channel: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class Draft:
    """A form in progress: where it stands (`step`), what was answered, and what it knows."""

    form: str
    step: str
    token: str
    answers: dict[str, Any]
    context: dict[str, Any]
    started_at: datetime
    updated_at: datetime
    expires_at: datetime


class DraftsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _where(self, key: DraftKey) -> Any:
        return ((m.FormDraft.person_id == key.person_id) & (m.FormDraft.channel == key.channel)
                & (m.FormDraft.chat_id == key.chat_id))

    async def get(self, key: DraftKey) -> Draft | None:
        """The draft, locked for this transaction where the database can lock a row."""
        row = await self._session.scalar(
            select(m.FormDraft).where(self._where(key)).with_for_update())
        if row is None:
            return None
        return Draft(row.form, row.step, row.token, dict(row.answers), dict(row.context),
                     row.started_at, row.updated_at, row.expires_at)

    async def put(self, key: DraftKey, draft: Draft) -> None:
        row = await self._session.scalar(select(m.FormDraft).where(self._where(key)))
        if row is None:
            row = m.FormDraft(person_id=key.person_id, channel=key.channel, chat_id=key.chat_id)
            self._session.add(row)
        row.form, row.step, row.token = draft.form, draft.step, draft.token
        row.answers, row.context = dict(draft.answers), dict(draft.context)
        row.started_at, row.updated_at = draft.started_at, draft.updated_at
        row.expires_at = draft.expires_at
        await self._session.flush()

    async def drop(self, key: DraftKey) -> None:
        await self._session.execute(delete(m.FormDraft).where(self._where(key)))
