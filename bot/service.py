"""`fieldbot run`: the channels, the outbox sender and their lifetimes, until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.bootstrap import App
from bot.config import Settings
from bot.i18n import translator
from bot.schedule import build_scheduler, run_scheduler
from bot.telegram.port import TelegramPort
from bot.telegram.transport import TelegramBot
from bot.telegram.webhook import webhook_app
from domain.model import OutboxState
from reminders.delivery import DeliveryPort
from reminders.limits import ChannelLimits, Limit, Limiter
from reminders.outbox import OutboxSender, SenderSettings
from reminders.robots import robot_ports, stored_targets
from storage.leader import LeaderLock

logger = logging.getLogger(__name__)

LANGUAGES = ("zh-CN", "en")
WEBHOOK_PATH = "/telegram/webhook"
RECEIPTS_KEPT = timedelta(days=7)


class NotConfigured(Exception):
    """A channel was asked for that the configuration does not describe (operator message)."""


def telegram_limits(settings: Settings) -> ChannelLimits:
    limits = settings.telegram.limits
    return ChannelLimits(overall=Limit(limits.overall_per_second, 1.0),
                         per_chat=Limit(limits.per_chat_per_second, 1.0),
                         per_group=Limit(limits.per_group_per_minute, 60.0))


def telegram_api(settings: Settings) -> Bot:
    token = settings.telegram.token
    if token is None:
        raise NotConfigured("telegram.token")
    session = (AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.api_base))
               if settings.telegram.api_base else AiohttpSession())
    return Bot(token.get_secret_value(), session=session)


async def serve(app: App, *, webhook: bool, stop: asyncio.Event,
                channels: Sequence[str] = ("telegram",)) -> None:
    """Run the chosen channels (Telegram, WeCom or both), one outbox sender delivering to them
    and to the digest robots, and the rhythms, until `stop`."""
    settings = app.settings
    robots = robot_ports(stored_targets(app.uow),
                         chart_note=translator(settings.language)("robot.chart_omitted"))
    ports: list[DeliveryPort] = []
    jobs: list[Coroutine[Any, Any, None]] = []
    try:
        async with AsyncExitStack() as stack:
            if "telegram" in channels:
                telegram = await stack.enter_async_context(_telegram(app, webhook=webhook))
                ports.append(TelegramPort(telegram))
                jobs.append(tidy(app, telegram.limiter, stop))
                jobs.append(serve_webhook(app, telegram, stop) if webhook
                            else telegram.poll(stop))
            if "wecom" in channels:
                from bot.wecom.channel import open_channel  # noqa: PLC0415 — only when it runs

                wecom = await stack.enter_async_context(open_channel(
                    settings.wecom, handle=app.router.handle, texts=translator,
                    files_dir=settings.data_dir / "incoming" / "wecom",
                    language=settings.language, health=lambda: health(app)))
                ports.append(wecom.port)
                jobs.append(tidy(app, wecom.limiter, stop))
                jobs.append(wecom.serve(stop))
            sender = OutboxSender(app.uow, app.clock, [*ports, *robots], texts_for=translator,
                                  settings=SenderSettings(
                                      concurrency=settings.outbox.concurrency,
                                      max_attempts=settings.outbox.max_attempts,
                                      idle_poll=settings.outbox.idle_poll_seconds))
            app.uow.queued.listener = sender.wake  # a commit that queued messages
            jobs.append(send_outbox(app, sender, stop))
            if settings.rhythms.enabled:
                scheduler = build_scheduler(app)
                jobs.append(run_scheduler(app, scheduler, stop))
            await asyncio.gather(*jobs)
    finally:
        for job in jobs:
            job.close()  # never awaited when a channel failed to start: no warning about it
        for port in robots:
            await port.close()


@asynccontextmanager
async def _telegram(app: App, *, webhook: bool) -> AsyncIterator[TelegramBot]:
    settings = app.settings
    bot = telegram_api(settings)
    try:
        if webhook and (not settings.telegram.webhook_url
                        or not settings.telegram.webhook_secret):
            raise NotConfigured("telegram.webhook_url")
        telegram = TelegramBot(bot, app.router.handle,
                               limiter=Limiter(telegram_limits(settings)),
                               files_dir=settings.data_dir / "incoming" / "telegram",
                               texts=translator, album_wait=settings.telegram.album_wait_seconds,
                               poll_timeout=settings.telegram.poll_timeout)
        await telegram.start(LANGUAGES if settings.language == "zh-CN" else LANGUAGES[::-1])
        app.router.set_invite_link("telegram", telegram.invite_link)
        yield telegram
    finally:
        await bot.session.close()


async def send_outbox(app: App, sender: OutboxSender, stop: asyncio.Event) -> None:
    lock = LeaderLock(app.engine, "outbox")
    try:
        while not stop.is_set():
            if await lock.try_acquire():
                await sender.run(stop)
                return
            logger.info("outbox: another instance sends; standing by")
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=10)
    finally:
        await lock.release()


async def tidy(app: App, limiter: Limiter, stop: asyncio.Event, *,
               every: float = 300.0) -> None:
    """Keep memory and tables bounded: idle chats' send windows, receipts no update can
    be redelivered against any more (Telegram keeps an update 24 hours; a week is ample)."""
    while not stop.is_set():
        limiter.forget_idle(time.monotonic())
        try:
            async with app.uow() as uow:
                pruned = await uow.receipts.prune(app.clock.now() - RECEIPTS_KEPT)
                await uow.commit()
            if pruned:
                logger.info("receipts: %d older than %s forgotten", pruned, RECEIPTS_KEPT)
        except Exception:
            logger.exception("receipts: pruning failed; trying again later")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def serve_webhook(app: App, telegram: TelegramBot, stop: asyncio.Event) -> None:
    settings = app.settings.telegram
    if settings.webhook_url is None or settings.webhook_secret is None:
        raise NotConfigured("telegram.webhook_url")
    secret = settings.webhook_secret.get_secret_value()
    runner = web.AppRunner(webhook_app(telegram, path=WEBHOOK_PATH, secret=secret,
                                       health=lambda: health(app)))
    await runner.setup()
    site = web.TCPSite(runner, settings.listen_host, settings.listen_port)
    await site.start()
    logger.info("telegram: webhook server on %s:%s%s", settings.listen_host,
                settings.listen_port, WEBHOOK_PATH)
    try:
        await telegram.bot.set_webhook(settings.webhook_url.rstrip("/") + WEBHOOK_PATH,
                                       secret_token=secret, allowed_updates=["message",
                                                                             "callback_query"])
        await stop.wait()
        await telegram.inbox.drain()
    finally:
        await runner.cleanup()


async def health(app: App) -> dict[str, Any]:
    try:
        async with app.uow() as uow:
            counts = await uow.outbox.counts()
            oldest = await uow.outbox.next_due_at()
            runs = await uow.runs.recent(1)
    except Exception as exc:  # the point of a health check: report, not raise
        return {"ok": False, "database": str(exc).splitlines()[0]}
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    return {"ok": True, "database": "ok", "outbox_pending": counts.get(OutboxState.PENDING, 0),
            "outbox_failed": counts.get(OutboxState.FAILED, 0),
            "outbox_oldest_seconds": round(max(age, 0.0), 1),
            "last_rhythm_run": runs[0].ran_at.isoformat() if runs else None}


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
