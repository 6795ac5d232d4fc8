"""Digests pushed to WeCom, DingTalk and Feishu robots through the real outbox sender, against
the fake robot server on loopback; and the pieces that make it up (parts, images, signatures,
webhook checks).

Time is two moved clocks: the sender's monotonic `Ticker` (send limits, and the fake's rate
windows) and the outbox's `FixedClock`; a wait inside the port moves both.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote_plus

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import RhythmSettings
from bot.i18n import translator
from domain.clock import FixedClock
from domain.events import Outgoing
from domain.model import OutboxState, SiteStatus
from domain.workdays import WorkCalendar
from reminders.charts import Charts, find_cjk_font
from reminders.outbox import OutboxSender, SenderSettings
from reminders.rhythms import JOBS, build_rhythms
from reminders.rhythms.base import RhythmDeps
from reminders.robots import (
    BadWebhook,
    RobotKind,
    RobotPort,
    WebhookProblem,
    check_webhook,
    robot_ports,
    stored_targets,
)
from reminders.robots.base import split_text, strip_marker
from reminders.robots.dingtalk import sign as dingtalk_sign
from reminders.robots.feishu import sign as feishu_sign
from reminders.robots.wecom import fit_image
from reminders.scheduler import RhythmScheduler
from storage import models as m
from storage.repositories.groups import RobotInUse
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWorkFactory
from tests.clocks import Ticker
from tests.conftest import ZONE
from tests.fakes.robots import FakeRobots, Received
from tests.fakes.robots import dingtalk_sign as fake_dingtalk_sign
from tests.fakes.robots import feishu_sign as fake_feishu_sign
from tests.world import World

NOTE = translator("zh-CN")("robot.chart_omitted")
DING_SECRET = "SEC0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff"  # noqa: S105 - the fake robot's, made up here
FEISHU_SECRET = "fsSecret9x8y7z"  # noqa: S105 - the fake robot's, made up here


@dataclass
class Rig:
    uow: UnitOfWorkFactory
    clock: FixedClock
    ticker: Ticker
    fake: FakeRobots
    groups: dict[RobotKind, int]
    ports: list[RobotPort]

    def move(self, seconds: float) -> None:
        self.ticker.now += seconds
        self.clock.advance(timedelta(seconds=seconds))

    async def sleep(self, seconds: float) -> None:
        """The ports' sleep: time moves, nothing waits."""
        self.move(seconds)

    def sender(self) -> OutboxSender:
        """A sender (and ports) as `fieldbot run` starts them: a restart makes new ones."""
        self.ports = robot_ports(stored_targets(self.uow), chart_note=NOTE,
                                 monotonic=self.ticker, sleep=self.sleep)
        return OutboxSender(self.uow, self.clock, self.ports, texts_for=translator,
                            monotonic=self.ticker, settings=SenderSettings(max_attempts=3))

    async def close(self) -> None:
        for port in self.ports:
            await port.close()


async def add_robot(uow: UnitOfWorkFactory, clock: FixedClock, world: World, kind: RobotKind,
                    url: str, secret: str | None = None,
                    subscriptions: tuple[str, ...] = ("weekly_digest",)) -> int:
    async with uow() as u:
        group = await u.groups.add_robot(f"{kind}群", region_id=world.city, unit_id=None,
                                         subscriptions=subscriptions, kind=kind, url=url,
                                         secret=secret, now=clock.now())
        await u.commit()
    return group.id


@pytest.fixture
async def rig(uow: UnitOfWorkFactory, clock: FixedClock, world: World,
              ) -> AsyncIterator[Rig]:
    ticker = Ticker()
    async with FakeRobots(clock=ticker) as fake:
        groups = {
            RobotKind.WECOM: await add_robot(uow, clock, world, RobotKind.WECOM,
                                             fake.wecom("wk-1")),
            RobotKind.DINGTALK: await add_robot(uow, clock, world, RobotKind.DINGTALK,
                                                fake.dingtalk("dt-1", DING_SECRET),
                                                DING_SECRET),
            RobotKind.FEISHU: await add_robot(uow, clock, world, RobotKind.FEISHU,
                                              fake.feishu("fs-1", FEISHU_SECRET),
                                              FEISHU_SECRET),
        }
        rig = Rig(uow, clock, ticker, fake, groups, [])
        yield rig
        await rig.close()


async def enqueue(rig: Rig, group_id: int, message: Outgoing, *, subject: str = "") -> None:
    async with rig.uow() as u:
        await u.outbox.enqueue(kind="digest.test", period="2026-W48",
                               recipient=f"group:{group_id}", subject=subject,
                               payload=message.to_payload(), now=rig.clock.now())
        await u.commit()


async def rows(engine: AsyncEngine) -> list[tuple[str, OutboxState, int, str | None]]:
    async with engine.connect() as conn:
        found = await conn.execute(
            select(m.OutboxMessage.recipient, m.OutboxMessage.state, m.OutboxMessage.attempts,
                   m.OutboxMessage.last_error).order_by(m.OutboxMessage.id))
        return [(r, OutboxState(s), a, e) for r, s, a, e in found]


async def drive(rig: Rig, sender: OutboxSender, engine: AsyncEngine, *,
                rounds: int = 1000) -> None:
    """Pass after pass until nothing is pending; time moves only when a pass sent nothing."""
    for _ in range(rounds):
        before = rig.fake.requests
        wait = await sender.drain_once()
        await sender.settle()
        if all(s in (OutboxState.SENT, OutboxState.FAILED) for _, s, _, _ in await rows(engine)):
            return
        if rig.fake.requests == before:
            rig.move(max(wait, 0.001))
    raise AssertionError("the outbox did not drain")


def noisy_png(megabytes: float) -> bytes:
    """A PNG of noise: it cannot be compressed, so it is as big as its pixels."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5) + 1
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


def digest_text(size: int) -> str:
    lines = ["【每周调度】2026-W48 周报（截至 11月27日）"]
    n = 0
    while len("\n".join(lines).encode()) < size:
        n += 1
        lines.append(f"· HB-{n:03d} 汉滨区重点项目第{n}号：完成率 {n % 90}.5%，"
                     f"滞后 {n % 30} 个百分点")
    return "\n".join(lines)


def wecom_text(parts: list[Received]) -> str:
    return "\n".join(strip_marker(p.text) for p in parts)


# --- end to end ----------------------------------------------------------------------------

async def test_a_long_digest_with_a_big_chart_reaches_each_robot_once(
        rig: Rig, engine: AsyncEngine) -> None:
    text = digest_text(9000)
    chart = noisy_png(6)
    assert len(text.encode()) >= 9000 and len(chart) > 6 * 1024 * 1024
    for kind, group in rig.groups.items():
        await enqueue(rig, group, Outgoing(text=text, image=chart), subject=kind)
    sender = rig.sender()
    await drive(rig, sender, engine)

    wecom = rig.fake.to("wk-1")
    assert [r.msgtype for r in wecom] == ["markdown"] * 3 + ["image"]
    assert all(len(r.text.encode()) <= 4096 for r in wecom[:3])
    assert [r.text.rsplit("\n", 1)[-1] for r in wecom[:3]] == ["(1/3)", "(2/3)", "(3/3)"]
    assert wecom_text(wecom[:3]) == text
    image = wecom[3].image
    assert image is not None and len(image) <= 2 * 1024 * 1024
    assert wecom[3].md5 == hashlib.md5(image, usedforsecurity=False).hexdigest()
    with Image.open(io.BytesIO(image)) as shown:
        assert shown.format in ("JPEG", "PNG") and shown.width > 300

    [dingtalk] = rig.fake.to("dt-1")
    assert dingtalk.title == text.split("\n", 1)[0]
    assert dingtalk.text.replace("  \n", "\n") == f"{text}\n\n{NOTE}"
    [feishu] = rig.fake.to("fs-1")
    assert feishu.msgtype == "post" and feishu.title == text.split("\n", 1)[0]
    assert f"{feishu.title}\n{feishu.text}" == f"{text}\n\n{NOTE}"

    assert rig.fake.refusals == [] and rig.fake.violations == []
    assert {s for _, s, _, _ in await rows(engine)} == {OutboxState.SENT}


async def test_the_weekly_digest_goes_to_every_subscribed_robot(
        rig: Rig, engine: AsyncEngine, world: World) -> None:
    monday = date(2026, 11, 23)
    for offset in range(5):
        async with rig.uow() as u:
            day = monday + timedelta(days=offset)
            await u.reports.save(ReportInput(world.projects["HB-001"], day, world.liaison,
                                             SiteStatus.WORKING, Decimal(40), "主体施工", 30,
                                             ytd_investment=Decimal(9000)),
                                 datetime(day.year, day.month, day.day, 12, tzinfo=ZONE))
            await u.commit()
    rig.clock.set(datetime(2026, 11, 27, 17, 0, tzinfo=ZONE))
    deps = RhythmDeps(texts_for=translator, zone=ZONE, calendar=WorkCalendar(),
                      charts=Charts(find_cjk_font()), default_language="zh-CN")
    crontabs = {name: getattr(RhythmSettings(), name) for name in JOBS}
    await RhythmScheduler(rig.uow, rig.clock, build_rhythms(crontabs, deps, ZONE),
                          grace=timedelta(hours=6)).run_due()
    await drive(rig, rig.sender(), engine)

    for token in ("wk-1", "dt-1", "fs-1"):
        texts = [r for r in rig.fake.to(token) if r.msgtype != "image"]
        assert len(texts) == 1, token
        assert "【每周调度】" in f"{texts[0].title or ''}{texts[0].text}"
        assert "实报 5 次" in texts[0].text
    charted = find_cjk_font() is not None
    assert [r.msgtype for r in rig.fake.to("wk-1")][1:] == (["image"] if charted else [])
    assert (NOTE in rig.fake.to("dt-1")[0].text) == charted


@pytest.mark.parametrize("kind", list(RobotKind))
async def test_25_messages_to_one_robot_keep_its_rate_limit(
        rig: Rig, engine: AsyncEngine, kind: RobotKind) -> None:
    group, token = rig.groups[kind], {RobotKind.WECOM: "wk-1", RobotKind.DINGTALK: "dt-1",
                                      RobotKind.FEISHU: "fs-1"}[kind]
    for n in range(25):
        await enqueue(rig, group, Outgoing(text=f"第{n + 1}条提醒"), subject=str(n))
    start = rig.ticker.now
    await drive(rig, rig.sender(), engine)
    got = rig.fake.to(token)
    assert [r.text for r in got] == [f"第{n + 1}条提醒" for n in range(25)]
    assert rig.fake.violations == [] and rig.fake.refusals == []
    if kind is RobotKind.FEISHU:  # 5 a second, 100 a minute
        assert 4.8 - 1e-6 <= got[-1].at - start < 6
    else:  # 20 a minute: the 21st a minute after the first
        assert got[20].at - got[0].at >= 60 and got[19].at - got[0].at < 1


@pytest.mark.parametrize(("kind", "errcode"), [(RobotKind.WECOM, 93000),
                                               (RobotKind.DINGTALK, 310000),
                                               (RobotKind.FEISHU, 19021)])
async def test_a_wrong_key_or_secret_fails_the_message_with_a_clear_line_and_no_secret(
        rig: Rig, engine: AsyncEngine, world: World, caplog: pytest.LogCaptureFixture,
        kind: RobotKind, errcode: int) -> None:
    wrong_secret = "SECwrong0000000000" if kind is RobotKind.DINGTALK else "fsWrongSecret"
    url = {RobotKind.WECOM: rig.fake.base_url + "/cgi-bin/webhook/send?key=wk-unknown-777",
           RobotKind.DINGTALK: rig.fake.dingtalk("dt-2", DING_SECRET),
           RobotKind.FEISHU: rig.fake.feishu("fs-2", FEISHU_SECRET)}[kind]
    secret = None if kind is RobotKind.WECOM else wrong_secret
    group = await add_robot(rig.uow, rig.clock, world, kind, url, secret, ())
    await enqueue(rig, group, Outgoing(text="本周简报"))
    caplog.set_level(logging.INFO)
    await drive(rig, rig.sender(), engine)
    [(_, state, _, error)] = await rows(engine)
    assert state is OutboxState.FAILED and error is not None and str(errcode) in error
    lines = [r.getMessage() for r in caplog.records if f"group {group} refused" in r.getMessage()]
    assert lines and str(errcode) in lines[0] and kind.value in lines[0]
    for secret_text in ("wk-unknown-777", "dt-2", "fs-2", wrong_secret, url):
        assert secret_text not in caplog.text and secret_text not in (error or "")


async def test_a_restart_sends_nothing_twice(rig: Rig, engine: AsyncEngine) -> None:
    for kind, group in rig.groups.items():
        await enqueue(rig, group, Outgoing(text=f"本周简报 {kind}"), subject=kind)
    await drive(rig, rig.sender(), engine)
    delivered = list(rig.fake.received)
    assert len(delivered) == 3
    await rig.close()
    restarted = rig.sender()  # `fieldbot run` again: new ports, new sender
    await restarted.recover(all_claims=True)
    for _ in range(3):
        await restarted.drain_once()
        await restarted.settle()
        rig.move(61)
    assert rig.fake.received == delivered


async def test_a_server_error_between_parts_resends_no_part(
        rig: Rig, engine: AsyncEngine) -> None:
    text = digest_text(9000)
    rig.fake.fail_next("wecom_robot", "wk-1", status=502, after=1)  # the second part
    await enqueue(rig, rig.groups[RobotKind.WECOM], Outgoing(text=text))
    sender = rig.sender()
    await sender.drain_once()
    await sender.settle()
    assert len(rig.fake.to("wk-1")) == 1
    [(_, state, attempts, error)] = await rows(engine)
    assert state is OutboxState.PENDING and attempts == 1 and "HTTP 502" in (error or "")
    await drive(rig, sender, engine)
    parts = rig.fake.to("wk-1")
    assert len(parts) == 3 and wecom_text(parts) == text


async def test_a_robot_over_its_limit_waits_alone(
        rig: Rig, engine: AsyncEngine, world: World) -> None:
    other = await add_robot(rig.uow, rig.clock, world, RobotKind.DINGTALK,
                            rig.fake.dingtalk("dt-3", DING_SECRET), DING_SECRET, ())
    rig.fake.crowd("dingtalk", "dt-1", 20)  # another system used up this minute
    await enqueue(rig, rig.groups[RobotKind.DINGTALK], Outgoing(text="甲群简报"))
    await enqueue(rig, other, Outgoing(text="乙群简报"))
    start = rig.ticker.now
    await drive(rig, rig.sender(), engine)
    [crowded] = rig.fake.to("dt-1")
    [free] = rig.fake.to("dt-3")
    assert free.at == start  # the other DingTalk robot did not wait
    assert crowded.at - start >= 600  # DingTalk throttles a robot for ten minutes
    assert [code for _, code, _ in rig.fake.refusals] == [130101]  # asked once, then waited
    assert [(s, a) for _, s, a, _ in await rows(engine)] == [(OutboxState.SENT, 0)] * 2


# --- the pieces ----------------------------------------------------------------------------

def test_parts_are_cut_at_line_ends_and_never_inside_a_character() -> None:
    text = "\n".join(["汉字" * 300, "€" * 2000, "短行"])  # 1,800 bytes, 6,000 bytes, 6
    parts = split_text(text, 4096)
    assert all(len(p.encode()) <= 4096 for p in parts)
    assert [p.encode().decode() for p in parts] == parts  # every part is whole UTF-8
    assert parts[0] == "汉字" * 300  # a line that fits is never cut
    assert "".join(parts[1:]).replace("\n", "") == "€" * 2000 + "短行"
    assert split_text("一行", 4096) == ["一行"]


def test_an_image_too_big_is_reencoded_under_2_mb_and_a_small_one_kept() -> None:
    small = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(small, format="PNG")
    assert fit_image(small.getvalue()) == small.getvalue()
    big = noisy_png(3)
    fitted = fit_image(big)
    assert len(fitted) <= 2 * 1024 * 1024
    with Image.open(io.BytesIO(fitted)) as shown:
        assert shown.format == "JPEG"
    webp = io.BytesIO()
    Image.new("RGBA", (64, 48), (0, 0, 0, 0)).save(webp, format="WEBP")
    with Image.open(io.BytesIO(fit_image(webp.getvalue()))) as shown:
        assert shown.format == "JPEG"  # WeCom takes JPG and PNG only


def test_signatures_agree_with_the_platforms_formulas() -> None:
    assert dingtalk_sign(DING_SECRET, 1700000000000) == quote_plus(
        fake_dingtalk_sign(DING_SECRET, "1700000000000"))
    assert feishu_sign(FEISHU_SECRET, 1700000000) == fake_feishu_sign(FEISHU_SECRET,
                                                                     "1700000000")


@pytest.mark.parametrize(("kind", "url", "secret", "problem"), [
    ("wecom_robot", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", None, None),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=abc", "SECx", None),
    ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/abc-123", None, None),
    ("slack", "https://hooks.slack.com/x", None, WebhookProblem.KIND),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send", None, WebhookProblem.URL),
    ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/", None, WebhookProblem.URL),
    ("wecom_robot", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", None,
     WebhookProblem.INSECURE),
    ("wecom_robot", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "s",
     WebhookProblem.UNSIGNED),
])
def test_an_operators_webhook_is_checked(kind: str, url: str, secret: str | None,
                                         problem: WebhookProblem | None) -> None:
    if problem is None:
        assert check_webhook(kind, url, secret) == kind
        return
    with pytest.raises(BadWebhook) as refused:
        check_webhook(kind, url, secret)
    assert refused.value.problem is problem and "abc" not in str(refused.value)


async def test_one_robot_feeds_one_group_and_its_secret_is_kept_out_of_sight(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=tok123456"
    group = await add_robot(uow, clock, world, RobotKind.DINGTALK, url, "SEC+/=secret")
    with pytest.raises(RobotInUse) as taken:
        await add_robot(uow, clock, world, RobotKind.DINGTALK, url, "SECother")
    assert taken.value.group_id == group
    async with uow() as u:
        [listed] = await u.groups.all()
        hook = await u.groups.webhook("dingtalk", listed.chat_id or "")
    assert listed.channel == "dingtalk" and "tok123456" not in (listed.chat_id or "")
    assert hook is not None and (hook.url, hook.secret) == (url, "SEC+/=secret")
    assert "tok123456" not in repr(hook) and "SEC" not in repr(hook)
