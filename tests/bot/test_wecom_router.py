"""WeCom in front of the real router and storage: a form over cards, and a redelivery after a
restart recognised by its receipt (the MsgId), not handled twice."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.i18n import translator
from bot.wecom.callback import CallbackServer, callback_app
from bot.wecom.limits import WeComLimiter
from bot.wecom.transport import WeComBot
from domain.clock import FixedClock
from handlers.router import Router
from storage.uow import UnitOfWorkFactory
from tests.bot.wecom_support import api_client, callback_crypto, served
from tests.fakes.wecom_api import FakeWeCom, WeComCallbacks
from tests.handlers.phone import make_router
from tests.world import World

WANG = "WangLei"


@dataclass
class Process:
    """One run of the bot's WeCom side: its memory is lost when it ends (a restart)."""

    server: CallbackServer
    wecom: WeComCallbacks


@pytest.fixture
async def bound(uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> World:
    async with uow() as u:
        await u.people.bind_identity(world.liaison, "wecom", WANG, clock.now())
        await u.commit()
    return world


@pytest.fixture
def router(uow: UnitOfWorkFactory, clock: FixedClock, tmp_path: Path) -> Router:
    return make_router(uow, clock, tmp_path / "photos")


@asynccontextmanager
async def process(fake: FakeWeCom, router: Router, files: Path) -> AsyncIterator[Process]:
    async with aiohttp.ClientSession() as session:
        bot = WeComBot(api_client(session, fake.base_url), router.handle, limiter=WeComLimiter(),
                       files_dir=files, texts=translator)
        server = CallbackServer(callback_crypto(), bot.on_message)
        async with served(callback_app(server)) as site:
            yield Process(server, WeComCallbacks(site.url, session, fake=fake))


async def test_a_form_runs_over_cards(fake: FakeWeCom, router: Router, bound: World,
                                      tmp_path: Path) -> None:
    async with process(fake, router, tmp_path / "in") as bot:
        await bot.wecom.text(WANG, "/report")
        await bot.server.drain()
        card = fake.messages_to(WANG)[-1]
        assert card.msgtype == "template_card"
        labels = [label for label, _ in card.buttons]
        assert any("毛绒" in label for label in labels), labels
        seen = len(fake.sent)
        await bot.wecom.press(WANG, next(label for label in labels if "毛绒" in label))
        await bot.server.drain()
        chosen = fake.card_updates[0]["button"]["replace_name"]
        assert chosen.startswith("✔ ") and "毛绒" in chosen
        assert len(fake.sent) > seen  # the form went on to its next question
        assert fake.sent[-1].text != card.text


async def test_a_redelivery_after_a_restart_is_skipped(
        fake: FakeWeCom, router: Router, bound: World, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    async with process(fake, router, tmp_path / "in") as first:
        await first.wecom.text(WANG, "/report")  # starts a form: a change, so a receipt
        await first.server.drain()
        xml = first.wecom.last_xml
    answered = len(fake.sent)
    assert answered >= 1
    async with process(fake, router, tmp_path / "in") as second:  # nothing in memory
        second.wecom.last_xml = xml
        with caplog.at_level(logging.INFO):
            assert (await second.wecom.retry()).status == 200  # WeCom tries once more
            await second.server.drain()
        assert second.server.accepted == 1  # taken by the new process …
    assert len(fake.sent) == answered  # … and skipped by the router: nothing sent twice
    assert "skipped wecom update m:" in caplog.text
