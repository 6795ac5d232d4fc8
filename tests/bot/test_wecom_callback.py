"""The callback server over HTTP, driven the way WeCom calls it (tests.fakes.wecom_api)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from bot.wecom.callback import CallbackServer, RecentKeys, ReplayGuard, callback_app
from bot.wecom.mapping import Inbound, to_incoming
from domain.events import EventKind
from tests.bot.wecom_support import callback_crypto, served
from tests.clocks import Ticker
from tests.fakes.wecom_api import AES_KEY, TOKEN, WeComCallbacks, frame, padding, seal

USER = "ZhangSan"
EPOCH = 1_780_000_000.0  # seconds since the epoch where the clock of WeCom and the bot starts


@dataclass
class Handler:
    """The background handler: records what it is given; may hold until `gate` opens."""

    taken: list[Inbound] = field(default_factory=list)
    gate: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    finished: list[Inbound] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, message: Inbound) -> None:
        self.taken.append(message)
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("the handler broke")
        self.finished.append(message)


@dataclass
class Rig:
    server: CallbackServer
    handler: Handler
    wecom: WeComCallbacks
    clock: Ticker  # seconds since the epoch, shared by WeCom and the bot
    runner: web.AppRunner
    on_shutdown: list[asyncio.Event]  # set when the app shuts down, before it drains


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock, handler = Ticker(EPOCH), Handler()
    server = CallbackServer(callback_crypto(), handler, replay=ReplayGuard(now=clock),
                            recent=RecentKeys())
    on_shutdown: list[asyncio.Event] = []

    async def before_drain(_app: web.Application) -> None:
        for event in on_shutdown:
            event.set()

    app = callback_app(server, extra=lambda app: app.on_shutdown.insert(0, before_drain))
    async with aiohttp.ClientSession() as session, served(app) as site:
        wecom = WeComCallbacks(site.url, session, now=clock)
        yield Rig(server, handler, wecom, clock, site.runner, on_shutdown)
        if handler.gate is not None:
            handler.gate.set()


async def settled(rig: Rig) -> None:
    await rig.server.drain()


# --- the URL check and messages --------------------------------------------------------------

async def test_url_check_answers_the_plaintext_bare(rig: Rig) -> None:
    answer = await rig.wecom.url_check("1288432023552776189")
    assert answer.status == 200
    assert answer.text == "1288432023552776189"  # no quotes, BOM or newline


async def test_a_text_is_acknowledged_and_handled(rig: Rig) -> None:
    answer = await rig.wecom.text(USER, "/status 毛绒")
    await settled(rig)
    assert (answer.status, answer.text) == (200, "")
    [message] = rig.handler.finished
    assert (message.from_user, message.msg_type, message.content) == (USER, "text", "/status 毛绒")
    event = to_incoming(message)
    assert event is not None
    assert (event.channel, event.chat_id, event.user_id, event.kind, event.command, event.args) \
        == ("wecom", USER, USER, EventKind.COMMAND, "status", "毛绒")
    assert event.receipts == (f"m:{message.msg_id}",)


async def test_the_answer_does_not_wait_for_the_handler(rig: Rig) -> None:
    rig.handler.gate = asyncio.Event()  # the handler takes as long as it likes
    started = time.monotonic()
    answer = await rig.wecom.text(USER, "今天的日报")
    elapsed = time.monotonic() - started
    await rig.handler.started.wait()
    assert answer.status == 200 and elapsed < 1.0
    assert rig.handler.finished == [] and len(rig.server.tasks) == 1
    rig.handler.gate.set()
    await settled(rig)
    assert len(rig.handler.finished) == 1


async def test_draining_waits_for_messages_in_hand(rig: Rig) -> None:
    rig.handler.gate = asyncio.Event()
    await rig.wecom.text(USER, "1")
    await rig.handler.started.wait()
    drain = asyncio.create_task(rig.server.drain())
    for _ in range(5):
        await asyncio.sleep(0)  # let the drain run as far as it can: it must be waiting
    assert not drain.done()
    rig.handler.gate.set()
    await drain
    assert len(rig.handler.finished) == 1


async def test_shutdown_handles_what_was_taken(rig: Rig) -> None:
    rig.handler.gate = asyncio.Event()
    rig.on_shutdown.append(rig.handler.gate)  # released only once shutting down has begun
    await rig.wecom.text(USER, "2")
    await rig.handler.started.wait()
    await rig.runner.cleanup()
    assert len(rig.handler.finished) == 1 and not rig.server.tasks


async def test_wecom_retries_with_the_same_msgid_are_handled_once(rig: Rig) -> None:
    first = await rig.wecom.text(USER, "35")
    retries = [await rig.wecom.retry() for _ in range(3)]
    await settled(rig)
    assert [a.status for a in (first, *retries)] == [200] * 4
    assert len(rig.handler.taken) == 1
    assert rig.server.retries == 3


async def test_two_messages_are_two(rig: Rig) -> None:
    await rig.wecom.text(USER, "35")
    await rig.wecom.text(USER, "35")  # typed twice: new MsgId
    await settled(rig)
    assert [m.content for m in rig.handler.taken] == ["35", "35"]


async def test_an_image_a_location_and_events_are_read(rig: Rig) -> None:
    rig.wecom.fake = None
    xml = (rig.wecom._head(USER, "image", None)
           + "<PicUrl><![CDATA[http://p/1.jpg]]></PicUrl><MediaId><![CDATA[M1]]></MediaId>"
           + rig.wecom._tail(42))
    await rig.wecom.post_xml(xml)
    await rig.wecom.location(USER, 32.68, 109.02, label="汉滨区")
    await rig.wecom.click(USER, "/report")
    await rig.wecom.enter_agent(USER)
    await rig.wecom.card_event(USER, "f:abc:2:1", "task_1")
    await settled(rig)
    image, place, click, enter, card = rig.handler.taken
    assert (image.msg_type, image.media_id, image.pic_url) == ("image", "M1", "http://p/1.jpg")
    assert place.location is not None and (place.location.lat, place.location.lon) == (32.68,
                                                                                       109.02)
    assert place.label == "汉滨区"
    assert (click.event, click.event_key) == ("click", "/report")
    assert enter.event == "enter_agent" and to_incoming(enter) is None
    assert (card.event, card.event_key, card.task_id, card.response_code) == (
        "template_card_event", "f:abc:2:1", "task_1", "RC-unregistered")
    kinds = [e.kind if (e := to_incoming(m)) else None for m in (place, click, card)]
    assert kinds == [EventKind.LOCATION, EventKind.BUTTON, EventKind.BUTTON]


async def test_events_are_deduplicated_by_sender_and_time(rig: Rig) -> None:
    at = int(rig.clock.now)
    key = "<EventKey><![CDATA[/my]]></EventKey>"
    await rig.wecom.post_xml(rig.wecom.event_xml(USER, "click", key, created=at))
    await rig.wecom.retry()
    await rig.wecom.post_xml(rig.wecom.event_xml(USER, "click", key, created=at + 1))
    await rig.wecom.post_xml(rig.wecom.event_xml("LiSi", "click", key, created=at))
    await settled(rig)
    assert [(m.from_user, m.create_time) for m in rig.handler.taken] == [
        (USER, at), (USER, at + 1), ("LiSi", at)]


async def test_a_failing_handler_is_logged_and_the_server_goes_on(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.handler.fail = True
    with caplog.at_level(logging.ERROR):
        await rig.wecom.text(USER, "1")
        await settled(rig)
    assert "handling m:" in caplog.text
    rig.handler.fail = False
    assert (await rig.wecom.text(USER, "2")).status == 200
    await settled(rig)
    assert [m.content for m in rig.handler.finished] == ["2"]


# --- refusals: nothing handled, one log line each -------------------------------------------

def _bad_padding(xml: str) -> str:
    framed = frame(xml)
    return seal(framed, pad=bytes([33]) * len(padding(len(framed))))


async def _forged_signature(rig: Rig) -> int:
    return (await rig.wecom.post_encrypted(rig.wecom.encrypt(rig.wecom.text_xml(USER, "1")),
                                           signature="0" * 40)).status


async def _wrong_corp(rig: Rig) -> int:
    xml = rig.wecom.text_xml(USER, "1")
    return (await rig.wecom.post_encrypted(rig.wecom.encrypt(xml, receiver="ww_other"))).status


async def _bad_base64(rig: Rig) -> int:
    return (await rig.wecom.post_encrypted("not*base64!")).status


async def _bad_padding_value(rig: Rig) -> int:
    return (await rig.wecom.post_encrypted(_bad_padding(rig.wecom.text_xml(USER, "1")))).status


async def _stale(rig: Rig) -> int:
    stale = str(int(rig.clock.now) - 301)
    return (await rig.wecom.post_xml(rig.wecom.text_xml(USER, "1"), timestamp=stale)).status


async def _from_the_future(rig: Rig) -> int:
    ahead = str(int(rig.clock.now) + 301)
    return (await rig.wecom.post_xml(rig.wecom.text_xml(USER, "1"), timestamp=ahead)).status


async def _doctype(rig: Rig) -> int:
    xml = '<!DOCTYPE xml [<!ENTITY a "aaaa">]>' + rig.wecom.text_xml(USER, "&a;")
    return (await rig.wecom.post_xml(xml)).status


async def _too_big(rig: Rig) -> int:
    return (await rig.wecom.post_xml(rig.wecom.text_xml(USER, "长" * 30_000))).status


async def _forged_url_check(rig: Rig) -> int:
    return (await rig.wecom.url_check(signature="f" * 40)).status


@pytest.mark.parametrize(("forge", "status", "reason"), [
    (_forged_signature, 403, "signature"),
    (_wrong_corp, 403, "receiver"),
    (_bad_base64, 400, "base64"),
    (_bad_padding_value, 400, "decrypt"),
    (_stale, 403, "replay"),
    (_from_the_future, 403, "replay"),
    (_doctype, 400, "xml"),
    (_too_big, 413, "size"),
    (_forged_url_check, 403, "signature"),
])
async def test_refused_with_nothing_handled_and_one_log_line(
        rig: Rig, caplog: pytest.LogCaptureFixture, forge: object, status: int,
        reason: str) -> None:
    with caplog.at_level(logging.DEBUG):
        got = await forge(rig)  # type: ignore[operator]
        await settled(rig)
    assert got == status
    assert rig.handler.taken == []
    lines = [r for r in caplog.records if r.name.startswith(("bot.", "aiohttp"))]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].levelno == logging.WARNING and f"({reason})" in lines[0].getMessage()
    assert rig.server.refusals == {reason: 1}
    assert TOKEN not in caplog.text and AES_KEY not in caplog.text


async def test_a_replayed_request_is_refused(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    assert (await rig.wecom.text(USER, "签收")).status == 200
    await settled(rig)
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        again = await rig.wecom.replay()  # the same nonce, timestamp and signature
        await settled(rig)
    assert again.status == 403
    assert len(rig.handler.taken) == 1
    lines = [r for r in caplog.records if r.name.startswith("bot.")]
    assert len(lines) == 1 and "(replay)" in lines[0].getMessage()


async def test_a_nonce_is_forgotten_after_the_window(rig: Rig) -> None:
    await rig.wecom.text(USER, "1", msg_id=1)
    assert rig.wecom.last is not None
    rig.clock.now += 700  # two windows on: the nonce may come again (with a new timestamp)
    assert (await rig.wecom.post_xml(rig.wecom.text_xml(USER, "2", msg_id=2),
                                     nonce=rig.wecom.last.query["nonce"])).status == 200
    await settled(rig)
    assert len(rig.handler.taken) == 2


def test_replay_guard_bounds_its_memory() -> None:
    clock = Ticker(EPOCH)
    guard = ReplayGuard(now=clock, capacity=3)
    for nonce in "abcd":
        guard.check(str(int(clock.now)), nonce)
    guard.check(str(int(clock.now)), "a")  # the oldest was dropped to make room
