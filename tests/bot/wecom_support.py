"""What the WeCom tests share: the bot's API client and callback keys for the fake WeCom
(`tests.fakes.wecom_api`), and the callback app served on loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bot.wecom.api import WeComApi
from bot.wecom.crypto import WXBizMsgCrypt
from tests.fakes.wecom_api import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN


def api_client(session: aiohttp.ClientSession, base_url: str, *, secret: str = SECRET,
               **options: Any) -> WeComApi:
    """The bot's WeCom client of the fake at `base_url`; `options` go to `WeComApi`."""
    return WeComApi(session, corp_id=CORP_ID, secret=SecretStr(secret), agent_id=AGENT_ID,
                    base_url=base_url, **options)


def callback_crypto() -> WXBizMsgCrypt:
    """The bot's side of the callback keys the fake signs and encrypts with."""
    return WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)


@dataclass(frozen=True)
class Served:
    url: str  # where WeCom posts its callbacks
    runner: web.AppRunner


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[Served]:
    """The callback app on a free loopback port until the block ends."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    try:
        yield Served(f"http://127.0.0.1:{sock.getsockname()[1]}/wecom/callback", runner)
    finally:
        await runner.cleanup()
