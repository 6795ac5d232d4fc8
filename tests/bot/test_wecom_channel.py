"""The WeCom channel as `fieldbot run --channel wecom` starts it: settings in, serving, stopping."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from bot.i18n import translator
from bot.wecom.api import BadSecret
from bot.wecom.channel import WeComNotConfigured, open_channel
from bot.wecom.crypto import BadKey
from bot.wecom.settings import WeComSettings
from domain.events import Incoming, Outgoing
from tests.fakes.wecom_api import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    TOKEN,
    FakeWeCom,
    WeComCallbacks,
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings(fake: FakeWeCom, **changes: object) -> WeComSettings:
    values: dict[str, object] = {
        "corp_id": CORP_ID, "agent_id": AGENT_ID, "secret": SECRET, "token": TOKEN,
        "encoding_aes_key": AES_KEY, "api_base": fake.base_url, "listen_port": free_port()}
    return WeComSettings.model_validate(values | changes)


async def echo(event: Incoming) -> list[Outgoing]:
    return [Outgoing(text=f"收到：{event.text}")]


async def test_missing_settings_are_named_without_values(tmp_path: Path) -> None:
    partial = WeComSettings(corp_id=CORP_ID, secret=SecretStr(SECRET))
    with pytest.raises(WeComNotConfigured) as raised:
        async with open_channel(partial, handle=echo, texts=translator, files_dir=tmp_path):
            pass
    assert str(raised.value) == "wecom.agent_id, wecom.token, wecom.encoding_aes_key"
    assert not partial.configured


def test_settings_never_print_their_secrets() -> None:
    full = WeComSettings(corp_id=CORP_ID, agent_id=AGENT_ID, secret=SecretStr(SECRET),
                         token=SecretStr(TOKEN), encoding_aes_key=SecretStr(AES_KEY))
    shown = repr(full) + str(full) + full.model_dump_json()
    assert full.configured
    assert SECRET not in shown and TOKEN not in shown and AES_KEY not in shown


async def test_a_wrong_secret_stops_the_start(tmp_path: Path) -> None:
    async with FakeWeCom() as fake:
        with pytest.raises(BadSecret, match="corp secret is wrong"):
            wrong = settings(fake, secret="not-" + SECRET)
            async with open_channel(wrong, handle=echo,
                                    texts=translator, files_dir=tmp_path):
                pass


async def test_a_bad_aes_key_stops_the_start(tmp_path: Path) -> None:
    async with FakeWeCom() as fake:
        with pytest.raises(BadKey):
            async with open_channel(settings(fake, encoding_aes_key="short"), handle=echo,
                                    texts=translator, files_dir=tmp_path):
                pass


async def test_served_until_stopped_and_what_was_taken_is_answered(tmp_path: Path) -> None:
    async def health() -> dict[str, object]:
        return {"ok": True}

    async with FakeWeCom() as fake, aiohttp.ClientSession() as session:
        config = settings(fake)
        async with open_channel(config, handle=echo, texts=translator, files_dir=tmp_path,
                                health=health) as channel:
            stop = asyncio.Event()
            serving = asyncio.create_task(channel.serve(stop))
            url = f"http://127.0.0.1:{config.listen_port}"
            wecom = WeComCallbacks(url + config.callback_path, session, fake=fake)
            await channel.listening.wait()
            async with session.get(url + "/healthz") as response:
                assert await response.json() == {"ok": True}
            assert (await wecom.url_check("echo-1")).text == "echo-1"
            assert (await wecom.text("WangLei", "你好")).status == 200
            stop.set()
            await serving
        assert [s.text for s in fake.sent] == ["收到：你好"]
