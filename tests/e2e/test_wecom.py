"""WeCom end to end: the real `fieldbot run --channel wecom` process against a fake WeCom on
loopback (its API, and WeCom's side of the callbacks), and the digest robots' fake."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import select

from domain.model import OutboxState
from storage import models as m
from tests.e2e.telegram_harness import cli, invite, jpeg
from tests.e2e.wecom_harness import (
    WeComProcess,
    WeComUser,
    bind,
    database,
    eventually,
    free_port,
    query,
    row_counts,
    running,
    wait_for,
    wecom_env,
)
from tests.fakes.robots import FakeRobots
from tests.fakes.wecom_api import Answer, FakeWeCom, Request, WeComCallbacks, frame, seal

WANG = "WangLei"  # the demo liaison 王磊's WeCom userid
STRANGER = "LuRen"
ZONE = ZoneInfo("Asia/Shanghai")
RHYTHMS = ("liaison_reminder", "leader_unreported", "daily_summary", "visit_reminder",
           "weekly_digest", "ten_day_check", "monthly_review", "quarterly_review",
           "problem_escalation")
NEVER = "0 3 29 2 *"  # 29 February, 03:00: not during a test


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeCom]:
    async with FakeWeCom() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def county(demo_env: dict[str, str], fake: FakeWeCom) -> dict[str, str]:
    """The demo county, and the bot's environment pointed at the fake WeCom."""
    return wecom_env(demo_env, fake, free_port())


def callbacks(bot: WeComProcess, http: aiohttp.ClientSession, fake: FakeWeCom) -> WeComCallbacks:
    return WeComCallbacks(bot.url, http, fake=fake)


async def latest_report(env: dict[str, str], code: str) -> tuple[m.DailyReport, int]:
    """The newest daily report of the project `code`, and how many photos it has."""
    async with query(env) as session:
        report = (await session.scalars(
            select(m.DailyReport).join(m.Project, m.Project.id == m.DailyReport.project_id)
            .where(m.Project.code == code).order_by(m.DailyReport.updated_at.desc())
            .limit(1))).one()
        photos = len((await session.scalars(select(m.PhotoAttachment).where(
            m.PhotoAttachment.report_id == report.id))).all())
        return report, photos


async def test_url_check_invite_and_a_daily_report_over_cards(
        county: dict[str, str], fake: FakeWeCom, http: aiohttp.ClientSession,
        tmp_path: Path) -> None:
    code = await invite(county, "liaison_wang")
    async with running(county, tmp_path / "bot.log") as bot:
        wecom = callbacks(bot, http, fake)

        # 1. the URL check: the echostr's plaintext, as it is
        echo = await wecom.url_check("1288432023552776189")
        assert (echo.status, echo.text) == (200, "1288432023552776189")
        assert fake.tokens_issued == 1  # fetched once at start, with the corp secret
        assert fake.calls_of("gettoken")[0].params["corpsecret"] == fake.secret

        # a stranger is refused politely, and nothing about them is kept
        stranger = WeComUser(fake, wecom, STRANGER)
        before = await row_counts(county)
        assert "还没有绑定" in await stranger.say("/report", "还没有绑定")
        assert await row_counts(county) == before

        # 2. the invite code, sent once, binds the account; then the daily report
        wang = WeComUser(fake, wecom, WANG)
        assert "绑定成功" in await wang.say(code, "绑定成功")
        await wang.say("/report", "请选择项目")
        projects = wang.card()
        assert projects.content["card_type"] == "button_interaction"
        assert len(projects.buttons) == 3 and any("毛绒" in b for b, _ in projects.buttons)

        await wang.press("毛绒", "今天现场状态")
        assert fake.card_updates[-1]["button"]["replace_name"].startswith("✔ 汉滨区毛绒")
        assert fake.card_updates[-1]["userids"] == [WANG]
        status = wang.card()
        assert [label for label, _ in status.buttons][1:] == ["施工中", "停工", "未开工"]
        await wang.press("施工中", "形象进度")
        assert fake.card_updates[-1]["button"] == {"replace_name": "✔ 施工中"}

        await wang.say("96", "完成了哪些工作")  # a typed number
        await wang.say("钢结构吊装6榀，屋面板铺设", "施工人数")
        await wang.say("130", "累计完成投资")
        await wang.say("90000万元", "现场照片")

        photo = jpeg(1)
        assert "收到 1 张照片" in await wang.photo(photo, "收到 1 张照片")
        [fetched] = fake.calls_of("media/get")
        assert fake.media[fetched.params["media_id"]].data == photo  # the MediaId, fetched

        await wang.press("完成", "当前位置")
        await wang.press("跳过", "有需要协调解决的问题")
        summary = await wang.press("否", "请核对")
        assert "形象进度：96%" in summary and "照片：1 张" in summary
        assert "1. ✅ 确认提交" in summary  # eleven options: numbered lines, not a card
        done = await wang.say("1", "日报")  # the typed number presses "确认提交"
        assert "日报已提交" in done or "日报已更新" in done

        report, photos = await latest_report(county, "HB-001")
        assert report.report_date == datetime.now(ZONE).date()
        assert (report.progress_pct, report.workers, report.ytd_investment) == (
            Decimal(96), 130, Decimal(90000))
        assert report.work_done == "钢结构吊装6榀，屋面板铺设"
        assert report.site_status.value == "working"
        assert photos == 1

        assert [u["button"]["replace_name"][:2] for u in fake.card_updates] == ["✔ "] * 5
        assert all(s.touser in (WANG, STRANGER) for s in fake.sent)
        assert fake.violations == [] and fake.dropped == []
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()
    assert bot.refusals() == []


async def test_an_expired_token_is_fetched_again_and_nothing_is_lost(
        county: dict[str, str], fake: FakeWeCom, http: aiohttp.ClientSession,
        tmp_path: Path) -> None:
    await bind(county, "liaison_wang", WANG)
    async with running(county, tmp_path / "bot.log") as bot:
        wang = WeComUser(fake, callbacks(bot, http, fake), WANG)
        await wang.say("/report", "请选择项目")
        await wang.press("毛绒", "今天现场状态")
        assert fake.tokens_issued == 1

        fake.expire_tokens()  # WeCom ends the token early: its next use answers 42001
        await wang.press("施工中", "形象进度")  # the card's update and the reply both arrive
        assert fake.tokens_issued == 2
        assert fake.card_updates[-1]["button"] == {"replace_name": "✔ 施工中"}

        fake.expire_tokens()  # again, now under the reply to a typed answer
        await wang.say("96", "完成了哪些工作")
        assert fake.tokens_issued == 3
        await wang.say("钢结构吊装6榀", "施工人数")
        await wang.say("130", "累计完成投资")
        await wang.press("跳过", "现场照片")

        fake.fail("media/get", errcode=40014)  # and on the photo's download
        await wang.photo(jpeg(2), "收到 1 张照片")
        assert fake.tokens_issued == 4
        assert len(fake.calls_of("media/get")) == 2  # refused, then fetched with the new token

        await wang.press("完成", "当前位置")
        await wang.press("跳过", "有需要协调解决的问题")
        summary = await wang.press("否", "请核对")
        assert "形象进度：96%" in summary and "施工人数：130" in summary
        assert "照片：1 张" in summary  # every answer kept across the renewals
        await wang.say("1", "日报")
        assert await bot.stop() == 0
    report, photos = await latest_report(county, "HB-001")
    assert (report.progress_pct, report.workers, photos) == (Decimal(96), 130, 1)
    sends = [c for c in fake.calls_of("message/send") if (c.body or {}).get("touser") == WANG]
    assert len(sends) == len(wang.chat) + 1  # every reply sent; one send was refused once
    assert len(fake.card_updates) == 6  # every pressed card marked, one after a refusal
    assert "given up" not in bot.log() and "Traceback" not in bot.log()
    assert len(bot.lines("refused the access token .* renewing it")) == 3


def changes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The tables whose row counts changed, and by how much."""
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def bad_padding(xml: str) -> str:
    """WeCom's envelope of `xml` with whole blocks but padding bytes of 0 (never valid)."""
    framed = frame(xml)
    count = 32 - len(framed) % 32
    return seal(framed, pad=b"\x00" * count)


async def test_every_refused_callback_stores_nothing_and_logs_one_line(
        county: dict[str, str], fake: FakeWeCom, http: aiohttp.ClientSession,
        tmp_path: Path) -> None:
    await bind(county, "liaison_wang", WANG)
    async with running(county, tmp_path / "bot.log") as bot:
        wecom = callbacks(bot, http, fake)
        wang = WeComUser(fake, wecom, WANG)
        await wang.say("/help", "可以这样用")  # taken: its nonce is now known
        taken = wecom.last
        assert taken is not None
        before, sent = await row_counts(county), len(fake.sent)
        report = wecom.text_xml(WANG, "/report")  # would start a draft if it were taken
        stale = str(int(time.time()) - 3600)
        cases: list[tuple[str, Callable[[], Awaitable[Answer]], int, str]] = [
            ("forged signature", lambda: wecom.post_xml(report, signature="0" * 40), 403,
             "signature"),
            ("another corp", lambda: wecom.post_encrypted(wecom.encrypt(
                report, receiver="ww00another0corp01")), 403, "receiver"),
            ("bad base64", lambda: wecom.post_encrypted("not*base64/at=all!"), 400, "base64"),
            ("bad padding", lambda: wecom.post_encrypted(bad_padding(report)), 400, "decrypt"),
            ("old timestamp", lambda: wecom.post_xml(report, timestamp=stale), 403, "replay"),
            ("same nonce", lambda: wecom.post_xml(report, nonce=taken.query["nonce"]), 403,
             "replay"),
            ("replayed byte for byte", lambda: wecom.send(taken), 403, "replay"),
            ("forged URL check", lambda: wecom.url_check("x", signature="f" * 40), 403,
             "signature"),
            ("not XML", lambda: wecom.send(Request("POST", wecom.query("x"), b"<xml><Enc")),
             400, "xml"),
        ]
        for name, request, status, reason in cases:
            seen = len(bot.lines())
            answer = await request()
            assert answer.status == status, (name, answer)
            logged = await bot.lines_after(seen)
            assert len(logged) == 1, (name, logged)  # one line, and only one, about it
            method = "GET" if "URL" in name else "POST"
            assert f"refused a {method} from 127.0.0.1 ({reason})" in logged[0], (name, logged)
        assert await row_counts(county) == before  # nothing stored
        assert len(fake.sent) == sent  # nothing answered
        assert "Traceback" not in bot.log()

        # The next real message is taken and answered. A member's messages are handled in
        # order, so one taken by mistake above would have been handled before it: the only
        # changes are this message's draft and receipt, the only reply its card.
        await wang.say("/report", "请选择项目")
        assert changes(before, await row_counts(county)) == {"form_drafts": 1,
                                                             "inbound_receipts": 1}
        assert len(fake.sent) == sent + 1
        assert len(bot.lines("wecom callback: refused")) == len(cases)


async def test_a_retried_callback_is_handled_once(
        county: dict[str, str], fake: FakeWeCom, http: aiohttp.ClientSession,
        tmp_path: Path) -> None:
    await bind(county, "liaison_wang", WANG)
    async with running(county, tmp_path / "bot.log") as bot:
        wecom = callbacks(bot, http, fake)
        wang = WeComUser(fake, wecom, WANG)
        before = await row_counts(county)
        await wang.say("/report", "请选择项目")
        after = await row_counts(county)
        assert changes(before, after) == {"form_drafts": 1, "inbound_receipts": 1}
        replies = len(wang.chat)
        assert replies == 1

        # WeCom got no answer in 5 s (say) and sends the same MsgId twice more
        for attempt in (0, 1):
            assert (await wecom.retry()).status == 200
            await bot.lines_after(attempt, "again \\(a retry\\)")
        assert len(wang.chat) == replies and await row_counts(county) == after

        # a button press retried: events have no MsgId, they are known by sender and time
        await wang.press("毛绒", "今天现场状态")
        replies, pressed = len(wang.chat), await row_counts(county)
        assert (await wecom.retry()).status == 200
        [retried] = await bot.lines_after(2, "again \\(a retry\\)")
        assert "e:" in retried  # an event's key: sender, time, event, button
        assert len(wang.chat) == replies and len(fake.card_updates) == 1
        assert await row_counts(county) == pressed

        # a crash, and WeCom's last retry reaches the new process: its receipt is in the DB
        await bot.stop(signal.SIGKILL)
        await bot.start()
        assert (await wecom.retry()).status == 200
        await bot.lines_after(0, "skipped wecom update e:")
        assert len(wang.chat) == replies and await row_counts(county) == pressed
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()


async def sent_digests(env: dict[str, str], count: int) -> bool:
    async with query(env) as session:
        rows = (await session.scalars(select(m.OutboxMessage).where(
            m.OutboxMessage.kind == "digest.daily"))).all()
    return len(rows) == count and all(r.state is OutboxState.SENT for r in rows)


async def test_a_daily_summary_reaches_the_three_robots_once(
        county: dict[str, str], fake: FakeWeCom, tmp_path: Path) -> None:
    """The real scheduler runs the daily summary (made due every minute, so the catch-up at
    start-up runs it) and the outbox sender delivers it to a WeCom group robot, a DingTalk and
    a Feishu robot, each signed as its platform wants."""
    async with FakeRobots() as robots:
        hooks = [("wecom_robot", robots.wecom("wxrobotkey-0001"), None, "wxrobotkey-0001"),
                 ("dingtalk", robots.dingtalk("dtrobottoken-0001", "SECdt-secret-0001"),
                  "SECdt-secret-0001", "dtrobottoken-0001"),
                 ("feishu", robots.feishu("fsrobottoken-0001", "fs-secret-0001"),
                  "fs-secret-0001", "fsrobottoken-0001")]
        added = await asyncio.gather(*(
            cli(["group", "add", f"汉滨区调度群-{kind}", "--place", "汉滨区",
                 "--subscribe", "daily_summary", "--webhook-kind", kind],
                county | {"FIELDBOT_WEBHOOK_URL": url}
                | ({"FIELDBOT_WEBHOOK_SECRET": secret} if secret else {}))
            for kind, url, secret, _ in hooks))
        assert all("已接入机器人群" in out for out in added)
        assert all(url not in out for out, (_, url, _, _) in zip(added, hooks, strict=True))

        rhythms = county | {f"FIELDBOT_RHYTHMS__{name.upper()}": NEVER for name in RHYTHMS}
        rhythms |= {"FIELDBOT_RHYTHMS__ENABLED": "true",
                    "FIELDBOT_RHYTHMS__DAILY_SUMMARY": "* * * * *",
                    "FIELDBOT_RHYTHMS__GRACE_HOURS": "0.1"}
        async with running(rhythms, tmp_path / "bot.log") as bot:
            tokens = [token for *_, token in hooks]
            await wait_for(lambda: all(robots.to(t) for t in tokens), within=30,
                           what="the digest at every robot")
            await eventually(lambda: sent_digests(county, 3), what="the digests marked sent")
            assert len(bot.lines("rhythm daily_summary due .* ran: 3 messages")) == 1

            # a restart: the catch-up finds the run done, and nothing goes out again
            assert await bot.stop() == 0
            await bot.start()
            await bot.lines_after(1, "scheduler: .* rhythms scheduled")
            assert await bot.stop() == 0
        for kind, _, _, token in hooks:
            received = robots.to(token)
            assert len(received) == 1, (kind, received)
            assert received[0].kind == kind and "汉滨区" in received[0].text
        assert robots.refusals == [] and robots.violations == []
    async with database(county) as uow, uow() as u:
        counts = await u.outbox.counts()
        runs = [r for r in await u.runs.recent() if r.rhythm == "daily_summary"]
    assert counts.get(OutboxState.SENT, 0) == 3 and counts.get(OutboxState.PENDING, 0) == 0
    assert runs and all(r.outcome == "ran" for r in runs)
    assert sum(r.messages for r in runs) == 3  # a later minute's run queues nothing again
    assert fake.sent == []  # digests go to the robots, never through the app
    assert "Traceback" not in bot.log()
