"""The fake WeCom itself, driven with a bare aiohttp client (not the bot's)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.clocks import Ticker
from tests.fakes.wecom_api import AES_KEY, AGENT_ID, CORP_ID, SECRET, FakeWeCom, frame, seal


@pytest.fixture
async def fake(ticker: Ticker) -> AsyncIterator[FakeWeCom]:
    async with FakeWeCom(now=ticker) as server:
        yield server



async def get(http: aiohttp.ClientSession, fake: FakeWeCom, api: str,
              **params: str) -> dict[str, Any]:
    async with http.get(f"{fake.base_url}/cgi-bin/{api}", params=params) as response:
        answer: dict[str, Any] = await response.json()
        return answer


async def post(http: aiohttp.ClientSession, fake: FakeWeCom, api: str, token: str,
               body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(f"{fake.base_url}/cgi-bin/{api}", params={"access_token": token},
                         json=body) as response:
        answer: dict[str, Any] = await response.json()
        return answer


async def token(http: aiohttp.ClientSession, fake: FakeWeCom) -> str:
    return str((await get(http, fake, "gettoken", corpid=CORP_ID, corpsecret=SECRET))
               ["access_token"])


def text(to: str, content: str) -> dict[str, Any]:
    return {"touser": to, "msgtype": "text", "agentid": AGENT_ID, "text": {"content": content}}


async def test_gettoken_checks_the_corp_and_the_secret(http: aiohttp.ClientSession,
                                                       fake: FakeWeCom) -> None:
    assert (await get(http, fake, "gettoken", corpid="ww_x", corpsecret=SECRET))["errcode"] \
        == 40013
    assert (await get(http, fake, "gettoken", corpid=CORP_ID, corpsecret="x"))["errcode"] \
        == 40001
    answer = await get(http, fake, "gettoken", corpid=CORP_ID, corpsecret=SECRET)
    assert answer["errcode"] == 0 and answer["expires_in"] == 7200


async def test_send_needs_a_live_token(http: aiohttp.ClientSession, fake: FakeWeCom) -> None:
    assert (await post(http, fake, "message/send", "bogus", text("u", "hi")))["errcode"] == 40014
    live = await token(http, fake)
    assert (await post(http, fake, "message/send", live, text("u", "hi")))["errcode"] == 0
    fake.expire_tokens()
    assert (await post(http, fake, "message/send", live, text("u", "hi")))["errcode"] == 42001
    assert [s.text for s in fake.sent] == ["hi"]


async def test_send_checks_what_wecom_checks(http: aiohttp.ClientSession,
                                             fake: FakeWeCom) -> None:
    live = await token(http, fake)
    assert (await post(http, fake, "message/send", live,
                       text("u", "长" * 683)))["errcode"] == 45002  # 2049 bytes
    assert (await post(http, fake, "message/send", live,
                       text("u", "")))["errcode"] == 44004
    assert (await post(http, fake, "message/send", live,
                       {**text("u", "x"), "agentid": 1}))["errcode"] == 40056
    image = {"touser": "u", "msgtype": "image", "agentid": AGENT_ID,
             "image": {"media_id": "nope"}}
    assert (await post(http, fake, "message/send", live, image))["errcode"] == 40007
    assert fake.sent == []


async def test_injected_faults_are_used_up(http: aiohttp.ClientSession, fake: FakeWeCom) -> None:
    fake.fail("gettoken", errcode=42001, times=2)
    fake.fail("gettoken", status=500)
    codes = [(await get(http, fake, "gettoken", corpid=CORP_ID, corpsecret=SECRET))
             .get("errcode") for _ in range(2)]
    async with http.get(f"{fake.base_url}/cgi-bin/gettoken") as response:
        assert response.status == 500
    assert codes == [42001, 42001]
    assert (await get(http, fake, "gettoken", corpid=CORP_ID, corpsecret=SECRET))["errcode"] == 0


async def test_over_the_member_limit_is_dropped_silently(http: aiohttp.ClientSession,
                                                         fake: FakeWeCom,
                                                         ticker: Ticker) -> None:
    live = await token(http, fake)
    for n in range(31):
        assert (await post(http, fake, "message/send", live, text("u", str(n))))["errcode"] == 0
    assert len(fake.sent) == 30 and len(fake.dropped) == 1 and len(fake.violations) == 1
    await post(http, fake, "message/send", live, text("other", "x"))  # per member
    ticker.now += 60
    await post(http, fake, "message/send", live, text("u", "later"))
    assert fake.sent[-1].text == "later" and len(fake.violations) == 1


def test_the_fakes_cipher_is_wecoms() -> None:
    """Framed and sealed as the official sample does: decrypt by hand and compare."""
    key = base64.b64decode(AES_KEY + "=")
    sealed = base64.b64decode(seal(frame("你好", CORP_ID)))
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(sealed) + decryptor.finalize()
    assert len(sealed) % 32 == 0 and 1 <= plain[-1] <= 32
    body = plain[:-plain[-1]]
    length = int.from_bytes(body[16:20], "big")
    assert body[20:20 + length].decode() == "你好" and body[20 + length:] == CORP_ID.encode()
