"""The WeCom server API (`/cgi-bin/…`) over one aiohttp session, for one self-built app.

One access token per app is cached behind a lock and renewed ahead of its expiry; an answer
saying the token is invalid or expired (40014, 42001, 42007, 42009) renews it and tries again a
bounded number of times. 40001 (a wrong corp secret) is never retried: it is an operator's
error. 45009/45033 (frequency, concurrency) become `RateLimited` with a growing back-off.

The corp secret and the access token travel in query strings, so no aiohttp exception (whose
text holds the URL) leaves this module: each is replaced by one naming the API only.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from pydantic import SecretStr

from domain.events import Attachment

logger = logging.getLogger(__name__)

T = TypeVar("T")

REFRESH_CODES = frozenset({40014, 42001, 42007, 42009})
BAD_SECRET = 40001
RATE_CODES = {45009: 5.0, 45033: 1.0}  # errcode → first back-off in seconds
BUSY = -1  # "system busy, try again"
IP_NOT_TRUSTED = 60020
BACKOFF_CAP = 300.0
TOKEN_MARGIN = 300.0  # renew this long before WeCom says the token expires
CARD_BUTTONS = 6  # button_interaction takes at most six
TASK_ID = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")
_SAFE_NAME = re.compile(r"[^0-9A-Za-z._\-\u4e00-\u9fff]")


class WeComError(Exception):
    """WeCom answered `errcode` (not 0) to `api`."""

    def __init__(self, api: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{api}: errcode {errcode} ({errmsg[:160]})")
        self.api = api
        self.errcode = errcode
        self.errmsg = errmsg


class BadSecret(WeComError):
    """40001: the corp secret is wrong; no retry fixes it (check wecom.secret)."""

    def __init__(self, api: str, errcode: int, errmsg: str) -> None:
        super().__init__(api, errcode, errmsg)
        self.args = (f"the corp secret is wrong (WeCom errcode {errcode} on {api}): "
                     "check wecom.secret and wecom.corp_id",)


class NotTrusted(WeComError):
    """60020: this server's IP is not among the app's trusted IPs (企业可信IP)."""


class RateLimited(WeComError):
    """45009 / 45033: WeCom's frequency or concurrency limit; wait `retry_after` seconds."""

    def __init__(self, api: str, errcode: int, errmsg: str, retry_after: float) -> None:
        super().__init__(api, errcode, errmsg)
        self.retry_after = retry_after


class Undelivered(WeComError):
    """WeCom took the call but named the recipient invalid (left the corp, out of scope)."""


class Unavailable(Exception):
    """No usable answer (network, time-out, HTTP 5xx, "system busy"): worth trying later."""


class TooBig(Exception):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes is over {limit}")
        self.megabytes = round(size / 1024 / 1024, 1)


class _TokenRefused(Exception):
    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: float  # monotonic


def _safe_name(name: str, fallback: str) -> str:
    base = _SAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).lstrip(".")
    return base[:100] or fallback


def button_card(task_id: str, title: str, buttons: Sequence[tuple[str, str]], *,
                desc: str = "", sub_title: str = "") -> dict[str, Any]:
    """A template_card of type button_interaction; each button is (label, key)."""
    if not TASK_ID.match(task_id):
        raise ValueError(f"task_id must be 1-128 of [0-9A-Za-z_-@]: {task_id!r}")
    if not 1 <= len(buttons) <= CARD_BUTTONS:
        raise ValueError(f"a button card has 1..{CARD_BUTTONS} buttons, not {len(buttons)}")
    main: dict[str, str] = {"title": title}
    if desc:
        main["desc"] = desc
    card: dict[str, Any] = {"card_type": "button_interaction", "main_title": main,
                            "task_id": task_id,
                            "button_list": [{"text": label, "style": 1, "key": key}
                                            for label, key in buttons]}
    if sub_title:
        card["sub_title_text"] = sub_title
    return card


class WeComApi:
    def __init__(self, session: aiohttp.ClientSession, *, corp_id: str, secret: SecretStr,
                 agent_id: int, base_url: str = "https://qyapi.weixin.qq.com",
                 token_margin: float = TOKEN_MARGIN, token_retries: int = 2,
                 timeout: float = 15.0, max_download: int = 20 * 1024 * 1024,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._session = session
        self.corp_id = corp_id
        self._secret = secret
        self.agent_id = agent_id
        self._base = base_url.rstrip("/")
        self._margin = token_margin
        self._token_retries = token_retries
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_download = max_download
        self._monotonic = monotonic
        self._token: _Token | None = None
        self._lock = asyncio.Lock()
        self._rate_strikes = 0
        self.token_fetches = 0

    def __repr__(self) -> str:  # never the secret or the token
        return f"WeComApi(corp_id={self.corp_id!r}, agent_id={self.agent_id})"

    # --- the access token -----------------------------------------------------------------

    async def token(self) -> str:
        """The app's access token: cached, fetched once however many callers wait for it."""
        if (cached := self._fresh()) is not None:
            return cached
        async with self._lock:
            if (cached := self._fresh()) is not None:
                return cached  # another caller fetched it while this one waited
            answer = await self._request("GET", "gettoken", params={
                "corpid": self.corp_id, "corpsecret": self._secret.get_secret_value()})
            self._raise_for(answer, "gettoken", token_error=False)
            value, expires_in = str(answer["access_token"]), float(answer.get("expires_in", 7200))
            lifetime = max(expires_in - self._margin, expires_in / 2)
            self._token = _Token(value, self._monotonic() + lifetime)
            self.token_fetches += 1
            logger.info("wecom: access token fetched, renewed in %.0f s", lifetime)
            return value

    def _fresh(self) -> str | None:
        token = self._token
        if token is not None and self._monotonic() < token.expires_at:
            return token.value
        return None

    def forget_token(self, stale: str | None = None) -> None:
        """Drop the cached token (only if it is still `stale`, when given)."""
        if self._token is not None and (stale is None or self._token.value == stale):
            self._token = None

    async def _authorised(self, api: str, call: Callable[[str], Awaitable[T]]) -> T:
        for attempt in range(self._token_retries + 1):
            token = await self.token()
            try:
                return await call(token)
            except _TokenRefused as exc:
                self.forget_token(token)
                if attempt == self._token_retries:
                    raise WeComError(api, exc.errcode, "the access token was refused again "
                                     "after renewing it") from None
                logger.info("wecom: %s refused the access token (errcode %d); renewing it",
                            api, exc.errcode)
        raise AssertionError("unreachable")  # the loop returns or raises

    # --- calls ----------------------------------------------------------------------------

    async def call(self, api: str, *, body: dict[str, Any] | None = None,
                   params: dict[str, str] | None = None,
                   form: Callable[[], aiohttp.FormData] | None = None) -> dict[str, Any]:
        """`/cgi-bin/{api}` with the token: POST with `body` (JSON) or `form`, else GET."""

        async def attempt(token: str) -> dict[str, Any]:
            method = "POST" if body is not None or form is not None else "GET"
            answer = await self._request(method, api, params={**(params or {}),
                                                              "access_token": token},
                                         json=body, data=form() if form else None)
            self._raise_for(answer, api)
            return answer

        return await self._authorised(api, attempt)

    async def _request(self, method: str, api: str, *, params: dict[str, str],
                       json: dict[str, Any] | None = None,
                       data: aiohttp.FormData | None = None) -> dict[str, Any]:
        try:
            async with self._session.request(method, f"{self._base}/cgi-bin/{api}",
                                             params=params, json=json, data=data,
                                             timeout=self._timeout) as response:
                _check_status(api, response.status)
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as exc:
            raise Unavailable(f"{api}: {type(exc).__name__}") from None
        except TimeoutError:
            raise Unavailable(f"{api}: timed out") from None
        if not isinstance(answer, dict):
            raise Unavailable(f"{api}: the answer is not a JSON object")
        return answer

    def _raise_for(self, answer: dict[str, Any], api: str, *, token_error: bool = True) -> None:
        code = int(answer.get("errcode") or 0)
        if code == 0:
            self._rate_strikes = 0
            return
        message = str(answer.get("errmsg", ""))
        if token_error and code in REFRESH_CODES:
            raise _TokenRefused(code)
        if code == BAD_SECRET:
            logger.error("wecom: the corp secret is wrong (errcode 40001 on %s)", api)
            raise BadSecret(api, code, message)
        if code in RATE_CODES:
            seconds = min(RATE_CODES[code] * 2 ** self._rate_strikes, BACKOFF_CAP)
            self._rate_strikes += 1
            logger.warning("wecom: %s rate-limited (errcode %d); backing off %g s", api, code,
                           seconds)
            raise RateLimited(api, code, message, seconds)
        if code == BUSY:
            raise Unavailable(f"{api}: WeCom is busy (errcode -1)")
        if code == IP_NOT_TRUSTED:
            logger.error("wecom: this server's IP is not trusted by the app (errcode 60020)")
            raise NotTrusted(api, code, message)
        raise WeComError(api, code, message)

    # --- messages -------------------------------------------------------------------------

    async def send(self, touser: str, msgtype: str, content: dict[str, Any],
                   **extra: Any) -> dict[str, Any]:
        """message/send to one member; `Undelivered` when WeCom names them invalid."""
        answer = await self.call("message/send", body={
            "touser": touser, "msgtype": msgtype, "agentid": self.agent_id,
            msgtype: content, **extra})
        invalid = str(answer.get("invaliduser") or "")
        if touser in invalid.split("|"):
            raise Undelivered("message/send", 0, "the recipient is invalid (invaliduser)")
        return answer

    async def send_text(self, touser: str, text: str) -> dict[str, Any]:
        return await self.send(touser, "text", {"content": text})

    async def send_markdown(self, touser: str, text: str) -> dict[str, Any]:
        return await self.send(touser, "markdown", {"content": text})

    async def send_image(self, touser: str, media_id: str) -> dict[str, Any]:
        return await self.send(touser, "image", {"media_id": media_id})

    async def send_file(self, touser: str, media_id: str) -> dict[str, Any]:
        return await self.send(touser, "file", {"media_id": media_id})

    async def send_card(self, touser: str, card: dict[str, Any]) -> dict[str, Any]:
        """A template_card (see `button_card`); task_id must be unique per app."""
        return await self.send(touser, "template_card", card)

    async def update_card(self, userids: Sequence[str], response_code: str, *,
                          replace_name: str) -> dict[str, Any]:
        """After a button press: the card's buttons become one disabled `replace_name`.

        `response_code` comes with the template_card_event; it works once, within 72 hours.
        """
        return await self.call("message/update_template_card", body={
            "userids": list(userids), "agentid": self.agent_id,
            "response_code": response_code, "button": {"replace_name": replace_name}})

    # --- media ----------------------------------------------------------------------------

    async def upload_media(self, data: bytes, filename: str, *, kind: str = "image",
                           mime_type: str | None = None) -> str:
        """media/upload (multipart field `media`): the media_id, valid three days."""

        def form() -> aiohttp.FormData:
            built = aiohttp.FormData()
            built.add_field("media", data, filename=filename,
                            content_type=mime_type or "application/octet-stream")
            return built

        answer = await self.call("media/upload", params={"type": kind}, form=form)
        return str(answer["media_id"])

    async def download_media(self, media_id: str, folder: Path) -> Attachment:
        """media/get into `folder`: the file as an `Attachment` (original name and type)."""

        async def attempt(token: str) -> Attachment:
            return await self._download(media_id, folder, token)

        return await self._authorised("media/get", attempt)

    async def _download(self, media_id: str, folder: Path, token: str) -> Attachment:
        api = "media/get"
        target: Path | None = None
        try:
            async with self._session.get(f"{self._base}/cgi-bin/{api}", params={
                    "access_token": token, "media_id": media_id},
                    timeout=self._timeout) as response:
                _check_status(api, response.status)
                if response.content_type in ("application/json", "text/plain"):
                    self._raise_for(await response.json(content_type=None), api)
                    raise Unavailable(f"{api}: a JSON answer without an error code")
                size = response.content_length or 0
                if size > self._max_download:
                    raise TooBig(size, self._max_download)
                disposition = response.content_disposition
                name = _safe_name(disposition.filename or "" if disposition else "", "image.jpg")
                target = _new_file(folder, Path(name).suffix)
                await self._stream(response, target)
                return Attachment(target, name, response.content_type or None)
        except BaseException as exc:
            if target is not None:
                _discard(target)
            if isinstance(exc, aiohttp.ClientError | ValueError):
                raise Unavailable(f"{api}: {type(exc).__name__}") from None
            if isinstance(exc, TimeoutError):
                raise Unavailable(f"{api}: timed out") from None
            raise

    async def _stream(self, response: aiohttp.ClientResponse, target: Path) -> None:
        written = 0
        with target.open("wb") as out:
            async for chunk in response.content.iter_chunked(64 * 1024):
                written += len(chunk)
                if written > self._max_download:
                    raise TooBig(written, self._max_download)
                out.write(chunk)


def _new_file(folder: Path, suffix: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"wecom-{uuid.uuid4().hex}{suffix}"


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def _check_status(api: str, status: int) -> None:
    if status >= 500:
        raise Unavailable(f"{api}: HTTP {status}")
    if status != 200:
        raise WeComError(api, -status, f"HTTP {status}")
