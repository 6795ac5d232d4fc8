"""Binding a chat account to a person: the invite a dispatcher issues and its redemption.

An unknown account may only redeem a code (`/start CODE` from a Telegram deep link, or the code
typed, as in WeCom); anything else gets a polite refusal, and nothing about it is stored.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from domain.clock import Clock
from domain.events import Button, EventKind, Incoming, Outgoing
from domain.model import Person, RoleKind
from domain.scope import dispatcher_reaches, person_regions
from handlers.context import Context, Texts
from storage.repositories.invites import Invite, Refused, looks_like_code
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

INVITE_DAYS = 7
MAX_TRIES = 5
TRIES_WINDOW = timedelta(minutes=10)


class Tries:
    """Failed redemptions per chat account, so codes cannot be guessed by trying many."""

    def __init__(self) -> None:
        self._failed: dict[tuple[str, str], deque[datetime]] = {}

    def blocked(self, key: tuple[str, str], now: datetime) -> bool:
        times = self._failed.get(key)
        while times and times[0] <= now - TRIES_WINDOW:
            times.popleft()
        if times is not None and not times:
            del self._failed[key]
            return False
        return times is not None and len(times) >= MAX_TRIES

    def failed(self, key: tuple[str, str], now: datetime) -> None:
        self._failed.setdefault(key, deque()).append(now)


def offered_code(event: Incoming) -> str | None:
    if event.kind is EventKind.COMMAND and event.command == "start" and event.args:
        return event.args.split()[0]
    if event.kind is EventKind.TEXT and looks_like_code(event.text):
        return event.text
    return None


async def stranger(event: Incoming, *, uow: Callable[[], UnitOfWork], clock: Clock,
                   t: Texts, tries: Tries) -> list[Outgoing]:
    """The answer to an account bound to nobody: redeem its code, or refuse."""
    code = offered_code(event)
    if code is None:
        logger.info("refused %s user %s: not bound to a person", event.channel, event.user_id)
        return [Outgoing(text=t("access.unknown"))]
    key, now = (event.channel, event.user_id), clock.now()
    if tries.blocked(key, now):
        logger.warning("refused %s user %s: too many wrong invite codes", event.channel,
                       event.user_id)
        return [Outgoing(text=t("invite.too_many"))]
    async with uow() as u:
        result = await u.invites.redeem(code, channel=event.channel, external_id=event.user_id,
                                        display_name=event.display_name, now=now)
        if isinstance(result, Refused):
            tries.failed(key, now)
            logger.info("refused %s user %s: invite %s", event.channel, event.user_id,
                        result.value)
            return [Outgoing(text=t(f"invite.{result.value}"))]
        person = await u.people.get(result)
        if person is None:
            raise LookupError(f"invite of a missing person {result}")
        await u.commit()
    logger.info("bound %s user %s to person %s", event.channel, event.user_id, person.id)
    return [Outgoing(text=t("invite.welcome", name=person.name, title=person.title)
                     + "\n\n" + t("help.text", name=person.name))]


async def invite(ctx: Context) -> list[Outgoing]:
    """`/invite <name or key>`: a dispatcher issues a single-use code for a person."""
    t = ctx.t
    if not ctx.person.has_role(RoleKind.DISPATCHER):
        return [Outgoing(text=t("invite.not_dispatcher"))]
    who = ctx.event.args.strip()
    if not who:
        return [Outgoing(text=t("invite.usage"))]
    async with ctx.uow() as uow:
        found = await uow.people.find(who)
        regions = await uow.places.regions()
        unit_regions = {u.id: u.region_id for u in await uow.places.units()}
        reachable = [p for p in found if dispatcher_reaches(
            ctx.person, person_regions(p, unit_regions.get(p.unit_id or -1)), regions)]
        exact = [p for p in reachable if who in (p.key, p.name)]
        chosen = exact if len(exact) == 1 else reachable
        if not chosen:
            return [Outgoing(text=t("invite.no_person", who=who))]
        if len(chosen) > 1:
            return [_choose(t, chosen)]
        person = chosen[0]
        code = await issue(uow, person, by=ctx.person.id, now=ctx.clock.now())
        await uow.commit()
    return [Outgoing(text=invite_text(t, person, code, ctx.invite_link(code.code),
                                      ctx.clock))]


def _choose(t: Texts, people: list[Person]) -> Outgoing:
    buttons = tuple((Button(f"{p.name} {p.title}".strip(), f"/invite {p.key}"),)
                    for p in people[:10])
    return Outgoing(text=t("invite.which"), buttons=buttons)


async def issue(uow: UnitOfWork, person: Person, *, by: int | None, now: datetime,
                days: int = INVITE_DAYS) -> Invite:
    return await uow.invites.create(person.id, created_by_id=by, now=now,
                                    expires_at=now + timedelta(days=days))


def invite_text(t: Texts, person: Person, invite: Invite, link: str | None,
                clock: Clock) -> str:
    expires = invite.expires_at.astimezone(clock.zone)
    lines = [t("invite.created", name=person.name, code=invite.code,
               expires=f"{t.short_date(expires.date())} {expires:%H:%M}")]
    if link:
        lines.append(t("invite.link", link=link))
    return "\n".join(lines)
