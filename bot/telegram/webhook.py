"""The webhook server (aiohttp) for running behind a reverse proxy.

Telegram POSTs each update with the secret token it was given in setWebhook; a request without
it is refused (401) and leaves nothing behind. The answer is given once the update has been
handled, so Telegram delivers it again if the process dies first.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import Update
from aiohttp import web

from bot.telegram.transport import TelegramBot

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  (a header's name, not a secret)
Health = Callable[[], Awaitable[dict[str, Any]]]


def webhook_app(telegram: TelegramBot, *, path: str, secret: str, health: Health,
                ) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning("telegram webhook: refused a request from %s: wrong secret token",
                           request.remote)
            return web.Response(status=401)
        try:
            update = Update.model_validate(await request.json(),
                                           context={"bot": telegram.bot})
        except (ValueError, json.JSONDecodeError):
            logger.warning("telegram webhook: refused a body that is not an update")
            return web.Response(status=400)
        await telegram.feed(update)
        return web.Response(status=200)

    async def healthz(_request: web.Request) -> web.Response:
        report = await health()
        return web.json_response(report, status=200 if report.get("ok") else 503)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", healthz)
    return app
