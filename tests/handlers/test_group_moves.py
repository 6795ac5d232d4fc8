"""A bound group whose chat moves (a Telegram group upgraded to a supergroup) follows it."""

from __future__ import annotations

from dataclasses import replace

from domain.clock import FixedClock
from domain.events import EventKind
from handlers.router import Router
from storage.uow import UnitOfWorkFactory
from tests.handlers.test_onboarding import group_event
from tests.world import World


async def test_a_bound_group_follows_its_chat_when_it_moves(router: Router, people: World,
                                                           uow: UnitOfWorkFactory,
                                                           clock: FixedClock) -> None:
    async with uow() as u:
        group = await u.groups.prepare("汉滨区指挥部", region_id=people.hanbin, unit_id=None,
                                       subscriptions=["daily_summary"], now=clock.now())
        await u.commit()
    await router.handle(group_event("1003", f"/bindgroup {group.bind_code}"))
    moved = replace(group_event("", ""), kind=EventKind.CHAT_MOVED, moved_to="-1009500",
                    receipts=("77",))
    assert await router.handle(moved) == []  # quietly
    assert await router.handle(replace(moved, receipts=("78",))) == []  # the other news of it
    status = await router.handle(group_event("1002", "/status 毛绒", chat="-1009500"))
    assert "毛绒" in status[0].text
    assert not await router.handle(group_event("1002", "/status 毛绒"))  # the old id: unbound
    async with uow() as u:
        assert [a for a, _, _ in await u.audit.history("group_chat", group.id)] == ["moved"]
