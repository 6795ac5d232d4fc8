"""Single-use, expiring invites that bind a chat account to a person."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models as m

# Unambiguous when read aloud or typed from a screenshot: no 0/O, 1/I/L.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31**10 ≈ 8e14 codes


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    return text.strip().upper().replace("-", "").replace(" ", "")


def looks_like_code(text: str) -> bool:
    code = normalise_code(text)
    return len(code) == CODE_LENGTH and all(c in ALPHABET for c in code)


class Refused(enum.StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    TAKEN = "taken"  # the chat account is already bound to someone else


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    person_id: int
    expires_at: datetime


class InvitesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(self, person_id: int, *, created_by_id: int | None, now: datetime,
                     expires_at: datetime) -> Invite:
        code = new_code()
        self._session.add(m.Invite(code=code, person_id=person_id, created_by_id=created_by_id,
                                   created_at=now, expires_at=expires_at))
        await self._session.flush()
        return Invite(code, person_id, expires_at)

    async def redeem(self, code: str, *, channel: str, external_id: str, display_name: str | None,
                     now: datetime) -> int | Refused:
        """Bind the chat account to the invite's person; returns the person id or why not.

        The invite is taken by one conditional UPDATE, so two accounts racing for one code
        cannot both win. The person's earlier account on this channel (an old phone) is
        replaced: one account per person and channel.
        """
        code = normalise_code(code)
        bound = await self._session.scalar(
            select(m.ChatIdentity.person_id).where(m.ChatIdentity.channel == channel,
                                                   m.ChatIdentity.external_id == external_id))
        if bound is not None:
            return Refused.TAKEN
        invite = await self._session.scalar(select(m.Invite).where(m.Invite.code == code))
        if invite is None:
            return Refused.UNKNOWN
        if invite.used_at is not None:
            return Refused.USED
        if invite.expires_at <= now:
            return Refused.EXPIRED
        taken = await self._session.execute(
            update(m.Invite).where(m.Invite.id == invite.id, m.Invite.used_at.is_(None))
            .values(used_at=now))
        if getattr(taken, "rowcount", 0) != 1:
            return Refused.USED
        await self._session.execute(
            delete(m.ChatIdentity).where(m.ChatIdentity.channel == channel,
                                         m.ChatIdentity.person_id == invite.person_id))
        identity = m.ChatIdentity(channel=channel, external_id=external_id,
                                  person_id=invite.person_id, display_name=display_name,
                                  created_at=now)
        self._session.add(identity)
        await self._session.flush()
        invite.used_by_identity_id = identity.id
        await self._session.flush()
        return invite.person_id
