"""The fake Telegram Bot API, driven by the real aiogram client."""

from __future__ import annotations

import asyncio
import io
import itertools
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    MediaUnion,
    Message,
)
from PIL import Image

from tests.fakes.telegram_api import FakeTelegram, FloodLimits, SentMessage

USER = 1001
GROUP = -1001234567890


def jpeg(width: int, height: int, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="JPEG")
    return buffer.getvalue()


def make_bot(tg: FakeTelegram, token: str | None = None) -> Bot:
    api = TelegramAPIServer.from_base(tg.base_url)
    return Bot(token or tg.token, session=AiohttpSession(api=api))


async def close_bot(bot: Bot) -> None:
    # AiohttpSession.close() waits 250 ms for TLS connections to wind down; there is no TLS
    # here, so the aiohttp session underneath is closed directly.
    session = bot.session
    assert isinstance(session, AiohttpSession)
    if session._session is not None:
        await session._session.close()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(tg)
    yield client
    await close_bot(client)


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in pairs]]
    )


async def test_get_me(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (123456, True, "fieldbot_test_bot")
    assert [call.method for call in tg.calls] == ["getMe"]
    assert tg.base_url.startswith("http://127.0.0.1:")


async def test_get_updates_offset_confirms(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_group(GROUP, "城关镇项目群")
    first = tg.send_text(USER, "你好", first_name="张三")
    second = tg.send_text(USER, "/start@fieldbot_test_bot 邀请码", chat_id=GROUP)
    assert (first, second) == (1, 2)

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [1, 2]
    hello, command = (u.message for u in updates)
    assert hello is not None and command is not None
    assert (hello.text, hello.chat.type, hello.chat.id) == ("你好", "private", USER)
    assert hello.from_user is not None
    assert (hello.from_user.first_name, hello.from_user.language_code) == ("张三", "zh-hans")
    assert (command.chat.type, command.chat.title) == ("supergroup", "城关镇项目群")
    assert command.entities is not None
    entity = command.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 24)
    assert hello.message_id < command.message_id

    # Without an offset nothing is confirmed; offset=2 confirms update 1 only.
    assert [u.update_id for u in await bot.get_updates()] == [1, 2]
    assert [u.update_id for u in await bot.get_updates(offset=2)] == [2]
    assert await bot.get_updates(offset=3) == []
    assert tg.calls_of("getUpdates")[2].params == {"offset": 2}
    tg.send_text(USER, "一")
    tg.send_text(USER, "二")
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [3]


async def test_long_poll_returns_when_an_update_arrives(tg: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(offset=1, timeout=5))
    await tg.wait_for(lambda: len(tg.calls_of("getUpdates")) == 1)
    await asyncio.sleep(0.05)
    assert not poll.done()

    started = time.monotonic()
    update_id = tg.send_location(USER, 25.04, 102.71)
    updates = await poll

    assert time.monotonic() - started < 1.0
    assert [u.update_id for u in updates] == [update_id]
    location = updates[0].message.location if updates[0].message else None
    assert location is not None
    assert (location.latitude, location.longitude) == (25.04, 102.71)


async def test_second_concurrent_poll_conflicts(tg: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=1))
    await tg.wait_for(lambda: len(tg.calls_of("getUpdates")) == 1)

    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await bot.get_updates(timeout=1)

    assert await poll == []  # the first poll waited its full timeout
    assert 0.9 < time.monotonic() - started < 2.0


async def test_keyboard_press_round_trip_and_edit(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        USER, "确认提交？", reply_markup=keyboard(("确认", "confirm:7"), ("取消", "cancel:7"))
    )
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "confirm:7"
    message = tg.last_message_to(USER)
    assert message is not None
    assert message.reply_markup == {
        "inline_keyboard": [
            [
                {"text": "确认", "callback_data": "confirm:7"},
                {"text": "取消", "callback_data": "cancel:7"},
            ]
        ]
    }
    assert (message.message_id, message.kind, message.text) == (
        sent.message_id,
        "text",
        "确认提交？",
    )

    update_id = tg.press(USER, message, "confirm:7")
    updates = await bot.get_updates(offset=update_id)
    query = updates[0].callback_query
    assert query is not None
    assert query.data == "confirm:7"
    assert query.from_user.id == USER
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    await bot.answer_callback_query(query.id, text="已提交")
    assert tg.answered_callbacks[query.id]["text"] == "已提交"
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query(query.id)

    edited = await bot.edit_message_text("已提交。", chat_id=USER, message_id=sent.message_id)
    assert isinstance(edited, type(sent))
    assert (edited.text, edited.reply_markup) == ("已提交。", None)
    assert tg.messages_to(USER) == [message]  # the same object, edited in place
    assert (message.text, message.edits) == ("已提交。", 1)
    assert tg.messages_to(USER)[0].reply_markup is None
    with pytest.raises(ValueError, match="no button"):
        tg.press(USER, message, "confirm:7")  # the keyboard is gone

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("已提交。", chat_id=USER, message_id=sent.message_id)

    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=keyboard(("撤回", "undo:7"))
    )
    assert message.reply_markup == {
        "inline_keyboard": [[{"text": "撤回", "callback_data": "undo:7"}]]
    }
    assert message.edits == 2


async def test_send_photo_uploaded(tg: FakeTelegram, bot: Bot) -> None:
    image = jpeg(40, 30)

    sent = await bot.send_photo(GROUP, BufferedInputFile(image, "site.jpg"), caption="现场照片")

    assert sent.photo is not None
    assert (sent.photo[-1].width, sent.photo[-1].height) == (40, 30)
    assert (sent.caption, sent.chat.type) == ("现场照片", "supergroup")
    message = tg.last_message_to(GROUP)
    assert message is not None
    assert (message.kind, message.text, message.file_bytes) == ("photo", "现场照片", image)
    assert tg.calls_of("sendPhoto")[0].params["photo"] == image
    downloaded = await bot.download(sent.photo[-1].file_id)
    assert downloaded is not None
    assert downloaded.read() == image

    # Each send goes to a chat of its own: the per-chat flood limit is 1 message a second.
    document = await bot.send_document(USER, BufferedInputFile(b"a,b\n1,2\n", "weekly.csv"))
    assert document.document is not None
    assert (document.document.file_name, document.document.mime_type) == ("weekly.csv", "text/csv")
    # A file_id already known is sent again without upload.
    again = await bot.send_photo(USER + 1, sent.photo[-1].file_id)
    assert again.photo is not None
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    assert tg.messages_to(USER + 1)[-1].file_bytes == image


async def test_album_from_a_user(tg: FakeTelegram, bot: Bot) -> None:
    images = [jpeg(64, 48, "red"), jpeg(32, 24, "green"), jpeg(16, 12, "blue")]

    update_ids = tg.send_photos(USER, images, caption="三张现场照片")

    assert update_ids == [1, 2, 3]
    updates = await bot.get_updates()
    messages = [u.message for u in updates]
    assert all(m is not None for m in messages)
    group_ids = {m.media_group_id for m in messages if m is not None}
    assert len(group_ids) == 1
    assert None not in group_ids
    assert [m.caption for m in messages if m is not None] == ["三张现场照片", None, None]
    for message, image in zip(messages, images, strict=True):
        assert message is not None and message.photo is not None
        size = message.photo[-1]
        assert (size.width, size.file_size) == (Image.open(io.BytesIO(image)).width, len(image))
        file = await bot.get_file(size.file_id)
        assert file.file_path is not None and file.file_path.startswith("photos/")
        downloaded = await bot.download_file(file.file_path)
        assert downloaded is not None
        assert downloaded.read() == image

    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")

    [doc_update] = tg.send_photos(USER, [b"not really a jpeg"], as_document=True, filename="a.jpg")
    [update] = await bot.get_updates(offset=doc_update)
    assert update.message is not None and update.message.document is not None
    document = update.message.document
    assert (document.file_name, document.mime_type) == ("a.jpg", "image/jpeg")
    assert update.message.media_group_id is None
    downloaded = await bot.download(document.file_id)
    assert downloaded is not None
    assert downloaded.read() == b"not really a jpeg"


async def test_send_media_group(tg: FakeTelegram, bot: Bot) -> None:
    first, second = jpeg(20, 10), jpeg(10, 20)
    sent = await bot.send_media_group(
        USER,
        media=[
            InputMediaPhoto(media=BufferedInputFile(first, "1.jpg"), caption="第一张"),
            InputMediaPhoto(media=BufferedInputFile(second, "2.jpg")),
        ],
    )

    assert len(sent) == 2
    assert sent[0].media_group_id is not None
    assert sent[0].media_group_id == sent[1].media_group_id
    assert [m.caption for m in sent] == ["第一张", None]
    assert [(m.kind, m.file_bytes, m.text) for m in tg.delivered] == [
        ("photo", first, "第一张"),
        ("photo", second, ""),
    ]
    media = tg.calls_of("sendMediaGroup")[0].params["media"]
    assert [item["media"] for item in media] == [first, second]
    # The album counts as two messages in the chat's flood window.
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "第三条")
    assert "3 messages within 1 s (limit 1/s in this chat)" in tg.violations[0]

    docs = await bot.send_media_group(
        USER + 1,  # another chat: the per-chat flood limit is 1 message a second
        media=[
            InputMediaDocument(media=BufferedInputFile(b"1", "a.pdf")),
            InputMediaDocument(media=BufferedInputFile(b"2", "b.pdf")),
        ],
    )
    assert [d.document.file_name for d in docs if d.document] == ["a.pdf", "b.pdf"]
    alone: list[MediaUnion] = [InputMediaPhoto(media=BufferedInputFile(first, "1.jpg"))]
    with pytest.raises(TelegramBadRequest, match="wrong number of media"):
        await bot.send_media_group(USER + 2, media=alone)


async def test_fail_next_429(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", status=429, retry_after=7)

    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(USER, "第一次")
    assert raised.value.retry_after == 7
    await bot.send_message(USER, "第二次")

    assert [m.text for m in tg.delivered] == ["第二次"]
    assert [c.params["text"] for c in tg.calls_of("sendMessage")] == ["第一次", "第二次"]


async def test_blocked_user(tg: FakeTelegram, bot: Bot) -> None:
    tg.block(USER)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "提醒")
    await bot.send_message(USER + 1, "提醒")

    assert tg.messages_to(USER) == []
    assert [m.chat_id for m in tg.delivered] == [USER + 1]


async def test_server_errors_for_one_chat(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next(status=500, count=2, chat_id=USER)

    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(USER, "一")
    await bot.send_message(USER + 1, "别的用户")  # not this chat: unaffected, fault kept
    with pytest.raises(TelegramServerError):
        await bot.send_photo(USER, BufferedInputFile(jpeg(2, 2), "p.jpg"))
    await bot.send_message(USER, "三")

    assert [(m.chat_id, m.text) for m in tg.delivered] == [(USER + 1, "别的用户"), (USER, "三")]


async def test_per_chat_limit_enforced(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER, "一")
    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(USER, "二")

    assert raised.value.retry_after == 1
    assert [m.text for m in tg.delivered] == ["一"]
    assert len(tg.violations) == 1
    assert f"to chat {USER}" in tg.violations[0]
    assert "limit 1/s in this chat" in tg.violations[0]


async def test_limits_only_recorded_when_not_enforced() -> None:
    limits = FloodLimits(per_group_per_minute=3)
    async with FakeTelegram(limits=limits, enforce_limits=False) as tg:
        bot = make_bot(tg)
        try:
            for n in range(4):
                await bot.send_message(GROUP, f"第{n}条")
            await bot.send_message(USER, "一")
            await bot.send_message(USER, "二")
        finally:
            await close_bot(bot)

    assert len(tg.delivered) == 6
    assert len(tg.violations) == 2
    assert "4 messages within 60 s (limit 3/min in this group)" in tg.violations[0]
    assert f"to chat {USER}" in tg.violations[1]


async def test_time_scale_lets_a_fast_benchmark_keep_the_limits() -> None:
    # With time_scale=10 a real 0.1 s is a fake second: a sender paced at 30 messages per fake
    # second sends 300 messages per real second and keeps the default 30/s overall limit.
    async with FakeTelegram(time_scale=10) as tg:
        bot = make_bot(tg)
        try:
            started = time.monotonic()
            last = -1.0
            for n in range(60):
                delay = (last + 1 / 30 - tg.now()) / tg.time_scale
                if delay > 0:
                    await asyncio.sleep(delay)
                await bot.send_message(USER + n, "通知")
                last = tg.calls[-1].at
            elapsed = time.monotonic() - started
        finally:
            await close_bot(bot)

    assert tg.violations == []
    assert len(tg.delivered) == 60
    assert elapsed < 1.0  # two fake seconds; unscaled it would take two real seconds
    times = [call.at for call in tg.calls_of("sendMessage")]
    assert times[-1] - times[0] >= 59 / 30
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1 / 30


async def test_overall_limit_hit_by_a_burst() -> None:
    async with FakeTelegram(limits=FloodLimits(overall_per_second=10)) as tg:
        bot = make_bot(tg)
        try:
            results = await asyncio.gather(
                *(bot.send_message(USER + n, "通知") for n in range(15)), return_exceptions=True
            )
        finally:
            await close_bot(bot)

    refused = [r for r in results if isinstance(r, TelegramRetryAfter)]
    assert (len(tg.delivered), len(refused), len(tg.violations)) == (10, 5, 5)
    assert "11 messages within 1 s across all chats (limit 10/s)" in tg.violations[0]


async def test_set_my_commands_by_language(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="开始")], language_code="zh")
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="report", description="填报")],
        scope=BotCommandScopeAllGroupChats(),
        language_code="zh",
    )

    assert tg.commands == {
        ("default", "zh"): [{"command": "start", "description": "开始"}],
        ("default", ""): [{"command": "start", "description": "Start"}],
        ("all_group_chats", "zh"): [{"command": "report", "description": "填报"}],
    }
    zh = await bot.get_my_commands(language_code="zh")
    assert [(c.command, c.description) for c in zh] == [("start", "开始")]
    assert await bot.get_my_commands(language_code="en") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    intruder = make_bot(tg, token="654321:WRONG-TOKEN")  # noqa: S106 - not a real token
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await intruder.get_me()
    finally:
        await close_bot(intruder)
    assert tg.calls == []


async def test_unknown_method_is_not_found(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramNotFound):
        await bot.leave_chat(GROUP)
    assert [c.method for c in tg.calls] == ["leaveChat"]


async def test_redeliver_sends_the_same_update_again(tg: FakeTelegram, bot: Bot) -> None:
    update_id = tg.send_text(USER, "日报")
    [first] = await bot.get_updates()
    assert await bot.get_updates(offset=update_id + 1) == []

    tg.redeliver(update_id)
    [again] = await bot.get_updates(offset=update_id + 1)
    assert again.update_id == update_id == 1
    assert again.message is not None and again.message.text == "日报"
    assert first.message is not None
    assert again.message.message_id == first.message.message_id
    assert await bot.get_updates(offset=update_id + 1) == []  # confirmed again


async def test_wait_for_and_latency(tg: FakeTelegram, bot: Bot) -> None:
    tg.latency = 0.2
    started = time.monotonic()
    sending = asyncio.create_task(bot.send_message(USER, "慢"))
    [message] = await tg.wait_for_messages(USER, 1)
    assert isinstance(message, SentMessage)
    assert message.text == "慢"
    assert time.monotonic() - started >= 0.2
    await sending

    with pytest.raises(TimeoutError, match="sendMessage"):
        await tg.wait_for(lambda: False, timeout=0.05)


async def test_json_and_get_requests(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{tg.base_url}/bot{tg.token}/getMe") as response:
            body = await response.json()
        assert (response.status, body["ok"], body["result"]["id"]) == (200, True, 123456)

        payload = {
            "chat_id": USER,
            "text": "JSON",
            "reply_markup": {"inline_keyboard": [[{"text": "好", "callback_data": "ok"}]]},
        }
        async with http.post(f"{tg.base_url}/bot{tg.token}/sendMessage", json=payload) as response:
            body = await response.json()
        assert (response.status, body["result"]["reply_markup"]) == (200, payload["reply_markup"])

        async with http.post(f"{tg.base_url}/bot{tg.token}/noSuchMethod") as response:
            body = await response.json()
        assert (response.status, body["ok"], body["error_code"]) == (404, False, 404)

        async with http.get(f"{tg.base_url}/bot1:X/getMe") as response:
            body = await response.json()
        assert (response.status, body) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )


async def test_dispatcher_polling_restarts_without_conflict(tg: FakeTelegram, bot: Bot) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"收到：{message.text}")

    started = time.monotonic()
    for round_ in range(2):  # a stopped poll must not leave the next one a 409
        polling = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
        )
        polls_before = len(tg.calls_of("getUpdates"))

        def polling_again(before: int = polls_before) -> bool:
            return len(tg.calls_of("getUpdates")) > before

        await tg.wait_for(polling_again)
        tg.send_text(USER + round_, "日报")
        [reply] = await tg.wait_for_messages(USER + round_, 1)
        assert reply.text == "收到：日报"
        await dispatcher.stop_polling()
        await polling

    polls = tg.calls_of("getUpdates")
    assert polls[0].params["allowed_updates"] == ["message"]
    assert time.monotonic() - started < 1.0  # a 409 would have cost aiogram's 1 s backoff
    assert tg.violations == []
