"""The WeCom API client against the fake WeCom server: tokens, errors, messages, media."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.wecom.api import (
    BadSecret,
    NotTrusted,
    RateLimited,
    TooBig,
    Unavailable,
    Undelivered,
    WeComApi,
    WeComError,
    button_card,
)
from tests.bot.wecom_support import api_client
from tests.clocks import Ticker
from tests.fakes.wecom_api import SECRET, FakeWeCom

USER = "ZhangSan"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def api(fake: FakeWeCom, session: aiohttp.ClientSession, ticker: Ticker) -> WeComApi:
    return api_client(session, fake.base_url, monotonic=ticker)


# --- the access token ------------------------------------------------------------------------

async def test_one_token_for_many_concurrent_sends(fake: FakeWeCom, api: WeComApi) -> None:
    await asyncio.gather(*(api.send_text(f"u{n}", "早上好") for n in range(20)))
    assert len(fake.calls_of("gettoken")) == 1
    assert len(fake.sent) == 20


async def test_the_token_is_renewed_ahead_of_its_expiry(fake: FakeWeCom, api: WeComApi,
                                                        ticker: Ticker) -> None:
    await api.send_text(USER, "1")
    ticker.now += 7200 - 300 - 1  # within the margin's reach: still the same token
    await api.send_text(USER, "2")
    assert len(fake.calls_of("gettoken")) == 1
    ticker.now += 2  # 300 s before WeCom would expire it: renewed
    await api.send_text(USER, "3")
    assert len(fake.calls_of("gettoken")) == 2
    assert [c.api for c in fake.calls].count("message/send") == 3


async def test_a_short_lived_token_is_renewed_halfway(fake: FakeWeCom, api: WeComApi,
                                                      ticker: Ticker) -> None:
    fake.token_expires_in = 400
    await api.token()
    ticker.now += 201
    await api.token()
    assert len(fake.calls_of("gettoken")) == 2


async def test_an_expired_token_is_renewed_and_the_call_made_again(fake: FakeWeCom,
                                                                   api: WeComApi) -> None:
    await api.send_text(USER, "1")
    fake.expire_tokens()  # WeCom expired it early (another server fetched one, say)
    await api.send_text(USER, "2")
    assert [c.api for c in fake.calls] == ["gettoken", "message/send", "message/send",
                                           "gettoken", "message/send"]
    assert [s.text for s in fake.sent] == ["1", "2"]


@pytest.mark.parametrize("errcode", [40014, 42001, 42007, 42009])
async def test_each_token_error_renews_the_token(fake: FakeWeCom, api: WeComApi,
                                                 errcode: int) -> None:
    fake.fail("message/send", errcode=errcode)
    await api.send_text(USER, "1")
    assert len(fake.calls_of("gettoken")) == 2 and len(fake.sent) == 1


async def test_token_renewals_are_bounded(fake: FakeWeCom, api: WeComApi) -> None:
    fake.fail("message/send", errcode=42001, times=10)
    with pytest.raises(WeComError, match="refused again"):
        await api.send_text(USER, "1")
    assert len(fake.calls_of("message/send")) == 3  # the first try and two renewals
    assert len(fake.calls_of("gettoken")) == 3


async def test_a_wrong_secret_is_an_operator_error_never_retried(
        fake: FakeWeCom, session: aiohttp.ClientSession, ticker: Ticker,
        caplog: pytest.LogCaptureFixture) -> None:
    wrong = api_client(session, fake.base_url, secret="not-the-secret-" + "9" * 20,
                       monotonic=ticker)
    with caplog.at_level(logging.DEBUG), pytest.raises(BadSecret) as raised:
        await wrong.send_text(USER, "1")
    assert "the corp secret is wrong" in str(raised.value)
    assert len(fake.calls_of("gettoken")) == 1 and fake.calls_of("message/send") == []
    assert "9" * 20 not in str(raised.value) + caplog.text + repr(wrong)


async def test_40001_injected_on_gettoken_is_not_retried(fake: FakeWeCom, api: WeComApi) -> None:
    fake.fail("gettoken", errcode=40001, times=5)
    with pytest.raises(BadSecret):
        await api.token()
    assert len(fake.calls_of("gettoken")) == 1


async def test_rate_limits_back_off_and_recover(fake: FakeWeCom, api: WeComApi) -> None:
    fake.fail("message/send", errcode=45009, times=2)
    delays = []
    for _ in range(2):
        with pytest.raises(RateLimited) as raised:
            await api.send_text(USER, "1")
        delays.append(raised.value.retry_after)
    assert delays == [5.0, 10.0]  # growing while WeCom keeps refusing
    await api.send_text(USER, "1")
    fake.fail("message/send", errcode=45033)
    with pytest.raises(RateLimited) as raised:
        await api.send_text(USER, "2")
    assert raised.value.retry_after == 1.0  # back to the start after a success
    assert len(fake.calls_of("gettoken")) == 1  # a rate limit is not a token problem


async def test_server_errors_are_temporary_and_name_no_secret(
        fake: FakeWeCom, api: WeComApi, caplog: pytest.LogCaptureFixture) -> None:
    fake.fail("gettoken", status=500)
    with caplog.at_level(logging.DEBUG), pytest.raises(Unavailable) as raised:
        await api.token()
    assert str(raised.value) == "gettoken: HTTP 500"
    token = await api.token()
    fake.fail("message/send", status=502)
    with pytest.raises(Unavailable):
        await api.send_text(USER, "1")
    fake.fail("message/send", errcode=-1)
    with pytest.raises(Unavailable, match="busy"):
        await api.send_text(USER, "1")
    assert SECRET not in caplog.text and token not in caplog.text


async def test_an_unreachable_server_is_temporary_without_the_url(
        session: aiohttp.ClientSession, ticker: Ticker) -> None:
    async with FakeWeCom() as gone:
        base = gone.base_url
    api = api_client(session, base, monotonic=ticker)
    with pytest.raises(Unavailable) as raised:
        await api.send_text(USER, "1")
    assert SECRET not in str(raised.value) and "127.0.0.1" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


async def test_an_untrusted_ip_is_named(fake: FakeWeCom, api: WeComApi) -> None:
    fake.fail("message/send", errcode=60020)
    with pytest.raises(NotTrusted):
        await api.send_text(USER, "1")


# --- messages ---------------------------------------------------------------------------------

async def test_text_markdown_image_and_card_are_sent(fake: FakeWeCom, api: WeComApi) -> None:
    media_id = await api.upload_media(b"\x89PNG fake chart", "chart.png", mime_type="image/png")
    await api.send_text(USER, "你好")
    await api.send_markdown(USER, "**本周** 汇总")
    await api.send_image(USER, media_id)
    await api.send_card(USER, button_card("task_1", "现场状态？", [("施工中", "k1"),
                                                                 ("停工", "k2")]))
    assert [(s.msgtype, s.touser) for s in fake.sent] == [
        ("text", USER), ("markdown", USER), ("image", USER), ("template_card", USER)]
    assert fake.media[media_id].data == b"\x89PNG fake chart"
    assert fake.sent[3].buttons == [("施工中", "k1"), ("停工", "k2")]
    assert fake.sent[3].content["task_id"] == "task_1"


async def test_a_task_id_is_taken_once(fake: FakeWeCom, api: WeComApi) -> None:
    card = button_card("task_same", "?", [("a", "a")])
    await api.send_card(USER, card)
    with pytest.raises(WeComError) as raised:
        await api.send_card(USER, card)
    assert raised.value.errcode == 40058


def test_a_card_is_checked_before_sending() -> None:
    with pytest.raises(ValueError, match=r"1\.\.6"):
        button_card("t", "?", [(str(n), str(n)) for n in range(7)])
    with pytest.raises(ValueError, match="task_id"):
        button_card("has space", "?", [("a", "a")])
    with pytest.raises(ValueError, match="task_id"):
        button_card("x" * 129, "?", [("a", "a")])


async def test_a_card_is_updated_once_after_a_press(fake: FakeWeCom, api: WeComApi) -> None:
    code = fake.issue_response_code()
    await api.update_card([USER], code, replace_name="✔ 施工中")
    assert fake.card_updates[0]["button"] == {"replace_name": "✔ 施工中"}
    with pytest.raises(WeComError):
        await api.update_card([USER], code, replace_name="again")


async def test_an_invalid_member_is_undelivered(fake: FakeWeCom, api: WeComApi) -> None:
    fake.invalid_users.add("LeftTheCorp")
    with pytest.raises(Undelivered):
        await api.send_text("LeftTheCorp", "1")


# --- media -------------------------------------------------------------------------------------

async def test_media_is_downloaded_into_the_folder(fake: FakeWeCom, api: WeComApi,
                                                   tmp_path: Path) -> None:
    media_id = fake.add_media(b"\xff\xd8 a jpeg", filename="现场.jpg")
    attachment = await api.download_media(media_id, tmp_path / "incoming")
    assert attachment.path.read_bytes() == b"\xff\xd8 a jpeg"
    assert attachment.path.parent == tmp_path / "incoming"
    assert (attachment.filename, attachment.mime_type) == ("现场.jpg", "image/jpeg")


async def test_a_hostile_file_name_stays_in_the_folder(fake: FakeWeCom, api: WeComApi,
                                                       tmp_path: Path) -> None:
    media_id = fake.add_media(b"x", filename="../../etc/passwd")
    attachment = await api.download_media(media_id, tmp_path)
    assert attachment.path.parent == tmp_path and attachment.filename == "passwd"


async def test_unknown_media_and_expired_tokens(fake: FakeWeCom, api: WeComApi,
                                                tmp_path: Path) -> None:
    with pytest.raises(WeComError) as raised:
        await api.download_media("NOSUCHMEDIA", tmp_path)
    assert raised.value.errcode == 40007
    media_id = fake.add_media(b"data")
    fake.expire_tokens()
    assert (await api.download_media(media_id, tmp_path)).path.read_bytes() == b"data"
    assert len(fake.calls_of("gettoken")) == 2


async def test_too_big_a_download_is_refused_and_leaves_nothing(
        fake: FakeWeCom, session: aiohttp.ClientSession, ticker: Ticker,
        tmp_path: Path) -> None:
    small = api_client(session, fake.base_url, monotonic=ticker, max_download=1000)
    media_id = fake.add_media(b"x" * 1001)
    with pytest.raises(TooBig):
        await small.download_media(media_id, tmp_path)
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240  (a test looking at a folder)
