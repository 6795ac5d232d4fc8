"""Group chats: prepared with a scope and subscriptions, then bound by a dispatcher's code.

A push-only robot (a WeCom group robot, a DingTalk or Feishu custom robot) is a group chat too,
bound when it is added: its channel is the robot kind, its chat id a fingerprint of its webhook
URL (so one robot is one chat, and its rate limit is kept once), and the URL — a secret, with
the robot's signing secret in its fragment, which no HTTP client ever sends — stays in the
database and is handed only to the robot port.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, quote, urldefrag

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models as m
from storage.repositories.audit import AuditRepository
from storage.repositories.invites import new_code, normalise_code

AUDIT_ENTITY = "group_chat"


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    title: str
    region_id: int | None
    unit_id: int | None
    channel: str
    chat_id: str | None  # None until bound
    bind_code: str | None
    subscriptions: tuple[str, ...]


class BindRefused(enum.StrEnum):
    UNKNOWN = "unknown"
    USED = "used"


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where a robot group's messages go. Never printed: the URL and secret are secrets."""

    group_id: int
    kind: str
    url: str = field(repr=False)
    secret: str | None = field(repr=False, default=None)


class RobotInUse(Exception):
    """The robot (its webhook URL) already feeds another group."""

    def __init__(self, group_id: int) -> None:
        super().__init__(f"the robot already feeds group {group_id}")
        self.group_id = group_id


_FRAGMENT_KEY = "secret"  # the name of the fragment field that holds the signing secret


def robot_chat_id(kind: str, url: str) -> str:
    """The chat id of a robot: a fingerprint of its URL that tells nothing of the key in it."""
    return "r" + hashlib.sha256(f"{kind} {url}".encode()).hexdigest()[:24]


def stored_webhook(url: str, secret: str | None) -> str:
    """The URL as kept in `webhook_url`: the signing secret, if any, in its fragment."""
    return f"{url}#{_FRAGMENT_KEY}={quote(secret, safe='')}" if secret else url


def read_webhook(stored: str) -> tuple[str, str | None]:
    """(URL without fragment, signing secret or None) from `stored_webhook`."""
    url, fragment = urldefrag(stored)
    values = parse_qs(fragment).get(_FRAGMENT_KEY)
    return url, values[0] if values else None


class GroupsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _view(self, row: m.GroupChat) -> Group:
        kinds = await self._session.scalars(
            select(m.Subscription.kind).where(m.Subscription.group_chat_id == row.id)
            .order_by(m.Subscription.id))
        return Group(row.id, row.title, row.region_id, row.unit_id, row.channel, row.external_id,
                     row.bind_code, tuple(kinds))

    async def prepare(self, title: str, *, region_id: int | None, unit_id: int | None,
                      subscriptions: Iterable[str], now: datetime) -> Group:
        """A group row waiting for `/bindgroup <code>` in the chat (of any channel) it is for."""
        row = m.GroupChat(channel="", title=title, region_id=region_id, unit_id=unit_id,
                          bind_code=new_code(), created_at=now)
        self._session.add(row)
        await self._session.flush()
        for kind in dict.fromkeys(subscriptions):
            self._session.add(m.Subscription(group_chat_id=row.id, kind=kind))
        await self._session.flush()
        return await self._view(row)

    async def add_robot(self, title: str, *, region_id: int | None, unit_id: int | None,
                        subscriptions: Iterable[str], kind: str, url: str, secret: str | None,
                        now: datetime) -> Group:
        """A group fed by a push-only robot, bound at once (nobody can type a code to a robot).

        Raises `RobotInUse` when the same robot already feeds another group.
        """
        chat_id = robot_chat_id(kind, url)
        taken = await self._session.scalar(
            select(m.GroupChat.id).where(m.GroupChat.channel == kind,
                                         m.GroupChat.external_id == chat_id))
        if taken is not None:
            raise RobotInUse(taken)
        row = m.GroupChat(channel=kind, external_id=chat_id, title=title[:128],
                          region_id=region_id, unit_id=unit_id, bind_code=None, bound_at=now,
                          webhook_kind=kind, webhook_url=stored_webhook(url, secret),
                          created_at=now)
        self._session.add(row)
        await self._session.flush()
        for subscription in dict.fromkeys(subscriptions):
            self._session.add(m.Subscription(group_chat_id=row.id, kind=subscription))
        await self._session.flush()
        return await self._view(row)

    async def webhook(self, kind: str, chat_id: str) -> Webhook | None:
        """The webhook of the bound robot group with this chat id, if it still exists."""
        row = (await self._session.execute(
            select(m.GroupChat.id, m.GroupChat.webhook_url)
            .where(m.GroupChat.channel == kind, m.GroupChat.external_id == chat_id,
                   m.GroupChat.webhook_kind == kind, m.GroupChat.webhook_url.is_not(None),
                   m.GroupChat.bound_at.is_not(None)))).first()
        if row is None or row[1] is None:
            return None
        url, secret = read_webhook(row[1])
        return Webhook(row[0], kind, url, secret)

    async def by_code(self, code: str) -> Group | None:
        row = await self._session.scalar(
            select(m.GroupChat).where(m.GroupChat.bind_code == normalise_code(code)))
        return await self._view(row) if row else None

    async def by_chat(self, channel: str, chat_id: str) -> Group | None:
        row = await self._session.scalar(
            select(m.GroupChat).where(m.GroupChat.channel == channel,
                                      m.GroupChat.external_id == chat_id,
                                      m.GroupChat.bound_at.is_not(None)))
        return await self._view(row) if row else None

    async def bind(self, group_id: int, *, channel: str, chat_id: str, title: str | None,
                   by: int, now: datetime) -> bool:
        """Bind once: the code is spent whether or not the chat had another group before."""
        values: dict[str, object] = {"channel": channel, "external_id": chat_id,
                                     "bound_at": now, "bound_by_id": by, "bind_code": None}
        if title:
            values["title"] = title[:128]
        # A chat holds one binding: an older group row for the same chat lets go of it.
        await self._session.execute(
            update(m.GroupChat).where(m.GroupChat.channel == channel,
                                      m.GroupChat.external_id == chat_id,
                                      m.GroupChat.id != group_id)
            .values(external_id=None, bound_at=None))
        result = await self._session.execute(
            update(m.GroupChat).where(m.GroupChat.id == group_id,
                                      m.GroupChat.bind_code.is_not(None)).values(**values))
        return getattr(result, "rowcount", 0) == 1

    async def move_chat(self, channel: str, old_chat_id: str, new_chat_id: str, *,
                        now: datetime) -> Group | None:
        """The group bound to `old_chat_id` follows its chat to `new_chat_id` (a Telegram group
        upgraded to a supergroup). None when no group is bound there: nothing to follow, or
        it was followed already."""
        row = await self._bound_row(channel, old_chat_id)
        if row is None or old_chat_id == new_chat_id:
            return None
        # A chat holds one binding: a row bound to the new id already lets go of it.
        await self._session.execute(
            update(m.GroupChat).where(m.GroupChat.channel == channel,
                                      m.GroupChat.external_id == new_chat_id,
                                      m.GroupChat.id != row.id)
            .values(external_id=None, bound_at=None))
        row.external_id = new_chat_id
        await self._session.flush()
        await AuditRepository(self._session).record(
            now, None, AUDIT_ENTITY, row.id, action="moved",
            before={"channel": channel, "chat_id": old_chat_id},
            after={"channel": channel, "chat_id": new_chat_id})
        return await self._view(row)

    async def unbind(self, channel: str, chat_id: str, *, now: datetime) -> Group | None:
        """The bot is out of the chat: the group bound to it lets go of it and gets a fresh
        code, so `/bindgroup <code>` binds it again (scope and subscriptions kept). None when
        no group is bound there (unbound already, or bound to another chat since)."""
        row = await self._bound_row(channel, chat_id)
        if row is None:
            return None
        row.external_id = None
        row.bound_at = None
        row.bind_code = new_code()
        await self._session.flush()
        await AuditRepository(self._session).record(
            now, None, AUDIT_ENTITY, row.id, action="unbound",
            before={"channel": channel, "chat_id": chat_id}, after=None)
        return await self._view(row)

    async def _bound_row(self, channel: str, chat_id: str) -> m.GroupChat | None:
        return await self._session.scalar(
            select(m.GroupChat).where(m.GroupChat.channel == channel,
                                      m.GroupChat.external_id == chat_id,
                                      m.GroupChat.bound_at.is_not(None))
            .with_for_update())

    async def chats(self, group_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """(channel, chat id) of each bound group among `group_ids`."""
        if not group_ids:
            return {}
        rows = await self._session.execute(
            select(m.GroupChat.id, m.GroupChat.channel, m.GroupChat.external_id)
            .where(m.GroupChat.id.in_(group_ids), m.GroupChat.external_id.is_not(None),
                   m.GroupChat.bound_at.is_not(None)))
        return {gid: (channel, chat) for gid, channel, chat in rows if chat is not None}

    async def all(self) -> list[Group]:
        rows = await self._session.scalars(select(m.GroupChat).order_by(m.GroupChat.id))
        return [await self._view(r) for r in rows]

    async def subscribed(self, kind: str) -> list[Group]:
        """The bound groups that receive `kind` (a digest), in a stable order."""
        rows = await self._session.scalars(
            select(m.GroupChat)
            .join(m.Subscription, m.Subscription.group_chat_id == m.GroupChat.id)
            .where(m.Subscription.kind == kind, m.GroupChat.bound_at.is_not(None))
            .order_by(m.GroupChat.id))
        return [await self._view(r) for r in rows]
