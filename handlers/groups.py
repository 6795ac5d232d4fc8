"""Group chats: `/bindgroup <code>` by a dispatcher, and what the bot does in a bound group.

A group prepared with `fieldbot group add` (scope and subscriptions) waits for its code to be
sent in the chat it is meant for. In a group the bot answers commands of people with a role and
stays quiet otherwise; forms are filled in the private chat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from domain.clock import Clock, local_today
from domain.events import Incoming, Outgoing
from domain.model import Person, RoleKind
from domain.scope import dispatcher_reaches
from handlers.context import Texts
from handlers.notify import dispatchers_over, tell
from storage.repositories.groups import Group
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


async def bind_group(event: Incoming, person: Person | None, *, uow: Callable[[], UnitOfWork],
                     clock: Clock, t: Texts) -> list[Outgoing]:
    if person is None or not person.has_role(RoleKind.DISPATCHER):
        logger.info("refused /bindgroup in %s chat %s by user %s: not a dispatcher",
                    event.channel, event.chat_id, event.user_id)
        return [Outgoing(text=t("group.not_dispatcher"))]
    code = event.args.strip()
    if not code:
        return [Outgoing(text=t("group.usage"))]
    async with uow() as u:
        group = await u.groups.by_code(code)
        regions = await u.places.regions()
        if group is None or not dispatcher_reaches(person, await group_scope(u, group),
                                                   regions):
            logger.info("refused /bindgroup in %s chat %s: unknown code", event.channel,
                        event.chat_id)
            return [Outgoing(text=t("group.unknown_code"))]
        bound = await u.groups.bind(group.id, channel=event.channel, chat_id=event.chat_id,
                                    title=event.chat_title, by=person.id, now=clock.now())
        if not bound:
            return [Outgoing(text=t("group.unknown_code"))]
        place = await place_name(u, group.region_id, group.unit_id)
        await u.commit()
    logger.info("bound %s chat %s to group %s", event.channel, event.chat_id, group.id)
    kinds = t("format.list_separator").join(t(f"subscription.{k}") for k in group.subscriptions)
    return [Outgoing(text=t("group.bound", title=event.chat_title or group.title, place=place,
                            subscriptions=kinds or t("group.no_subscriptions")))]


async def follow_move(event: Incoming, group: Group | None, *,
                      uow: Callable[[], UnitOfWork], clock: Clock) -> list[Outgoing]:
    """The chat of a bound group got a new id: the group follows it, quietly. The outbox
    follows too when a send to the old id is answered so; whichever comes second finds
    nothing bound to the old id and changes nothing."""
    if group is None:
        return []
    async with uow() as u:
        moved = await u.groups.move_chat(event.channel, event.chat_id, event.moved_to,
                                         now=clock.now())
        await u.commit()
    if moved is not None:
        logger.info("%s group %s moved from chat %s to %s", event.channel, moved.id,
                    event.chat_id, event.moved_to)
    return []


async def bot_removed(event: Incoming, group: Group | None, *, uow: Callable[[], UnitOfWork],
                      clock: Clock, texts_for: Callable[[str | None], Texts],
                      ) -> list[Outgoing]:
    """The bot was removed from a bound group (Telegram's `my_chat_member`): unbound at once,
    not at the next digest's 403."""
    if group is None:
        return []
    async with uow() as u:
        await unbind_and_tell(u, event.channel, event.chat_id, now=clock.now(),
                              today=local_today(clock), texts_for=texts_for)
        await u.commit()
    return []


async def unbind_and_tell(uow: UnitOfWork, channel: str, chat_id: str, *, now: datetime,
                          today: date, texts_for: Callable[[str | None], Texts]) -> None:
    """The bot is out of a group's chat: unbind the group (a fresh code; its place and
    subscriptions kept) and tell the dispatchers over its place, once, how to bind it again.
    Nothing when no group is bound to that chat (unbound already)."""
    group = await uow.groups.unbind(channel, chat_id, now=now)
    if group is None or group.bind_code is None:
        return
    logger.warning("the bot is out of %s chat %s; group %d unbound, waiting for /bindgroup "
                   "with its new code (fieldbot group list)", channel, chat_id, group.id)
    place = await place_name(uow, group.region_id, group.unit_id)
    await tell(uow, await dispatchers_over(uow, await group_scope(uow, group)),
               texts_for=texts_for, now=now, kind="group.removed", period=today.isoformat(),
               subject=f"group:{group.id}:{group.bind_code}",
               render=lambda t: t("outbox.group_removed", title=group.title, place=place,
                                  code=group.bind_code))


async def group_scope(uow: UnitOfWork, group: Group) -> frozenset[int]:
    """The regions a group belongs to: its own and its unit's (for `dispatcher_reaches`)."""
    scope = frozenset({group.region_id} if group.region_id else set())
    if group.unit_id is not None and (
            region := await uow.places.unit_region(group.unit_id)) is not None:
        scope |= {region}
    return scope


async def place_name(uow: UnitOfWork, region_id: int | None, unit_id: int | None) -> str:
    if unit_id is not None and (unit := await uow.places.unit(unit_id)) is not None:
        return unit.name
    names = {r.id: r.name for r in await uow.places.regions()}
    return names.get(region_id or -1, "")
