"""WeCom assembled for `fieldbot run --channel wecom`: the API client, the transport, the
callback server and the outbox port, with their lifetimes (one HTTP session, closed on exit).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.wecom.api import Unavailable, WeComApi
from bot.wecom.callback import CallbackServer, ReplayGuard, callback_app
from bot.wecom.crypto import WXBizMsgCrypt
from bot.wecom.limits import WeComLimiter
from bot.wecom.port import WeComPort
from bot.wecom.settings import WeComSettings
from bot.wecom.transport import Handle, WeComBot
from handlers.context import Texts

logger = logging.getLogger(__name__)

Health = Callable[[], Awaitable[dict[str, Any]]]


class WeComNotConfigured(Exception):
    """Settings the channel needs are missing (the message names them, never a value)."""


@dataclass
class WeComChannel:
    settings: WeComSettings
    bot: WeComBot
    port: WeComPort
    server: CallbackServer
    limiter: WeComLimiter
    health: Health | None = None
    listening: asyncio.Event = field(default_factory=asyncio.Event)  # set once serving

    def app(self) -> web.Application:
        def add_health(app: web.Application) -> None:
            health = self.health
            if health is None:
                return

            async def healthz(_request: web.Request) -> web.Response:
                report = await health()
                return web.json_response(report, status=200 if report.get("ok") else 503)

            app.router.add_get("/healthz", healthz)

        return callback_app(self.server, path=self.settings.callback_path, extra=add_health)

    async def serve(self, stop: asyncio.Event) -> None:
        """The callback server until `stop`; then the messages in hand are handled."""
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.listen_host, self.settings.listen_port)
        await site.start()
        self.listening.set()
        logger.info("wecom: callback server on %s:%s%s", self.settings.listen_host,
                    self.settings.listen_port, self.settings.callback_path)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()  # runs the app's shutdown: waits for the messages in hand


@asynccontextmanager
async def open_channel(settings: WeComSettings, *, handle: Handle,
                       texts: Callable[[str | None], Texts], files_dir: Path,
                       language: str | None = None,
                       health: Health | None = None) -> AsyncIterator[WeComChannel]:
    """The channel, its credentials checked: BadSecret / NotTrusted / BadKey are raised here."""
    if (settings.corp_id is None or settings.agent_id is None or settings.secret is None
            or settings.token is None or settings.encoding_aes_key is None):
        raise WeComNotConfigured(", ".join(settings.missing()))
    crypto = WXBizMsgCrypt(settings.token.get_secret_value(),
                           settings.encoding_aes_key.get_secret_value(), settings.corp_id)
    limits = settings.limits
    limiter = WeComLimiter(per_member_per_minute=limits.per_member_per_minute,
                           per_member_per_hour=limits.per_member_per_hour,
                           overall_per_minute=limits.overall_per_minute)
    async with aiohttp.ClientSession() as session:
        api = WeComApi(session, corp_id=settings.corp_id, secret=settings.secret,
                       agent_id=settings.agent_id, base_url=settings.api_base,
                       timeout=settings.request_timeout_seconds,
                       max_download=int(settings.max_download_megabytes * 1024 * 1024))
        try:
            await api.token()  # a wrong secret stops the start, with the operator's message
        except Unavailable as exc:
            logger.warning("wecom: no access token yet (%s); callbacks are served anyway", exc)
        bot = WeComBot(api, handle, limiter=limiter, files_dir=files_dir, texts=texts,
                       language=language)
        server = CallbackServer(crypto, bot.on_message,
                                replay=ReplayGuard(settings.replay_window_seconds))
        yield WeComChannel(settings, bot, WeComPort(bot), server, limiter, health)
