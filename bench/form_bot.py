"""The form-shaped baseline of `bench/telegram_forms.py`: a bare aiogram 3 bot (no fieldbot
code) making, for each update, the Bot API calls and the SQLite commit a fieldbot form step
makes, and nothing else.

Run: `.venv/bin/python bench/form_bot.py API_BASE TOKEN DATABASE` (the benchmark starts it).

- a text: one row committed, then one sendMessage with an inline keyboard (the next question);
- a photo: getFile + download (into a file, removed afterwards), one row committed, then one
  sendMessage with an inline keyboard;
- a button press: one row committed, then answerCallbackQuery, the pressed message marked
  (editMessageText "… ✔ label", dropping its keyboard, as fieldbot does) and the next question
  (sendMessage with an inline keyboard), the three at once.

The row goes through aiosqlite to a SQLite file in WAL mode, synchronous=NORMAL (fieldbot's
pragmas, `storage/db.py`), one transaction per update. Like fieldbot, an update is confirmed to
Telegram (by the next getUpdates offset) only once it has been handled: a minimal polling loop
over `Dispatcher.feed_update`, updates handled concurrently, the oldest one in hand bounding
the offset. Updates in hand come back with every poll until confirmed, so polls answer plain
dicts and only new updates are parsed; aiogram's `Response[...]` classes are held alive (see
`bot.telegram.transport.pin_response_types`) — both so that this is the least such a bot does,
not a cost fieldbot has already removed.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import aiosqlite
from aiogram import Bot, Dispatcher, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

BUSY_POLL = 0.2  # seconds between polls while updates are in hand and none finishes
MIN_POLL_GAP = 0.005  # seconds: polls on finished updates, a burst of them asked for at once
LABELS = ("施工中", "完成", "跳过", "否", "确认提交", "确认是")
KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[
    [InlineKeyboardButton(text=label, callback_data=f"form:step:{i}")]
    for i, label in enumerate(LABELS)])
QUESTION = "请填写下一项（示例问题，与 fieldbot 的提问长度相近）："

dispatcher = Dispatcher()


class Store:
    """One aiosqlite connection; a lock keeps each update's transaction to itself."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self.lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> Store:
        db = await aiosqlite.connect(path, timeout=5.0)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000",
                       "synchronous=NORMAL"):
            await db.execute(f"PRAGMA {pragma}")
        await db.execute("CREATE TABLE IF NOT EXISTS step (update_id INTEGER PRIMARY KEY,"
                         " chat_id INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT,"
                         " at REAL NOT NULL)")
        await db.commit()
        return cls(db)

    async def record(self, update_id: int, chat_id: int, kind: str, payload: str) -> None:
        async with self.lock:
            await self.db.execute("INSERT INTO step VALUES (?, ?, ?, ?, ?)",
                                  (update_id, chat_id, kind, payload, time.time()))
            await self.db.commit()


@dispatcher.message()
async def on_message(message: Message, bot: Bot, store: Store, update_id: int,
                     files: Path) -> None:
    payload = message.text or ""
    if message.photo:
        size = message.photo[-1]
        path = files / f"{message.chat.id}-{message.message_id}-{size.file_unique_id}.jpg"
        await bot.download(size.file_id, destination=path)
        payload = str(path)
        try:
            await store.record(update_id, message.chat.id, "photo", payload)
        finally:
            path.unlink(missing_ok=True)
    else:
        await store.record(update_id, message.chat.id, "text", payload)
    await bot.send_message(message.chat.id, QUESTION, reply_markup=KEYBOARD)


@dispatcher.callback_query()
async def on_press(query: CallbackQuery, bot: Bot, store: Store, update_id: int) -> None:
    message = query.message
    chat_id = message.chat.id if isinstance(message, Message) else query.from_user.id
    await store.record(update_id, chat_id, "press", query.data or "")
    calls: list[Any] = [bot.answer_callback_query(query.id),
                        bot.send_message(chat_id, QUESTION, reply_markup=KEYBOARD)]
    if isinstance(message, Message) and message.text is not None:
        label = next((b.text for row in (message.reply_markup.inline_keyboard
                                         if message.reply_markup else [])
                      for b in row if b.callback_data == query.data), "?")
        calls.append(bot.edit_message_text(text=f"{message.text}\n\n✔ {label}",
                                           chat_id=chat_id, message_id=message.message_id))
    await asyncio.gather(*calls)


class FetchUpdates(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates answering plain dicts: updates in hand come back until confirmed."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


async def poll(bot: Bot, store: Store, files: Path, stop: asyncio.Event) -> None:
    """Long polling, an update confirmed (by the next offset) only once handled."""
    last = 0
    in_hand: dict[int, asyncio.Task[Any]] = {}
    progress = asyncio.Event()

    def finished(update_id: int) -> None:
        in_hand.pop(update_id, None)
        progress.set()

    while not stop.is_set():
        offset = min(in_hand) if in_hand else (last + 1 if last else None)
        progress.clear()
        raw = await bot(FetchUpdates(offset=offset, timeout=0 if in_hand else 25,
                                     allowed_updates=["message", "callback_query"]),
                        request_timeout=40)
        for item in raw:
            update_id = item["update_id"]
            if update_id in in_hand or update_id <= last:
                continue
            last = update_id
            update = Update.model_validate(item, context={"bot": bot})
            task = asyncio.create_task(dispatcher.feed_update(
                bot, update, store=store, update_id=update_id, files=files))
            task.add_done_callback(lambda _t, u=update_id: finished(u))  # type: ignore[misc]
            in_hand[update_id] = task
        if in_hand:  # ask again once one has finished (to confirm it), or for new ones
            polled = time.monotonic()
            with suppress(TimeoutError):
                await asyncio.wait_for(progress.wait(), BUSY_POLL)
            if (rest := MIN_POLL_GAP - (time.monotonic() - polled)) > 0:
                await asyncio.sleep(rest)


async def main(api_base: str, token: str, database: str) -> None:
    pinned = [Response[m.__returning__]  # type: ignore[name-defined]
              for m in (methods.SendMessage, methods.EditMessageText, methods.GetFile,
                        methods.AnswerCallbackQuery, FetchUpdates)]
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    bot = Bot(token, session=session)
    store = await Store.open(database)
    files = Path(database).with_name("form_bot_files")
    files.mkdir(exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    polling = asyncio.create_task(poll(bot, store, files, stop))
    try:
        await asyncio.wait([polling, asyncio.create_task(stop.wait())],
                           return_when=asyncio.FIRST_COMPLETED)
        if polling.done():
            polling.result()  # a polling failure ends the bot, loudly
        polling.cancel()
    finally:
        await store.db.close()
        await bot.session.close()
    del pinned


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
