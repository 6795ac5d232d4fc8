from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.model import ChatIdentity, Person, Role, RoleKind
from domain.quiet import Quiet, from_stored, stored
from storage import models as m

_PEOPLE = cast(Table, m.Person.__table__).c
_ROLES = cast(Table, m.RoleGrant.__table__).c
_IDENTITIES = cast(Table, m.ChatIdentity.__table__).c
_BY_IDENTITY = (
    select(_PEOPLE.id.label("person_id"), _PEOPLE.key, _PEOPLE.name, _PEOPLE.title,
           _PEOPLE.unit_id, _PEOPLE.language, _PEOPLE.reachable, _PEOPLE.quiet_start,
           _PEOPLE.quiet_end, _ROLES.kind, _ROLES.region_id, _ROLES.unit_id.label("role_unit_id"))
    .select_from(cast(Table, m.Person.__table__))
    .join(cast(Table, m.ChatIdentity.__table__), _IDENTITIES.person_id == _PEOPLE.id)
    .outerjoin(cast(Table, m.RoleGrant.__table__), _ROLES.person_id == _PEOPLE.id)
    .where(_IDENTITIES.channel == bindparam("channel"),
           _IDENTITIES.external_id == bindparam("external_id"), _PEOPLE.active.is_(True))
    .order_by(_PEOPLE.id, _ROLES.id))


def to_person(row: m.Person) -> Person:
    roles = tuple(Role(g.kind, g.region_id, g.unit_id) for g in row.roles)
    return Person(row.id, row.key, row.name, row.title, row.unit_id, row.language, roles,
                  reachable=row.reachable, quiet=from_stored(row.quiet_start, row.quiet_end))


class PeopleRepository:
    """People, their roles and the chat identities bound to them."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _people(self) -> Select[m.Person]:
        return select(m.Person).options(selectinload(m.Person.roles))

    async def add(self, key: str, name: str, now: datetime, *, title: str = "",
                  unit_id: int | None = None, phone: str | None = None,
                  language: str | None = None) -> Person:
        row = m.Person(key=key, name=name, title=title, unit_id=unit_id, phone=phone,
                       language=language, created_at=now)
        self._session.add(row)
        await self._session.flush()
        return Person(row.id, key, name, title, unit_id, language, ())

    async def grant(self, person_id: int, kind: RoleKind, *, region_id: int | None = None,
                    unit_id: int | None = None) -> None:
        self._session.add(m.RoleGrant(person_id=person_id, kind=kind, region_id=region_id,
                                      unit_id=unit_id))
        await self._session.flush()

    async def set_language(self, person_id: int, language: str | None) -> None:
        await self._session.execute(
            update(m.Person).where(m.Person.id == person_id).values(language=language))

    async def get(self, person_id: int) -> Person | None:
        row = await self._session.scalar(self._people().where(m.Person.id == person_id))
        return to_person(row) if row else None

    async def of_unit(self, unit_id: int) -> list[Person]:
        """The active people holding the unit role for `unit_id` (who a unit's mail goes to)."""
        rows = await self._session.scalars(
            self._people().join(m.RoleGrant, m.RoleGrant.person_id == m.Person.id)
            .where(m.RoleGrant.kind == RoleKind.UNIT, m.RoleGrant.unit_id == unit_id,
                   m.Person.active.is_(True)).order_by(m.Person.id).distinct())
        return [to_person(r) for r in rows]

    async def find(self, text: str) -> list[Person]:
        """People whose key equals `text` or whose name contains it, exact matches first."""
        needle = text.strip()
        if not needle:
            return []
        rows = await self._session.scalars(
            self._people()
            .where(m.Person.active.is_(True),
                   or_(m.Person.key == needle, m.Person.name.contains(needle, autoescape=True)))
            .order_by((m.Person.key != needle) & (m.Person.name != needle), m.Person.id))
        return [to_person(r) for r in rows]

    async def all(self) -> list[Person]:
        rows = await self._session.scalars(self._people().order_by(m.Person.id))
        return [to_person(r) for r in rows]

    async def count(self) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(m.Person)) or 0)

    async def by_identity(self, channel: str, external_id: str) -> Person | None:
        """Who writes from this account: every event asks, so one plain query (the person
        and their roles joined), no ORM rows."""
        rows = (await self._session.execute(_BY_IDENTITY, {
            "channel": channel, "external_id": external_id})).all()
        if not rows:
            return None
        first = rows[0]
        roles = tuple(Role(r.kind, r.region_id, r.role_unit_id) for r in rows
                      if r.kind is not None and r.person_id == first.person_id)
        return Person(first.person_id, first.key, first.name, first.title, first.unit_id,
                      first.language, roles, reachable=first.reachable,
                      quiet=from_stored(first.quiet_start, first.quiet_end))

    async def bind_identity(self, person_id: int, channel: str, external_id: str, now: datetime,
                            display_name: str | None = None) -> ChatIdentity:
        self._session.add(m.ChatIdentity(channel=channel, external_id=external_id,
                                         person_id=person_id, display_name=display_name,
                                         created_at=now))
        await self._session.flush()
        return ChatIdentity(channel, external_id, person_id)

    async def chats(self, person_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """Each reachable person's chat account per channel: {person id: {channel: id}}."""
        if not person_ids:
            return {}
        rows = await self._session.execute(
            select(m.ChatIdentity.person_id, m.ChatIdentity.channel, m.ChatIdentity.external_id)
            .join(m.Person, m.Person.id == m.ChatIdentity.person_id)
            .where(m.ChatIdentity.person_id.in_(person_ids), m.Person.active.is_(True),
                   m.Person.reachable.is_(True))
            .order_by(m.ChatIdentity.id))
        found: dict[int, dict[str, str]] = {}
        for person_id, channel, external_id in rows:
            found.setdefault(person_id, {})[channel] = external_id
        return found

    async def set_reachable(self, person_id: int, reachable: bool) -> None:
        await self._session.execute(
            update(m.Person).where(m.Person.id == person_id).values(reachable=reachable))

    async def set_quiet(self, person_id: int, quiet: Quiet | None) -> None:
        """A person's own quiet hours; None goes back to the configured default."""
        start, end = stored(quiet)
        await self._session.execute(
            update(m.Person).where(m.Person.id == person_id)
            .values(quiet_start=start, quiet_end=end))

    async def dispatchers(self) -> list[Person]:
        return await self.with_role(RoleKind.DISPATCHER)

    async def by_ids(self, person_ids: Iterable[int]) -> dict[int, Person]:
        """The active people among these ids, with their roles."""
        ids = sorted(set(person_ids))
        if not ids:
            return {}
        rows = await self._session.scalars(
            self._people().where(m.Person.id.in_(ids), m.Person.active.is_(True)))
        return {row.id: to_person(row) for row in rows}

    async def with_role(self, kind: RoleKind) -> list[Person]:
        """The active people holding a role of this kind."""
        rows = await self._session.scalars(
            self._people().join(m.RoleGrant, m.RoleGrant.person_id == m.Person.id)
            .where(m.RoleGrant.kind == kind, m.Person.active.is_(True))
            .order_by(m.Person.id).distinct())
        return [to_person(r) for r in rows]
