"""The fake robot webhooks answer as the platforms do, driven by a plain HTTP client.

Signatures here are computed from the formulas in CHANNELS.md, not with the fake's helpers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import pytest
from PIL import Image

from tests.clocks import Ticker
from tests.fakes.robots import FakeRobots


@pytest.fixture
async def fake(ticker: Ticker) -> AsyncIterator[FakeRobots]:
    async with FakeRobots(clock=ticker) as robots:
        yield robots



async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(url, json=body) as response:
        assert response.status == 200
        answer: dict[str, Any] = await response.json()
        return answer


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, format="PNG")
    return out.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()  # WeCom's checksum


def markdown(text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": text}}


async def test_wecom_takes_markdown_and_images_within_its_limits(
        fake: FakeRobots, http: aiohttp.ClientSession) -> None:
    url = fake.wecom("k-1")
    assert await post(http, url, markdown("本周简报")) == {"errcode": 0, "errmsg": "ok"}
    assert (await post(http, url, markdown("汉" * 1366)))["errcode"] == 40058  # 4,098 bytes
    image = png()
    good = {"base64": base64.b64encode(image).decode(), "md5": md5(image)}
    assert (await post(http, url, {"msgtype": "image", "image": good}))["errcode"] == 0
    wrong = {**good, "md5": "0" * 32}
    assert (await post(http, url, {"msgtype": "image", "image": wrong}))["errcode"] == 301019
    big = b"\x89PNG\r\n\x1a\n" + bytes(2 * 1024 * 1024)
    too_big = {"base64": base64.b64encode(big).decode(), "md5": md5(big)}
    assert (await post(http, url, {"msgtype": "image", "image": too_big}))["errcode"] == 40009
    wrong_key = url.replace("k-1", "k-2")
    assert (await post(http, wrong_key, markdown("x")))["errcode"] == 93000
    assert [(r.msgtype, r.text or r.md5) for r in fake.received] == [
        ("markdown", "本周简报"), ("image", md5(image))]


async def test_wecom_answers_the_21st_message_of_a_minute_with_45009(
        fake: FakeRobots, http: aiohttp.ClientSession, ticker: Ticker) -> None:
    url = fake.wecom("k-1")
    for n in range(20):
        assert (await post(http, url, markdown(f"第{n}条")))["errcode"] == 0
        ticker.now += 1
    assert (await post(http, url, markdown("第21条")))["errcode"] == 45009
    assert len(fake.violations) == 1
    ticker.now += 40.001  # the first of the twenty is now more than a minute old
    assert (await post(http, url, markdown("第21条")))["errcode"] == 0


def dingtalk_query(secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return f"&timestamp={timestamp}&sign={quote_plus(base64.b64encode(digest.digest()))}"


async def test_dingtalk_checks_the_signature_and_the_timestamp(
        fake: FakeRobots, http: aiohttp.ClientSession) -> None:
    url = fake.dingtalk("t-1", "SECabc123")
    body = {"msgtype": "markdown", "markdown": {"title": "周报", "text": "本周简报"}}
    now = int(time.time() * 1000)
    assert (await post(http, url + dingtalk_query("SECabc123", now), body))["errcode"] == 0
    bad = await post(http, url + dingtalk_query("SECwrong", now), body)
    assert bad["errcode"] == 310000 and "sign not match" in bad["errmsg"]
    old = now - 2 * 3600 * 1000
    stale = await post(http, url + dingtalk_query("SECabc123", old), body)
    assert stale["errcode"] == 310000 and "timestamp" in stale["errmsg"]
    assert (await post(http, url, body))["errcode"] == 310000  # unsigned to a signing robot
    assert [r.title for r in fake.received] == ["周报"]


def feishu_signed(secret: str, timestamp: int, body: dict[str, Any]) -> dict[str, Any]:
    key = f"{timestamp}\n{secret}".encode()
    sign = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return {"timestamp": str(timestamp), "sign": sign, **body}


async def test_feishu_checks_the_signature_the_size_and_five_a_second(
        fake: FakeRobots, http: aiohttp.ClientSession, ticker: Ticker) -> None:
    url = fake.feishu("h-1", "fs-secret")
    text = {"msg_type": "text", "content": {"text": "本周简报"}}
    now = int(time.time())
    for _ in range(5):
        assert (await post(http, url, feishu_signed("fs-secret", now, text)))["code"] == 0
    assert (await post(http, url, feishu_signed("fs-secret", now, text)))["code"] == 11232
    ticker.now += 1.0
    assert (await post(http, url, feishu_signed("fs-wrong", now, text)))["code"] == 19021
    huge = {"msg_type": "text", "content": {"text": "汉" * 7000}}  # 21,000 bytes
    assert (await post(http, url, feishu_signed("fs-secret", now, huge)))["code"] == 9499
    assert (await post(http, url.replace("h-1", "h-2"), text))["code"] == 19001
    assert len(fake.to("h-1")) == 5 and len(fake.violations) == 1
