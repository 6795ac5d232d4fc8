"""Telegram end to end: the real `fieldbot run` process against a fake Bot API on loopback."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from domain.events import Outgoing
from domain.model import OutboxState
from storage.db import create_engine, session_factory
from storage.uow import UnitOfWorkFactory
from tests.e2e.telegram_harness import (
    GROUP_CODE,
    BotProcess,
    TelegramUser,
    cli,
    confirmed,
    invite,
    jpeg,
    running,
    telegram_env,
)
from tests.fakes.telegram_api import FakeTelegram

WANG, ZHOU, STRANGER = 7001, 7002, 7999


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def county(env: dict[str, str], tg: FakeTelegram) -> dict[str, str]:
    """The demo county, and the bot's environment pointed at the fake Telegram."""
    await cli(["demo", "--no-chat"], env)
    return telegram_env(env, tg)


@asynccontextmanager
async def database(env: dict[str, str]) -> AsyncIterator[UnitOfWorkFactory]:
    """The bot's database, as the operator configured it."""
    url = env.get("FIELDBOT_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{env['FIELDBOT_DATA_DIR']}/fieldbot.sqlite3")
    engine = create_engine(url)
    try:
        yield UnitOfWorkFactory(session_factory(engine))
    finally:
        await engine.dispose()


async def chat_accounts(env: dict[str, str]) -> int:
    async with database(env) as uow, uow() as u:
        people = await u.people.all()
        return sum(len(chats) for chats in (await u.people.chats([p.id for p in people])).values())


async def report_until_progress(wang: TelegramUser) -> None:
    assert "请选择项目" in await wang.say("/report")
    await wang.press("毛绒")
    await wang.press("施工中")


async def answer(user: TelegramUser, text: str) -> str:
    """Type an answer; confirm it when it is lower than last time."""
    reply = await user.say(text)
    return await user.press("确认是") if "确认是" in reply else reply


async def test_invite_report_with_an_album_survive_a_crash_and_status(
        county: dict[str, str], tg: FakeTelegram, tmp_path: Path) -> None:
    wang_code = await invite(county, "liaison_wang")
    zhou_code = await invite(county, "dispatcher_hb_zhou")
    async with running(county, tg, tmp_path / "bot.log") as bot:
        await conversation(bot, tg, wang_code, zhou_code, county)


async def conversation(bot: BotProcess, tg: FakeTelegram, wang_code: str, zhou_code: str,
                       county: dict[str, str]) -> None:
    wang, zhou = TelegramUser(tg, WANG, "王磊"), TelegramUser(tg, ZHOU, "周敏")
    stranger = TelegramUser(tg, STRANGER, "路人")
    identities = await chat_accounts(county)
    assert tg.commands[("default", "")][0]["command"] == "report"
    assert "日报" in tg.commands[("default", "zh")][0]["description"]
    assert tg.commands[("default", "en")][0]["description"] == "today's daily report"

    assert "还没有绑定" in await stranger.say("/report")
    assert await chat_accounts(county) == identities  # nothing stored

    assert "绑定成功" in await wang.say(f"/start {wang_code}")
    await report_until_progress(wang)
    assert "形象进度" in wang.chat[-1].text
    chosen = [m for m in wang.chat if "✔ 施工中" in m.text]
    assert chosen and chosen[0].reply_markup is None  # the pressed keyboard shows the choice
    assert tg.answered_callbacks  # every press answered

    # the bot dies mid-form and comes back: the form goes on where it was
    assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
    await bot.start(tg)
    assert "完成了哪些工作" in await answer(wang, "96")
    await wang.say("钢结构吊装6榀，屋面板铺设")
    await wang.say("130")
    assert "照片" in await answer(wang, "90000万元")
    reply = await wang.album([jpeg(1), jpeg(2), jpeg(3)])
    assert "3 张" in reply  # the album arrives as one answer
    await wang.press("完成")
    await wang.press("跳过")
    await wang.press("否")
    done = await wang.press("确认提交")
    assert "日报已提交" in done or "日报已更新" in done

    assert "绑定成功" in await zhou.say(f"/start {zhou_code}")
    status = await zhou.say("/status HB-001")
    assert "96" in status and "汉滨区毛绒文创总部产业园" in status
    assert await bot.stop() == 0
    assert tg.violations == []
    assert "Traceback" not in bot.log()


async def test_an_update_delivered_again_after_a_crash_is_handled_once(
        county: dict[str, str], tg: FakeTelegram, tmp_path: Path) -> None:
    wang = TelegramUser(tg, WANG, "王磊")
    code = await invite(county, "liaison_wang")
    async with running(county, tg, tmp_path / "bot.log") as bot:
        await wang.say(f"/start {code}")
        await report_until_progress(wang)
        answered = len(wang.chat)
        last = tg.calls_of("getUpdates")[-1]
        pressed = max(u for u in range(1, 100) if confirmed(tg, u) and u < int(
            last.params.get("offset") or 0))
        await bot.stop(signal.SIGKILL)
        tg.redeliver(pressed)  # as if the crash came before the confirmation
        await bot.start(tg)
        await tg.wait_for(lambda: confirmed(tg, pressed) and len(tg.calls_of("getUpdates")) > 2)
        reply = await wang.say("/help")
        assert len(wang.chat) == answered + 2  # /help, then the open question again — no more
        assert "形象进度" in reply


async def test_groups_are_bound_by_a_dispatcher_and_get_their_messages(
        county: dict[str, str], tg: FakeTelegram, tmp_path: Path) -> None:
    out = await cli(["group", "add", "汉滨区项目调度群", "--place", "汉滨区",
                     "--subscribe", "daily_summary,weekly_digest"], county)
    found = GROUP_CODE.search(out)
    assert found, out
    group_code = found.group(1)
    wang_code = await invite(county, "liaison_wang")
    zhou_code = await invite(county, "dispatcher_hb_zhou")
    tg.add_group(-1001, "汉滨区项目调度群")
    wang, zhou = TelegramUser(tg, WANG, "王磊"), TelegramUser(tg, ZHOU, "周敏")
    async with running(county, tg, tmp_path / "bot.log"):
        await wang.say(f"/start {wang_code}")
        await zhou.say(f"/start {zhou_code}")
        quiet = tg.send_text(WANG, "/status 毛绒", chat_id=-1001)
        refused = tg.send_text(WANG, f"/bindgroup {group_code}", chat_id=-1001)
        await tg.wait_for(lambda: confirmed(tg, refused))
        group_chat = [msg.text for msg in tg.messages_to(-1001)]
        assert len(group_chat) == 1 and "只有项目办" in group_chat[0]  # the unbound group: quiet
        assert quiet < refused
        bound = tg.send_text(ZHOU, f"/bindgroup {group_code}", chat_id=-1001)
        await tg.wait_for(lambda: confirmed(tg, bound))
        assert "本群已绑定" in tg.messages_to(-1001)[-1].text
        asked = tg.send_text(WANG, "/status 毛绒", chat_id=-1001)
        await tg.wait_for(lambda: confirmed(tg, asked))
        assert "毛绒" in tg.messages_to(-1001)[-1].text
        form = tg.send_text(WANG, "/report", chat_id=-1001)
        await tg.wait_for(lambda: confirmed(tg, form))
        assert "私聊" in tg.messages_to(-1001)[-1].text


async def test_a_429_storm_and_a_blocked_user_deliver_everything_once(
        county: dict[str, str], tg: FakeTelegram, tmp_path: Path) -> None:
    """40 reminders, the first to five of them answered 429 and 500, one recipient has blocked
    the bot."""
    now = datetime.now(UTC)
    async with database(county) as uow, uow() as u:
        people = [p for p in await u.people.all() if p.key != "dispatcher_hb_zhou"][:40]
        for n, person in enumerate(people):
            await u.people.bind_identity(person.id, "telegram", str(8000 + n), now)
            await u.outbox.enqueue(kind="test.reminder", period="2026-11-22",
                                   recipient=f"person:{person.id}", now=now,
                                   payload=Outgoing(text=f"提醒 {n}").to_payload())
        await u.commit()
    blocked = people[5]
    tg.block(8005)
    zhou_code = await invite(county, "dispatcher_hb_zhou")
    # On the reminders' chats: a reply to zhou's /start, racing the sender's first pass, must
    # not be the one to draw them.
    for n in range(3):
        tg.fail_next(None, status=429, retry_after=1, chat_id=8000 + n)
    for n in range(3, 5):
        tg.fail_next(None, status=500, chat_id=8000 + n)
    zhou = TelegramUser(tg, ZHOU, "周敏")
    async with running(county, tg, tmp_path / "bot.log") as bot:
        await zhou.say(f"/start {zhou_code}")
        chats = [8000 + n for n in range(40) if n != 5]
        await tg.wait_for(lambda: all(tg.messages_to(c) for c in chats), timeout=60)
        await tg.wait_for(lambda: any("屏蔽" in m.text for m in zhou.chat), timeout=30)
        assert await bot.stop() == 0
    for chat in chats:
        texts = [m.text for m in tg.messages_to(chat)]
        assert len(texts) == 1, (chat, texts)  # nothing twice, despite 429 and 500
    assert tg.messages_to(8005) == []
    assert tg.violations == []
    notice = next(m.text for m in zhou.chat if "屏蔽" in m.text)
    assert blocked.name in notice
    async with database(county) as uow, uow() as u:
        counts = await u.outbox.counts()
        assert (await u.people.get(blocked.id)).reachable is False  # type: ignore[union-attr]
    assert counts.get(OutboxState.PENDING, 0) == 0
    assert counts.get(OutboxState.FAILED, 0) == 1  # the blocked one, given up at once
    assert "retry after" in bot.log() or "asked to wait" in bot.log()


async def test_webhook_mode_checks_the_secret_and_answers(
        county: dict[str, str], tg: FakeTelegram, tmp_path: Path,
        unused_tcp_port: int) -> None:
    port = unused_tcp_port
    env = county | {"FIELDBOT_TELEGRAM__WEBHOOK_URL": "https://bot.example.gov.cn",
                    "FIELDBOT_TELEGRAM__WEBHOOK_SECRET": "s3cret-token_1",
                    "FIELDBOT_TELEGRAM__LISTEN_PORT": str(port)}
    code = await invite(env, "liaison_wang")
    async with running(env, tg, tmp_path / "bot.log", "--webhook") as bot, \
            aiohttp.ClientSession() as http:
        assert tg.webhook == {"url": "https://bot.example.gov.cn/telegram/webhook",
                              "secret_token": "s3cret-token_1",
                              "allowed_updates": ["message", "callback_query"]}
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        update = tg.update_json(tg.send_text(WANG, f"/start {code}"))
        forged = await http.post(url, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
        assert forged.status == 401
        assert tg.messages_to(WANG) == []
        async with database(env) as uow, uow() as u:
            assert await u.people.by_identity("telegram", str(WANG)) is None
        answered = await http.post(url, json=update,
                                   headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_1"})
        assert answered.status == 200
        assert "绑定成功" in tg.messages_to(WANG)[-1].text  # answered before the 200
        again = await http.post(url, json=update,
                                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_1"})
        assert again.status == 200 and len(tg.messages_to(WANG)) == 1  # a retry: handled once
        health = await (await http.get(f"http://127.0.0.1:{port}/healthz")).json()
        assert health["ok"] is True and health["database"] == "ok"
        assert await bot.stop() == 0


async def test_a_rhythm_due_at_start_reaches_telegram_and_its_button_opens_the_form(
        county: dict[str, str], tg: FakeTelegram, tmp_path: Path) -> None:
    """The real process with its scheduler: the liaison reminder (made due every minute, so the
    catch-up at start-up runs it) arrives once, and its button opens today's report."""
    wang = TelegramUser(tg, WANG, "王磊")
    code = await invite(county, "liaison_wang")
    async with running(county, tg, tmp_path / "bind.log"):
        await wang.say(f"/start {code}")
    rhythms = county | {"FIELDBOT_RHYTHMS__ENABLED": "true",
                        "FIELDBOT_RHYTHMS__LIAISON_REMINDER": "* * * * *",
                        "FIELDBOT_RHYTHMS__QUIET_START": "03:00",  # never quiet: CI runs at
                        "FIELDBOT_RHYTHMS__QUIET_END": "03:00"}  # any hour
    async with running(rhythms, tg, tmp_path / "bot.log"):
        await tg.wait_for(lambda: any("日报提醒" in m.text for m in wang.chat), timeout=20)
        reminders = [m for m in wang.chat if "日报提醒" in m.text]
        assert len(reminders) == 1
        assert "毛绒" in reminders[0].text
        reply = await wang.press("填报")
        assert "现场" in reply or "施工中" in reply
    async with database(county) as uow, uow() as u:
        runs = await u.runs.recent()
    assert any(r.rhythm == "liaison_reminder" and r.outcome == "ran" and r.messages >= 1
               for r in runs)


async def test_a_group_is_followed_to_its_supergroup_and_rebound_after_the_bot_is_removed(
        county: dict[str, str], tg: FakeTelegram, tmp_path: Path) -> None:
    out = await cli(["group", "add", "汉滨区项目调度群", "--place", "汉滨区",
                     "--subscribe", "daily_summary"], county)
    found = GROUP_CODE.search(out)
    assert found, out
    zhou_code = await invite(county, "dispatcher_hb_zhou")
    tg.add_group(-1001, "汉滨区项目调度群")
    zhou = TelegramUser(tg, ZHOU, "周敏")

    async def digest(text: str) -> None:
        async with database(county) as uow, uow() as u:
            [group] = [g for g in await u.groups.all() if g.title == "汉滨区项目调度群"]
            await u.outbox.enqueue(kind="test.digest", period="2026-11-22", subject=text,
                                   recipient=f"group:{group.id}", now=datetime.now(UTC),
                                   payload=Outgoing(text=text).to_payload())
            await u.commit()

    async with running(county, tg, tmp_path / "bot.log") as bot:
        await zhou.say(f"/start {zhou_code}")
        bound = tg.send_text(ZHOU, f"/bindgroup {found.group(1)}", chat_id=-1001)
        await tg.wait_for(lambda: confirmed(tg, bound))
        tg.upgrade_group(-1001, -1001001, announce=False)  # only a send tells the bot
        await digest("每日汇总 一")
        [moved] = await tg.wait_for_messages(-1001001, 1, timeout=20)
        assert moved.text == "每日汇总 一"
        tg.remove_from_group(-1001001)
        await digest("每日汇总 二")
        await tg.wait_for(lambda: any("收不到" in m.text for m in zhou.chat), timeout=20)
        notice = next(m.text for m in zhou.chat if "收不到" in m.text)
        assert "汉滨区项目调度群" in notice and "重新拉进群" in notice
        code = notice.rsplit("/bindgroup", 1)[1].strip()
        tg.add_group(-1001001, "汉滨区项目调度群")  # the bot added back
        again = tg.send_text(ZHOU, f"/bindgroup {code}", chat_id=-1001001)
        await tg.wait_for(lambda: confirmed(tg, again))
        assert "本群已绑定" in tg.messages_to(-1001001)[-1].text
        await digest("每日汇总 三")
        await tg.wait_for(lambda: tg.messages_to(-1001001)[-1].text == "每日汇总 三", timeout=20)
        tg.remove_from_group(-1001001, by=ZHOU)  # this time Telegram tells the bot at once
        await tg.wait_for(lambda: sum("收不到" in m.text for m in zhou.chat) == 2, timeout=20)
        second = [m.text for m in zhou.chat if "收不到" in m.text][-1]
        assert f"/bindgroup {code}" not in second  # a fresh code, no digest needed to notice
        assert await bot.stop() == 0
    [bound_reply] = [m.text for m in tg.messages_to(-1001)]  # nothing more reached the old id
    assert "本群已绑定" in bound_reply
    assert not any(m.text == "每日汇总 二" for m in tg.delivered)  # the bot was out
    assert len([m for m in zhou.chat if "收不到" in m.text]) == 2  # once per removal
    assert "moved from chat -1001 to -1001001" in bot.log()


async def test_a_person_who_blocks_the_bot_is_reported_to_the_dispatcher_at_once(
        county: dict[str, str], tg: FakeTelegram, tmp_path: Path) -> None:
    """Telegram tells the bot when a person blocks it (`my_chat_member`): the dispatcher hears
    of it then, with no message to that person needed to find out."""
    wang_code, zhou_code = (await invite(county, "liaison_wang"),
                            await invite(county, "dispatcher_hb_zhou"))
    wang, zhou = TelegramUser(tg, WANG, "王磊"), TelegramUser(tg, ZHOU, "周敏")
    async with running(county, tg, tmp_path / "bot.log") as bot:
        await wang.say(f"/start {wang_code}")
        await zhou.say(f"/start {zhou_code}")
        blocked = tg.block(WANG, tell_bot=True)
        assert blocked is not None
        await tg.wait_for(lambda: any("屏蔽" in m.text for m in zhou.chat), timeout=20)
        await tg.wait_for(lambda: confirmed(tg, blocked))
        assert await bot.stop() == 0
    [notice] = [m.text for m in zhou.chat if "屏蔽" in m.text]
    assert "王磊" in notice
    async with database(county) as uow, uow() as u:
        person = await u.people.by_identity("telegram", str(WANG))
    assert person is not None and not person.reachable
