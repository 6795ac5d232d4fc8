"""The WeCom transport end to end: WeCom's callbacks in, a handler, replies out to the fake."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from bot.i18n import translator
from bot.wecom.callback import CallbackServer, ReplayGuard, callback_app
from bot.wecom.limits import WeComLimiter
from bot.wecom.port import WeComPort
from bot.wecom.transport import WeComBot
from domain.events import Button, EventKind, Incoming, Outgoing
from reminders.delivery import Blocked, PermanentFailure, RetryAfter, TemporaryFailure
from tests.bot.wecom_support import api_client, callback_crypto, served
from tests.clocks import Ticker
from tests.fakes.wecom_api import FakeWeCom, WeComCallbacks

USER = "WangLei"
OTHER = "LiNa"


@dataclass
class Core:
    """Stands in for the router: records events, answers what `answer` says."""

    events: list[Incoming] = field(default_factory=list)
    answer: Callable[[Incoming], list[Outgoing]] = lambda e: [Outgoing(text=f"收到：{e.text}")]
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    seen_files: list[bytes] = field(default_factory=list)
    arrived: defaultdict[str, asyncio.Event] = field(
        default_factory=lambda: defaultdict(asyncio.Event))

    async def __call__(self, event: Incoming) -> list[Outgoing]:
        self.events.append(event)
        self.arrived[event.text].set()
        if (gate := self.gates.get(event.text)) is not None:
            await gate.wait()
        self.seen_files.extend(a.path.read_bytes() for a in event.attachments)
        return self.answer(event)


@dataclass
class Rig:
    fake: FakeWeCom
    wecom: WeComCallbacks
    bot: WeComBot
    server: CallbackServer
    core: Core
    ticker: Ticker  # the transport's monotonic clock
    files: Path

    async def settled(self) -> None:
        await self.server.drain()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    ticker = Ticker(5000.0)
    core = Core()
    async with FakeWeCom(now=ticker) as fake, aiohttp.ClientSession() as session:
        api = api_client(session, fake.base_url, monotonic=ticker,
                         max_download=100_000)
        bot = WeComBot(api, core, limiter=WeComLimiter(), files_dir=tmp_path / "incoming",
                       texts=translator, monotonic=ticker, sleep=ticker.sleep)
        server = CallbackServer(callback_crypto(), bot.on_message, replay=ReplayGuard())
        async with served(callback_app(server)) as site:
            wecom = WeComCallbacks(site.url, session, fake=fake)
            try:
                yield Rig(fake, wecom, bot, server, core, ticker, tmp_path / "incoming")
            finally:
                for gate in core.gates.values():
                    gate.set()


def buttons(*labels: str) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(label, f"data:{n}"),) for n, label in enumerate(labels, 1))


# --- in and out ----------------------------------------------------------------------------------

async def test_a_text_reaches_the_handler_and_its_reply_is_sent(rig: Rig) -> None:
    answer = await rig.wecom.text(USER, "/my")
    await rig.settled()
    assert answer.status == 200
    [event] = rig.core.events
    assert (event.channel, event.user_id, event.kind, event.command) == ("wecom", USER,
                                                                          EventKind.COMMAND, "my")
    assert [(s.touser, s.msgtype, s.text) for s in rig.fake.sent] == [(USER, "text", "收到：/my")]


async def test_a_retried_callback_is_answered_once(rig: Rig) -> None:
    await rig.wecom.text(USER, "35")
    await rig.wecom.retry()
    await rig.wecom.retry()
    await rig.settled()
    assert len(rig.core.events) == 1 and len(rig.fake.sent) == 1


async def test_buttons_become_a_card_and_a_press_marks_it(rig: Rig) -> None:
    rig.core.answer = lambda e: ([Outgoing(text="日报 · 毛绒文创产业园\n现场状态？",
                                           buttons=buttons("施工中", "停工", "未开工"))]
                                 if e.kind is not EventKind.BUTTON
                                 else [Outgoing(text=f"选择了 {e.button_data}")])
    await rig.wecom.text(USER, "/report")
    await rig.settled()
    [card] = rig.fake.sent
    assert card.msgtype == "template_card"
    assert card.content["main_title"]["title"] == "日报 · 毛绒文创产业园"
    assert card.content["sub_title_text"] == "现场状态？"
    assert card.buttons == [("施工中", "data:1"), ("停工", "data:2"), ("未开工", "data:3")]
    await rig.wecom.press(USER, "停工")
    await rig.settled()
    pressed = rig.core.events[-1]
    assert (pressed.kind, pressed.button_data) == (EventKind.BUTTON, "data:2")
    assert rig.fake.card_updates[0]["button"] == {"replace_name": "✔ 停工"}
    assert rig.fake.sent[-1].text == "选择了 data:2"


async def test_a_refused_press_closes_the_card_and_says_why(rig: Rig) -> None:
    rig.core.answer = lambda e: ([Outgoing(text="这个按钮已过期", refusal=True)]
                                 if e.kind is EventKind.BUTTON
                                 else [Outgoing(text="?", buttons=buttons("是", "否"))])
    await rig.wecom.text(USER, "/problem")
    await rig.settled()
    await rig.wecom.press(USER, "是")
    await rig.settled()
    assert rig.fake.card_updates[0]["button"] == {"replace_name": "已失效"}
    assert rig.fake.sent[-1].text == "这个按钮已过期"


async def test_a_long_question_goes_before_its_card(rig: Rig) -> None:
    summary = "\n".join(f"第{n}项：{'内容' * 10}" for n in range(12)) + "\n确认提交吗？"
    rig.core.answer = lambda e: [Outgoing(text=summary, buttons=buttons("提交", "修改"))]
    await rig.wecom.text(USER, "x")
    await rig.settled()
    text, card = rig.fake.sent
    assert (text.msgtype, text.text) == ("text", summary)
    assert card.content["main_title"]["title"] == "确认提交吗？"


async def test_more_than_six_buttons_are_numbered_and_a_number_presses_one(rig: Rig) -> None:
    many = buttons(*(f"项目{n}" for n in range(1, 9)))
    rig.core.answer = lambda e: ([Outgoing(text="选哪个项目？", buttons=many)]
                                 if e.text == "/report" else [Outgoing(text="好的")])
    await rig.wecom.text(USER, "/report")
    await rig.settled()
    [numbered] = rig.fake.sent
    assert numbered.msgtype == "text"
    assert "7. 项目7" in numbered.text and "8. 项目8" in numbered.text
    assert "回复序号" in numbered.text
    await rig.wecom.text(USER, "７")  # full-width, as phones often type it
    await rig.settled()
    assert (rig.core.events[-1].kind, rig.core.events[-1].button_data) == (EventKind.BUTTON,
                                                                           "data:7")
    await rig.wecom.text(USER, "2")  # the reply had no options: "2" is text again
    await rig.settled()
    assert (rig.core.events[-1].kind, rig.core.events[-1].text) == (EventKind.TEXT, "2")


async def test_options_are_lettered_while_a_typed_answer_is_expected(rig: Rig) -> None:
    rig.core.answer = lambda e: [Outgoing(text="今天现场多少人？", expects_text=True,
                                          buttons=buttons(*(f"选项{n}" for n in range(7))))]
    await rig.wecom.text(USER, "/report")
    await rig.settled()
    assert "a. 选项0" in rig.fake.sent[0].text
    await rig.wecom.text(USER, "2")
    await rig.settled()
    assert (rig.core.events[-1].kind, rig.core.events[-1].text) == (EventKind.TEXT, "2")
    await rig.wecom.text(USER, "b")
    await rig.settled()
    assert rig.core.events[-1].button_data == "data:2"


async def test_a_number_naming_no_option_is_refused_at_the_edge(rig: Rig) -> None:
    rig.core.answer = lambda e: [Outgoing(text="选：", buttons=buttons(*"ABCDEFGH"))]
    await rig.wecom.text(USER, "/x")
    await rig.settled()
    await rig.wecom.text(USER, "12")
    await rig.settled()
    assert len(rig.core.events) == 1
    assert rig.fake.sent[-1].text == "没有编号 12 的选项，请回复 1 到 8 之间的数字。"
    await rig.wecom.text(USER, "3")  # the options still stand after the notice
    await rig.settled()
    assert rig.core.events[-1].button_data == "data:3"


async def test_a_photo_is_fetched_for_the_handler_and_removed_after(rig: Rig) -> None:
    await rig.wecom.image(USER, b"\xff\xd8\xff a photo of the site", filename="site.jpg")
    await rig.settled()
    [event] = rig.core.events
    assert event.kind is EventKind.PHOTO
    assert event.attachments[0].filename == "site.jpg"
    assert event.attachments[0].mime_type == "image/jpeg"
    assert rig.core.seen_files == [b"\xff\xd8\xff a photo of the site"]
    assert not event.attachments[0].path.exists()


async def test_too_big_a_photo_is_refused_with_a_message(rig: Rig) -> None:
    await rig.wecom.image(USER, b"x" * 100_001)
    await rig.settled()
    assert rig.core.events == []
    assert "图片太大" in rig.fake.sent[-1].text


async def test_a_location_arrives_as_one(rig: Rig) -> None:
    await rig.wecom.location(USER, 32.68, 109.02, label="汉滨区")
    await rig.settled()
    [event] = rig.core.events
    assert event.kind is EventKind.LOCATION and event.location is not None
    assert (event.location.lat, event.location.lon) == (32.68, 109.02)


async def test_an_image_reply_is_uploaded_and_sent_after_its_text(rig: Rig) -> None:
    rig.core.answer = lambda e: [Outgoing(text="本周汇总", image=b"\x89PNG chart",
                                          image_name="chart.png")]
    await rig.wecom.text(USER, "/digest")
    await rig.settled()
    text, image = rig.fake.sent
    assert (text.msgtype, text.text, image.msgtype) == ("text", "本周汇总", "image")
    media = rig.fake.media[image.content["media_id"]]
    assert (media.data, media.filename, media.content_type) == (b"\x89PNG chart", "chart.png",
                                                                "image/png")


async def test_a_long_text_is_split_within_wecoms_limit(rig: Rig) -> None:
    long = "\n".join("汉滨区毛绒文创产业园今日施工正常。" * 4 for _ in range(40))
    rig.core.answer = lambda e: [Outgoing(text=long)]
    await rig.wecom.text(USER, "x")
    await rig.settled()
    parts = [s.text for s in rig.fake.sent]
    assert len(parts) > 1 and all(len(p.encode()) <= 2048 for p in parts)
    assert "\n".join(parts) == long


async def test_a_members_messages_keep_their_order_others_go_on(rig: Rig) -> None:
    rig.core.gates["first"] = asyncio.Event()
    await rig.wecom.text(USER, "first")
    await rig.wecom.text(USER, "second")
    await rig.wecom.text(OTHER, "meanwhile")
    await rig.core.arrived["meanwhile"].wait()  # served while the first member's waits
    assert [e.text for e in rig.core.events] == ["first", "meanwhile"]
    rig.core.gates["first"].set()
    await rig.settled()
    assert [e.text for e in rig.core.events] == ["first", "meanwhile", "second"]
    assert [s.text for s in rig.fake.messages_to(USER)] == ["收到：first", "收到：second"]


# --- limits and failures --------------------------------------------------------------------------

async def test_replies_keep_wecoms_per_member_limit(rig: Rig) -> None:
    rig.core.answer = lambda e: [Outgoing(text=f"第{n}条") for n in range(35)]
    await rig.wecom.text(USER, "x")
    await rig.settled()
    assert len(rig.fake.sent) == 35 and rig.fake.violations == []
    assert rig.ticker.slept and sum(rig.ticker.slept) >= 60  # the 31st waited a minute


async def test_a_rate_limited_reply_waits_and_goes(rig: Rig) -> None:
    rig.fake.fail("message/send", errcode=45009)
    await rig.wecom.text(USER, "x")
    await rig.settled()
    assert [s.text for s in rig.fake.sent] == ["收到：x"]
    assert rig.ticker.slept == [5.0]  # the back-off WeCom's 45009 asked for, on the clock


def test_the_limiter_counts_a_minute_and_an_hour_per_member() -> None:
    limiter = WeComLimiter(per_member_per_minute=30, per_member_per_hour=1000)
    now = last = 0.0
    sent = 0
    while now < 3600:  # send as fast as allowed for an hour
        slot = limiter.try_acquire(USER, group=False, now=now)
        if slot is None:
            now = limiter.free_at(USER, group=False, now=now)
            continue
        limiter.done(slot, now)
        sent, last = sent + 1, now
    assert sent == 1000  # 30 a minute would allow 1,800: the hour's 1,000 holds
    assert limiter.free_at(USER, group=False, now=last) == 3600.0  # the first one an hour on
    assert limiter.try_acquire(OTHER, group=False, now=last) is not None  # per member


async def test_the_outbox_port_maps_wecoms_answers(rig: Rig) -> None:
    port = WeComPort(rig.bot)
    await port.deliver(USER, Outgoing(text="提醒"), group=False)
    rig.fake.invalid_users.add("Gone")
    with pytest.raises(Blocked):
        await port.deliver("Gone", Outgoing(text="提醒"), group=False)
    rig.fake.fail("message/send", errcode=45009)
    with pytest.raises(RetryAfter) as raised:
        await port.deliver(USER, Outgoing(text="提醒"), group=False)
    assert raised.value.seconds == 5.0
    rig.fake.fail("message/send", status=503)
    with pytest.raises(TemporaryFailure):
        await port.deliver(USER, Outgoing(text="提醒"), group=False)
    rig.fake.fail("message/send", errcode=40058)
    with pytest.raises(PermanentFailure):
        await port.deliver(USER, Outgoing(text="提醒"), group=False)
    with pytest.raises(PermanentFailure):
        await port.deliver("group-chat", Outgoing(text="提醒"), group=True)
    assert [s.text for s in rig.fake.sent] == ["提醒"]


async def test_the_outbox_slot_is_used_for_the_first_call(rig: Rig) -> None:
    port = WeComPort(rig.bot)
    slot = port.limiter.try_acquire(USER, group=False, now=rig.ticker.now)
    assert slot is not None
    await port.deliver(USER, Outgoing(text="提醒", image=b"png", image_name="c.png"),
                       group=False, slot=slot)
    port.limiter.done(slot, rig.ticker.now)  # the sender stamps its own slot
    assert [s.msgtype for s in rig.fake.sent] == ["text", "image"]
    assert port.limiter.free_at(USER, group=False, now=rig.ticker.now) == rig.ticker.now


async def test_a_reply_is_retried_after_a_server_error_and_given_up_at_last(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.fake.fail("message/send", status=500)
    await rig.wecom.text(USER, "x")
    await rig.settled()
    assert [s.text for s in rig.fake.sent] == ["收到：x"] and rig.ticker.slept == [1.0]
    rig.fake.fail("message/send", status=502, times=4)
    await rig.wecom.text(USER, "y")
    await rig.settled()
    assert len(rig.fake.sent) == 1
    assert "given up after 4 tries" in caplog.text
