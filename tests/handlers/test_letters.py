"""`/letters` and `/ack` through the router: who sees a letter, who may sign it, and once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import translator
from domain.clock import FixedClock
from domain.events import ChatKind, Incoming, Outgoing
from domain.model import LetterKind, RoleKind
from handlers.letters import letter_number, render_letter
from handlers.router import Router
from storage import models as m
from storage.repositories.letters import LetterView
from storage.uow import UnitOfWorkFactory
from tests.handlers.phone import CHANNEL, Phone, row_counts
from tests.world import World

BODY = "该项目投资完成率落后时序进度 25 个百分点，请于 11 月 30 日前报送整改措施。"


@dataclass(frozen=True)
class Letters:
    hb1: LetterView  # to 汉滨区工信局, lead leader 张建华
    hb3: LetterView  # to 汉滨区农业农村局, no lead leader
    xy1: LetterView  # another county: 旬阳市


@pytest.fixture
async def letters(uow: UnitOfWorkFactory, people: World, clock: FixedClock) -> Letters:
    """Three letters, and 李娜 of 汉滨区工信局 (1005) and 孙强 of 旬阳市 (1006) on the phone."""
    issued: list[LetterView] = []
    async with uow() as u:
        industry = await u.people.add("unit_industry", "李娜", clock.now(), title="unit")
        await u.people.grant(industry.id, RoleKind.UNIT, unit_id=people.unit_industry)
        await u.people.bind_identity(industry.id, CHANNEL, "1005", clock.now())
        await u.people.bind_identity(people.outsider_liaison, CHANNEL, "1006", clock.now())
        for code, region, kind in (("HB-001", people.hanbin, LetterKind.SUPERVISION),
                                   ("HB-003", people.hanbin, LetterKind.REMINDER),
                                   ("XY-001", people.xunyang, LetterKind.ASSIGNMENT)):
            clock.advance(timedelta(minutes=1))
            site = await u.projects.site(people.projects[code])
            assert site is not None
            letter = await u.letters.issue(
                kind=kind, project_id=site.id, cause="lag:2026-11-2", period="2026-11-2",
                region_id=region, unit_id=site.unit_id, leader_id=site.lead_leader_id,
                body=BODY, year=2026, now=clock.now())
            assert letter is not None
            issued.append(letter)
        await u.commit()
    return Letters(*issued)


async def letter_rows(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(m.Letter.id, m.Letter.acknowledged_at,
                                         m.Letter.acknowledged_by_id, m.Letter.closed_at)
                                  .order_by(m.Letter.id))
        return [tuple(r) for r in rows]


async def outbox(engine: AsyncEngine) -> list[tuple[str, str, str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(m.OutboxMessage.kind, m.OutboxMessage.period,
                                         m.OutboxMessage.recipient, m.OutboxMessage.payload))
        return [(kind, period, recipient, payload["text"])
                for kind, period, recipient, payload in rows]


async def test_the_unit_signs_from_its_list_and_the_leader_hears_of_it(
        router: Router, letters: Letters, people: World, engine: AsyncEngine,
        clock: FixedClock) -> None:
    li = Phone(router, "1005")
    text = await li.say("/letters")
    assert "最近的函件" in text
    assert "督办函〔2026〕第1号 汉滨区毛绒文创总部产业园建设项目（HB-001）· 待签收" in text
    assert "HB-003" not in text and "XY-001" not in text
    assert [b.data for b in li.buttons] == [f"/ack {letters.hb1.id}"]

    clock.advance(timedelta(hours=1))
    signed = await li.press("签收 〔2026〕第1号")
    assert "已签收督办函〔2026〕第1号（汉滨区毛绒文创总部产业园建设项目）" in signed
    assert [(kind, period, recipient) for kind, period, recipient, _ in await outbox(engine)] == [
        ("letter.acknowledged", str(letters.hb1.id), f"person:{people.leader}")]
    [(_, _, _, notice)] = await outbox(engine)
    assert "汉滨区工信局的李娜" in notice and "督办函〔2026〕第1号" in notice

    assert "已签收（李娜，11月22日）" in await li.say("/letters")
    assert li.buttons == []
    assert "没有待签收的函件" in await li.say("/letters 待签收")


async def test_a_replayed_button_changes_nothing(router: Router, letters: Letters,
                                                 engine: AsyncEngine) -> None:
    li = Phone(router, "1005")
    await li.press_data(f"/ack {letters.hb1.id}")
    before = (await row_counts(engine), await letter_rows(engine))
    again = await li.press_data(f"/ack {letters.hb1.id}")
    assert "已由李娜于2026年11月22日签收" in again and "无需重复签收" in again
    assert li.replies[0].refusal
    assert (await row_counts(engine), await letter_rows(engine)) == before


@pytest.mark.parametrize("user", ["1001", "1002", "1003"])  # liaison, leader, dispatcher
async def test_only_the_unit_may_sign(router: Router, letters: Letters, engine: AsyncEngine,
                                      user: str) -> None:
    before = (await row_counts(engine), await letter_rows(engine))
    phone = Phone(router, user)
    refused = await phone.press_data(f"/ack {letters.hb1.id}")  # a button forwarded to them
    assert "须由责任单位（汉滨区工信局）签收" in refused
    assert phone.replies[0].refusal
    assert (await row_counts(engine), await letter_rows(engine)) == before


async def test_another_unit_and_another_county_find_nothing(router: Router, letters: Letters,
                                                            engine: AsyncEngine) -> None:
    before = (await row_counts(engine), await letter_rows(engine))
    zhao = Phone(router, "1004")  # 汉滨区农业农村局: HB-001 is not hers
    sun = Phone(router, "1006")  # 旬阳市
    missing = await zhao.press_data("/ack 99999")
    assert "没有找到函件“99999”" in missing
    for phone, letter in ((zhao, letters.hb1), (sun, letters.hb1), (sun, letters.hb3)):
        reply = await phone.press_data(f"/ack {letter.id}")
        assert reply.replace(str(letter.id), "99999") == missing
    assert "没有找到函件“abc”" in await zhao.press_data("/ack abc")
    assert "没有找到函件" in await zhao.press_data("/ack 99999999999999999999")
    assert "XY-001" not in await Phone(router, "1001").say("/letters")
    assert (await row_counts(engine), await letter_rows(engine)) == before


async def test_a_unit_without_a_lead_leader_signs_and_nobody_is_notified(
        router: Router, letters: Letters, engine: AsyncEngine) -> None:
    zhao = Phone(router, "1004")
    text = await zhao.say("/letters open")
    assert "待签收的函件" in text and "提醒函〔2026〕第2号" in text
    await zhao.press("签收")
    assert "已签收提醒函〔2026〕第2号" in zhao.text
    assert await outbox(engine) == []


async def test_no_letters_says_so(router: Router, people: World) -> None:
    wang = Phone(router, "1001")
    assert "目前没有您可以查看的函件" in await wang.say("/letters")
    assert "没有待签收的函件" in await wang.say("/letters 待签收")
    assert "/ack 12、/ack 〔2026〕第12号" in await wang.say("/ack")


async def test_in_a_group_the_list_has_no_sign_buttons(
        router: Router, letters: Letters, uow: UnitOfWorkFactory, clock: FixedClock,
        people: World) -> None:
    async with uow() as u:
        group = await u.groups.prepare("工信局群", region_id=None, unit_id=people.unit_industry,
                                       subscriptions=[], now=clock.now())
        await u.groups.bind(group.id, channel=CHANNEL, chat_id="-700", title=None,
                            by=people.dispatcher, now=clock.now())
        await u.commit()
    typed = Incoming.from_text(CHANNEL, "-700", "1005", "/letters")
    replies: list[Outgoing] = await router.handle(
        Incoming(CHANNEL, "-700", "1005", typed.kind, chat_kind=ChatKind.GROUP,
                 text=typed.text, command=typed.command, args=typed.args))
    assert "督办函〔2026〕第1号" in replies[0].text
    assert replies[0].buttons == ()


@pytest.mark.parametrize(("language", "number", "please"), [
    ("zh-CN", "督办函〔2026〕第1号", "签收"),
    ("en", "Supervision letter No. 1 (2026)", "acknowledge"),
])
async def test_the_letter_as_sent(letters: Letters, clock: FixedClock, language: str,
                                  number: str, please: str) -> None:
    t = translator(language)
    assert letter_number(t, letters.hb1) == number
    to_unit = render_letter(t, letters.hb1, can_acknowledge=True, zone=clock.zone)
    assert number in to_unit.text and "HB-001" in to_unit.text and BODY in to_unit.text
    assert please in to_unit.text
    assert [[b.data for b in row] for row in to_unit.buttons] == [[f"/ack {letters.hb1.id}"]]
    to_leader = render_letter(t, letters.hb1, can_acknowledge=False, zone=clock.zone)
    assert to_leader.buttons == () and "汉滨区工信局" in to_leader.text


# Signing by the number printed on the letter (〔2026〕第1号), as a unit's clerk reads it.


@pytest.mark.parametrize("typed", ["1", "第1号", "〔2026〕第1号", "督办函〔2026〕第1号", "2026-1",
                                   "第１号", "〔２０２６〕第１号", "2026年第1号", "[2026]1",
                                   "No. 1 (2026)", "#1"])
async def test_the_unit_signs_by_the_printed_number(
        router: Router, letters: Letters, people: World, engine: AsyncEngine,
        typed: str) -> None:
    li = Phone(router, "1005")
    signed = await li.say(f"/ack {typed}")
    assert signed.startswith("已签收督办函〔2026〕第1号（汉滨区毛绒文创总部产业园建设项目）")
    assert not li.replies[0].refusal and li.buttons == []
    assert [(kind, recipient) for kind, _, recipient, _ in await outbox(engine)] == [
        ("letter.acknowledged", f"person:{people.leader}")]
    assert "已签收（李娜，11月22日）" in await li.say("/letters")


@pytest.mark.parametrize("typed", ["abc", "1 2 3", "第一号", "2026-1-2", "0", "99999999999",
                                   "督办函"])
async def test_what_is_not_a_number_says_how_to_write_one(
        router: Router, letters: Letters, engine: AsyncEngine, typed: str) -> None:
    before = (await row_counts(engine), await letter_rows(engine))
    li = Phone(router, "1005")
    reply = await li.say(f"/ack {typed}")
    assert reply == (f"“{typed}”不是函件编号。请发送函件上的编号，如 /ack 12、/ack 〔2026〕第12号 "
                     "或 /ack 2026-12。")
    assert li.replies[0].refusal
    assert (await row_counts(engine), await letter_rows(engine)) == before


async def test_one_number_in_two_counties_asks_which(
        router: Router, letters: Letters, uow: UnitOfWorkFactory, people: World,
        clock: FixedClock, engine: AsyncEngine) -> None:
    """李娜 signs for 汉滨区工信局 and 旬阳市发改局: each county has its own 〔2026〕第1号."""
    async with uow() as u:
        li_na = await u.people.by_identity(CHANNEL, "1005")
        assert li_na is not None
        await u.people.grant(li_na.id, RoleKind.UNIT, unit_id=letters.xy1.unit_id)
        await u.commit()
    li = Phone(router, "1005")
    assert letters.xy1.id == 3
    not_three = await li.say("/ack 3")  # the id of 旬阳's letter, but no letter is numbered 3
    assert not_three.splitlines() == [
        "您可以签收的函件中没有第3号。",
        "您可以签收的函件：",
        "1. 交办函〔2026〕第1号 旬阳市富硒食品产业园（XY-001）· 待签收",
        "2. 督办函〔2026〕第1号 汉滨区毛绒文创总部产业园建设项目（HB-001）· 待签收"]
    assert await letter_rows(engine) == [(letter.id, None, None, None) for letter in
                                         (letters.hb1, letters.hb3, letters.xy1)]

    asked = await li.say("/ack 〔2026〕第１号")
    assert asked == "有 2 件待签收的函件编号为〔2026〕第1号，请选择要签收的一件："
    assert [b.label for b in li.buttons] == ["签收 交办函〔2026〕第1号（XY-001）",
                                             "签收 督办函〔2026〕第1号（HB-001）"]
    assert "已签收交办函〔2026〕第1号（旬阳市富硒食品产业园）" in await li.press("XY-001")
    assert "已签收督办函〔2026〕第1号" in await li.say("/ack 1")  # one left: no question
    again = await li.say("/ack 1")
    assert "交办函〔2026〕第1号已由李娜于2026年11月22日签收" in again and li.replies[0].refusal
    assert [(kind, period) for kind, period, _, _ in await outbox(engine)] == [
        ("letter.acknowledged", str(letters.hb1.id))]  # 旬阳's letter has no lead leader


async def test_numbers_start_again_each_year(router: Router, letters: Letters,
                                             uow: UnitOfWorkFactory, clock: FixedClock) -> None:
    async with uow() as u:
        old = await u.letters.issue(
            kind=LetterKind.ASSIGNMENT, project_id=letters.hb1.project_id, cause="start:2025",
            period="2025-12-3", region_id=letters.hb1.region_id, unit_id=letters.hb1.unit_id,
            leader_id=letters.hb1.leader_id, body=BODY, year=2025,
            now=clock.now() - timedelta(days=300))
        await u.commit()
    assert old is not None and (old.year, old.seq) == (2025, 1)
    li = Phone(router, "1005")
    assert "有 2 件待签收的函件编号为第1号" in await li.say("/ack 1")
    assert [b.label for b in li.buttons] == ["签收 督办函〔2026〕第1号（HB-001）",
                                             "签收 交办函〔2025〕第1号（HB-001）"]
    assert "已签收交办函〔2025〕第1号" in await li.say("/ack 2025-1")
    assert "您可以签收的函件中没有〔2024〕第1号。" in await li.say("/ack 〔2024〕第1号")


async def test_others_hear_whose_letter_it_is_and_strangers_hear_nothing(
        router: Router, letters: Letters, engine: AsyncEngine) -> None:
    before = (await row_counts(engine), await letter_rows(engine))
    dispatcher = Phone(router, "1003")  # 汉滨区: sees 汉滨's letters, signs none
    refused = await dispatcher.say("/ack 〔2026〕第1号")
    assert refused == "督办函〔2026〕第1号须由责任单位（汉滨区工信局）签收，您无法代为签收。"
    assert dispatcher.replies[0].refusal
    sun = Phone(router, "1006")  # 旬阳市 liaison: 汉滨's 第2号 is not for his eyes
    assert await sun.say("/ack 2") == "您可以签收的函件中没有第2号。\n您目前没有待签收的函件。"
    assert sun.buttons == []
    assert (await row_counts(engine), await letter_rows(engine)) == before


async def test_a_closed_letter_is_still_signed_and_says_it_is_closed(
        router: Router, letters: Letters, uow: UnitOfWorkFactory, clock: FixedClock) -> None:
    async with uow() as u:
        await u.letters.close(letters.hb1.id, now=clock.now())
        await u.commit()
    li = Phone(router, "1005")
    assert "督办函〔2026〕第1号 汉滨区毛绒文创总部产业园建设项目（HB-001）· 已关闭" in await li.say(
        "/letters")
    clock.advance(timedelta(days=1))
    assert (await li.say("/ack 1")).splitlines() == [
        "已签收督办函〔2026〕第1号（汉滨区毛绒文创总部产业园建设项目），签收日期：2026年11月23日。",
        "此函已于2026年11月22日关闭，签收记录您已收到此函。"]
