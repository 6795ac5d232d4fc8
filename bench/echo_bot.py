"""The baseline bot of `bench/telegram_forms.py`: a bare aiogram 3 echo bot, long polling.

Run: `.venv/bin/python bench/echo_bot.py API_BASE TOKEN` (the benchmark starts it itself).

One Dispatcher, one message handler answering every text with the same text; no database, no
limits, nothing else — the least any aiogram bot does per update on the same fake server.
"""

from __future__ import annotations

import asyncio
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

dispatcher = Dispatcher()


@dispatcher.message()
async def echo(message: Message) -> None:
    if message.text:
        await message.answer(message.text)


async def main(api_base: str, token: str) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    bot = Bot(token, session=session)
    try:
        await dispatcher.start_polling(bot, handle_signals=True)
    finally:
        await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
