"""Unfinished forms, one per person and chat, kept in the database so a restart loses nothing.

Every form step reads its draft and writes it back, so these statements are plain SQL on the
table (no ORM rows to build, track and flush), built once with bound parameters so SQLAlchemy
finds them in its compiled cache without working out a cache key each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
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


_DRAFTS = cast(Table, m.FormDraft.__table__)
_C = _DRAFTS.c
_IS_KEY = ((_C.person_id == bindparam("key_person")) & (_C.channel == bindparam("key_channel"))
           & (_C.chat_id == bindparam("key_chat")))
_GET = (select(_C.form, _C.step, _C.token, _C.answers, _C.context, _C.started_at,
               _C.updated_at, _C.expires_at)
        .where(_IS_KEY).with_for_update())
_FIELDS = ("form", "step", "token", "answers", "context", "started_at", "updated_at",
           "expires_at")
_UPDATE = update(_DRAFTS).where(_IS_KEY).values(
    {name: bindparam(f"new_{name}") for name in _FIELDS})
_INSERT = insert(_DRAFTS)
_DROP = delete(_DRAFTS).where(_IS_KEY)


def _key(key: DraftKey) -> dict[str, Any]:
    return {"key_person": key.person_id, "key_channel": key.channel, "key_chat": key.chat_id}


class DraftsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, key: DraftKey) -> Draft | None:
        """The draft, locked for this transaction where the database can lock a row."""
        row = (await self._session.execute(_GET, _key(key))).first()
        if row is None:
            return None
        return Draft(row.form, row.step, row.token, dict(row.answers), dict(row.context),
                     row.started_at, row.updated_at, row.expires_at)

    async def put(self, key: DraftKey, draft: Draft) -> None:
        values = {"form": draft.form, "step": draft.step, "token": draft.token,
                  "answers": dict(draft.answers), "context": dict(draft.context),
                  "started_at": draft.started_at, "updated_at": draft.updated_at,
                  "expires_at": draft.expires_at}
        updated = await self._session.execute(
            _UPDATE, _key(key) | {f"new_{name}": value for name, value in values.items()})
        if not getattr(updated, "rowcount", 0):
            await self._session.execute(_INSERT, {
                "person_id": key.person_id, "channel": key.channel, "chat_id": key.chat_id,
                **values})

    async def drop(self, key: DraftKey) -> None:
        await self._session.execute(_DROP, _key(key))
