"""Binding accounts by invite, group chats, and updates delivered twice — through the router."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import FixedClock
from domain.events import ChatKind, EventKind, Incoming
from handlers.router import Router
from storage import models as m
from storage.uow import UnitOfWorkFactory
from tests.handlers.phone import CHANNEL, Phone, row_counts
from tests.world import World


async def invite_for(uow: UnitOfWorkFactory, clock: FixedClock, person_id: int,
                     days: int = 7) -> str:
    async with uow() as u:
        invite = await u.invites.create(person_id, created_by_id=None, now=clock.now(),
                                        expires_at=clock.now() + timedelta(days=days))
        await u.commit()
    return invite.code


def group_event(user: str, text: str, *, chat: str = "-500", title: str = "汉滨区项目调度群",
                ) -> Incoming:
    typed = Incoming.from_text(CHANNEL, chat, user, text)
    return Incoming(CHANNEL, chat, user, typed.kind, chat_kind=ChatKind.GROUP, text=typed.text,
                    command=typed.command, args=typed.args, chat_title=title)


async def test_a_stranger_is_refused_and_nothing_is_stored(router: Router, people: World,
                                                           engine: AsyncEngine) -> None:
    before = await row_counts(engine)
    stranger = Phone(router, "9001")
    for text in ("/report", "你好", "/start", "/start NOSUCHCODE"):
        reply = await stranger.say(text)
        assert "绑定" in reply or "邀请" in reply
    assert await row_counts(engine) == before


async def test_the_deep_link_binds_once(router: Router, people: World, uow: UnitOfWorkFactory,
                                        clock: FixedClock, engine: AsyncEngine) -> None:
    async with uow() as u:
        newcomer = await u.people.add("liaison_li", "李娜", clock.now(), title="联络员")
        await u.commit()
    code = await invite_for(uow, clock, newcomer.id)
    phone = Phone(router, "9002")
    assert "绑定成功" in await phone.say(f"/start {code}")
    assert "李娜" in phone.text
    assert "李娜" in await phone.say("/help")  # bound: the bot knows who this is
    other = Phone(router, "9003")
    assert "已经用过" in await other.say(f"/start {code}")
    async with uow() as u:
        assert (await u.people.by_identity(CHANNEL, "9003")) is None


async def test_a_typed_code_binds_too_and_replaces_an_old_phone(
        router: Router, people: World, uow: UnitOfWorkFactory, clock: FixedClock) -> None:
    code = await invite_for(uow, clock, people.liaison)
    new_phone = Phone(router, "9004")
    assert "绑定成功" in await new_phone.say(code.lower())
    async with uow() as u:
        assert (await u.people.by_identity(CHANNEL, "9004")).id == people.liaison  # type: ignore[union-attr]
        assert await u.people.by_identity(CHANNEL, "1001") is None  # the old phone let go


async def test_an_expired_invite_is_refused(router: Router, people: World,
                                            uow: UnitOfWorkFactory, clock: FixedClock) -> None:
    code = await invite_for(uow, clock, people.viewer, days=1)
    clock.advance(timedelta(days=1, seconds=1))
    assert "过期" in await Phone(router, "9005").say(f"/start {code}")


async def test_guessing_codes_is_stopped_after_five_tries(router: Router, people: World,
                                                          uow: UnitOfWorkFactory,
                                                          clock: FixedClock) -> None:
    code = await invite_for(uow, clock, people.viewer)
    guesser = Phone(router, "9006")
    for guess in range(5):
        assert "不存在" in await guesser.say(f"/start ABCDEFGH{guess + 2}2")
    assert "次数过多" in await guesser.say(f"/start {code}")  # even the right one, for now
    clock.advance(timedelta(minutes=11))
    assert "绑定成功" in await guesser.say(f"/start {code}")


async def test_a_dispatcher_invites_in_chat(router: Router, people: World,
                                            uow: UnitOfWorkFactory) -> None:
    hq = Phone(router, "1003")
    router.set_invite_link("telegram", lambda code: f"https://t.me/fieldbot_test_bot?start={code}")
    reply = await hq.say("/invite 孙强")
    assert "没有找到" in reply  # 旬阳市 is outside 汉滨区's dispatcher
    reply = await hq.say("/invite 赵敏")
    assert "邀请码" in reply and "https://t.me/fieldbot_test_bot?start=" in reply
    code = reply.split("start=")[1].split()[0]
    assert "绑定成功" in await Phone(router, "9007").say(f"/start {code}")
    wang = Phone(router, "1001")
    assert "只有项目办" in await wang.say("/invite 赵敏")


async def test_bindgroup_by_a_dispatcher_only(router: Router, people: World,
                                              uow: UnitOfWorkFactory, clock: FixedClock,
                                              engine: AsyncEngine) -> None:
    async with uow() as u:
        group = await u.groups.prepare("汉滨区指挥部", region_id=people.hanbin, unit_id=None,
                                       subscriptions=["daily_summary"], now=clock.now())
        await u.commit()
    before = await row_counts(engine)
    assert not await router.handle(group_event("1001", "/status 毛绒"))  # unbound: silent
    assert not await router.handle(group_event("1001", "大家好"))
    refused = await router.handle(group_event("1001", f"/bindgroup {group.bind_code}"))
    assert "只有项目办" in refused[0].text
    assert await row_counts(engine) == before
    bound = await router.handle(group_event("1003", f"/bindgroup {group.bind_code}"))
    assert "本群已绑定" in bound[0].text and "每日汇总" in bound[0].text
    status = await router.handle(group_event("1002", "/status 毛绒"))
    assert "毛绒" in status[0].text
    form = await router.handle(group_event("1001", "/report"))
    assert "私聊" in form[0].text
    stranger = await router.handle(group_event("9999", "/status 毛绒"))
    assert "还没有绑定" in stranger[0].text
    assert not await router.handle(group_event("1002", "收到"))  # talk is not for the bot
    again = await router.handle(group_event("1003", f"/bindgroup {group.bind_code}", chat="-600"))
    assert "无效" in again[0].text  # a code binds once


async def test_an_update_delivered_twice_is_handled_once(router: Router, people: World,
                                                         engine: AsyncEngine) -> None:
    def update(uid: int, text: str) -> Incoming:
        typed = Incoming.from_text(CHANNEL, "1001", "1001", text)
        return Incoming(CHANNEL, "1001", "1001", typed.kind, text=typed.text,
                        command=typed.command, args=typed.args, receipts=(str(uid),))

    first = await router.handle(update(1, "/report"))
    choice = next(b for r in first for row in r.buttons for b in row if "毛绒" in b.label)
    assert await router.handle(update(1, "/report")) == []  # redelivered: skipped
    press = Incoming(CHANNEL, "1001", "1001", EventKind.BUTTON, receipts=("2",),
                     button_data=choice.data)
    assert "现场" in "".join(r.text for r in await router.handle(press))
    assert await router.handle(press) == []  # the same press delivered again: skipped
    async with engine.connect() as conn:
        receipts = set(await conn.scalars(select(m.InboundReceipt.key)))
        step = await conn.scalar(select(m.FormDraft.step))
    assert receipts == {"1", "2"}
    assert step == "status"  # one step forward, not two
