"""A fake WeCom (企业微信) for tests and benchmarks: the server API and a callback driver.

`FakeWeCom` listens on 127.0.0.1 and a free port and answers the bot's API client pointed at
it (`api_base`): gettoken, message/send, message/update_template_card, media/get and
media/upload. Everything sent is recorded (:attr:`FakeWeCom.sent`, :attr:`FakeWeCom.calls`);
faults can be injected (an errcode or an HTTP status, once or several times), tokens expired on
demand, members made invalid; WeCom's per-member limits (30 a minute, 1,000 an hour) are
checked on the fake's clock and a message over them is dropped silently, as WeCom does.

`WeComCallbacks` plays WeCom's side of the callback: it encrypts and signs like WeCom (its own
small implementation on `cryptography`, independent of `bot.wecom.crypto`) and POSTs text,
image, location, click and template-card callbacks to the bot's callback URL; it retries with
the same MsgId, and forges, tampers and replays on request.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.fakes.server import LoopbackServer

CORP_ID = "ww0f1e1dbot0test01"
SECRET = "fake-corp-secret-for-tests-only-0123456789"  # noqa: S105  (a fake's, not a secret)
TOKEN = "FakeCallbackToken2026"  # noqa: S105  (a fake's, not a secret)
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"  # 43 characters
AGENT_ID = 1000002

_TASK_ID = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")
_TEXT_LIMIT = 2048  # bytes
_MARKDOWN_LIMIT = 4096  # bytes
_IMAGE_LIMIT = 10 * 1024 * 1024
_CARD_BUTTONS = 6


# --- WeCom's crypto, written again for the fake ---------------------------------------------

def sign(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324  (WeCom's protocol fixes SHA-1)


def padding(length: int) -> bytes:
    """WeCom's correct padding for `length` bytes of plaintext: PKCS#7 to 32 bytes."""
    count = 32 - length % 32
    return bytes([count]) * count


def seal(plaintext: bytes, key: str = AES_KEY, *, pad: bytes | None = None) -> str:
    """Raw AES-256-CBC as WeCom does it, over bytes already framed (see `frame`).

    `pad` is appended instead of the correct padding (bad padding, for tampering tests); the
    result must then still be whole AES blocks.
    """
    aes = base64.b64decode(key + "=")
    padded = plaintext + (padding(len(plaintext)) if pad is None else pad)
    encryptor = Cipher(algorithms.AES(aes), modes.CBC(aes[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def frame(message: str, receiver: str = CORP_ID, *, length: int | None = None) -> bytes:
    """16 random bytes + 4-byte big-endian length + message + receiver."""
    raw = message.encode()
    return (os.urandom(16) + struct.pack(">I", len(raw) if length is None else length) + raw
            + receiver.encode())


# --- the server API -------------------------------------------------------------------------

@dataclass
class Call:
    api: str
    params: dict[str, str]
    body: dict[str, Any] | None
    at: float


@dataclass
class Sent:
    """A message WeCom took (message/send)."""

    touser: str
    msgtype: str
    content: dict[str, Any]
    at: float

    @property
    def text(self) -> str:
        if self.msgtype in ("text", "markdown"):
            return str(self.content.get("content", ""))
        if self.msgtype == "template_card":
            main = self.content.get("main_title", {})
            return "\n".join(p for p in (main.get("title", ""), main.get("desc", ""),
                                         self.content.get("sub_title_text", "")) if p)
        return ""

    @property
    def buttons(self) -> list[tuple[str, str]]:
        return [(b["text"], b["key"]) for b in self.content.get("button_list", [])]


@dataclass
class Media:
    data: bytes
    filename: str
    content_type: str
    kind: str


@dataclass
class _Fault:
    api: str
    errcode: int | None
    status: int | None
    remaining: int


@dataclass
class _Member:
    minute: deque[float] = field(default_factory=deque)
    hour: deque[float] = field(default_factory=deque)


class FakeWeCom(LoopbackServer):
    """WeCom's server API as the bot's client sees it, with faults to inject."""

    client_max_size = 32 * 1024 * 1024

    def __init__(self, *, corp_id: str = CORP_ID, secret: str = SECRET, agent_id: int = AGENT_ID,
                 token_expires_in: int = 7200, now: Callable[[], float] = time.monotonic,
                 per_minute: int = 30, per_hour: int = 1000) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.token_expires_in = token_expires_in
        self.now = now
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.base_url = ""
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.dropped: list[Sent] = []  # over the per-member limits: taken, never shown
        self.violations: list[str] = []
        self.card_updates: list[dict[str, Any]] = []
        self.media: dict[str, Media] = {}
        self.invalid_users: set[str] = set()
        self.tokens_issued = 0
        self._tokens: dict[str, bool] = {}  # token → still valid
        self._task_ids: set[str] = set()
        self._response_codes: dict[str, bool] = {}  # code → unused
        self._faults: list[_Fault] = []
        self._members: dict[str, _Member] = {}
        self._ids = itertools.count(1)

    # --- lifecycle ----------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._send)
        app.router.add_post("/cgi-bin/message/update_template_card", self._update_card)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)

    # --- what a test sets up --------------------------------------------------------------

    def fail(self, api: str, *, errcode: int | None = None, status: int | None = None,
             times: int = 1) -> None:
        """The next `times` calls of `api` answer `errcode` (HTTP 200) or HTTP `status`."""
        if (errcode is None) == (status is None):
            raise ValueError("give an errcode or an HTTP status")
        self._faults.append(_Fault(api, errcode, status, times))

    def expire_tokens(self) -> None:
        """Every token issued so far is expired: its next use answers 42001."""
        for token in self._tokens:
            self._tokens[token] = False

    def add_media(self, data: bytes, *, filename: str = "photo.jpg",
                  content_type: str = "image/jpeg", kind: str = "image") -> str:
        media_id = f"MEDIA{next(self._ids):06d}" + "x" * 20
        self.media[media_id] = Media(data, filename, content_type, kind)
        return media_id

    def issue_response_code(self) -> str:
        code = f"RC{next(self._ids):08d}"
        self._response_codes[code] = True
        return code

    def messages_to(self, user: str) -> list[Sent]:
        return [s for s in self.sent if s.touser == user]

    def calls_of(self, api: str) -> list[Call]:
        return [c for c in self.calls if c.api == api]

    # --- the API --------------------------------------------------------------------------

    @staticmethod
    def _answer(errcode: int = 0, errmsg: str = "ok", **extra: Any) -> web.Response:
        return web.json_response({"errcode": errcode, "errmsg": errmsg, **extra})

    async def _record(self, api: str, request: web.Request) -> dict[str, Any] | None:
        body: dict[str, Any] | None = None
        if request.content_type == "application/json":
            body = json.loads(await request.text())
        self.calls.append(Call(api, dict(request.query), body, self.now()))
        return body

    def _fault(self, api: str) -> web.Response | None:
        for fault in self._faults:
            if fault.api == api and fault.remaining > 0:
                fault.remaining -= 1
                if fault.status is not None:
                    return web.Response(status=fault.status, text="fault")
                return self._answer(fault.errcode or 0, f"injected errcode {fault.errcode}")
        return None

    def _token_error(self, request: web.Request) -> web.Response | None:
        valid = self._tokens.get(request.query.get("access_token", ""))
        if valid is None:
            return self._answer(40014, "invalid access_token")
        if not valid:
            return self._answer(42001, "access_token expired")
        return None

    async def _gettoken(self, request: web.Request) -> web.Response:
        await self._record("gettoken", request)
        if (fault := self._fault("gettoken")) is not None:
            return fault
        if request.query.get("corpid") != self.corp_id:
            return self._answer(40013, "invalid corpid")
        if request.query.get("corpsecret") != self.secret:
            return self._answer(40001, "invalid credential")
        self.tokens_issued += 1
        token = f"ACCESS{self.tokens_issued:04d}{os.urandom(8).hex()}"
        self._tokens[token] = True
        return self._answer(access_token=token, expires_in=self.token_expires_in)

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._record("message/send", request) or {}
        refused = self._fault("message/send") or self._token_error(request)
        if refused is not None:
            return refused
        if body.get("agentid") != self.agent_id:
            return self._answer(40056, "invalid agentid")
        touser, msgtype = str(body.get("touser", "")), str(body.get("msgtype", ""))
        content = body.get(msgtype)
        if not touser or not isinstance(content, dict):
            return self._answer(40058, "touser and the msgtype's content are required")
        if (problem := self._check_content(msgtype, content)) is not None:
            return self._answer(*problem)
        if touser in self.invalid_users:
            return self._answer(invaliduser=touser)
        sent = Sent(touser, msgtype, content, self.now())
        if self._over_limits(touser, sent.at):
            self.dropped.append(sent)
        else:
            self.sent.append(sent)
        return self._answer(msgid=f"msg{next(self._ids)}")

    def _check_content(self, msgtype: str, content: dict[str, Any]) -> tuple[int, str] | None:
        if msgtype in ("text", "markdown"):
            text = str(content.get("content", ""))
            limit = _TEXT_LIMIT if msgtype == "text" else _MARKDOWN_LIMIT
            if not text:
                return 44004, "empty content"
            if len(text.encode()) > limit:
                return 45002, f"content over {limit} bytes"
            return None
        if msgtype in ("image", "file"):
            media = self.media.get(str(content.get("media_id", "")))
            return None if media is not None else (40007, "invalid media_id")
        if msgtype == "template_card":
            return self._check_card(content)
        return 40008, f"invalid message type {msgtype}"

    def _check_card(self, card: dict[str, Any]) -> tuple[int, str] | None:
        task_id = str(card.get("task_id", ""))
        buttons = card.get("button_list") or []
        if card.get("card_type") != "button_interaction":
            return 40058, "only button_interaction cards are faked"
        if not _TASK_ID.match(task_id) or task_id in self._task_ids:
            return 40058, "task_id missing, malformed or used before"
        if not card.get("main_title", {}).get("title"):
            return 40058, "main_title.title is required"
        if not 1 <= len(buttons) <= _CARD_BUTTONS or any(
                not b.get("key") or not b.get("text") for b in buttons):
            return 40058, "button_list needs 1..6 buttons, each with text and key"
        self._task_ids.add(task_id)
        return None

    def _over_limits(self, user: str, at: float) -> bool:
        member = self._members.setdefault(user, _Member())
        for window, seconds in ((member.minute, 60.0), (member.hour, 3600.0)):
            while window and window[0] <= at - seconds:
                window.popleft()
        if len(member.minute) >= self.per_minute or len(member.hour) >= self.per_hour:
            self.violations.append(f"{user}: over the per-member limit at {at:.3f}")
            return True
        member.minute.append(at)
        member.hour.append(at)
        return False

    async def _update_card(self, request: web.Request) -> web.Response:
        body = await self._record("message/update_template_card", request) or {}
        refused = self._fault("message/update_template_card") or self._token_error(request)
        if refused is not None:
            return refused
        code = str(body.get("response_code", ""))
        if not self._response_codes.get(code):
            return self._answer(40058, "response_code unknown or used")
        if body.get("agentid") != self.agent_id or not body.get("userids"):
            return self._answer(40058, "agentid and userids are required")
        self._response_codes[code] = False
        self.card_updates.append(body)
        return self._answer()

    async def _media_get(self, request: web.Request) -> web.StreamResponse:
        await self._record("media/get", request)
        refused = self._fault("media/get") or self._token_error(request)
        if refused is not None:
            return refused
        media = self.media.get(request.query.get("media_id", ""))
        if media is None:
            return self._answer(40007, "invalid media_id")
        return web.Response(body=media.data, content_type=media.content_type, headers={
            "Content-Disposition": f'attachment; filename="{media.filename}"'})

    async def _media_upload(self, request: web.Request) -> web.Response:
        self.calls.append(Call("media/upload", dict(request.query), None, self.now()))
        refused = self._fault("media/upload") or self._token_error(request)
        if refused is not None:
            return refused
        kind = request.query.get("type", "")
        if kind not in ("image", "file", "voice", "video"):
            return self._answer(40004, "invalid media type")
        form = await request.post()
        upload = form.get("media")
        if not isinstance(upload, web.FileField):
            return self._answer(41007, "no media field")
        data = upload.file.read()
        if kind == "image" and len(data) > _IMAGE_LIMIT:
            return self._answer(40006, "invalid file size")
        media_id = self.add_media(data, filename=upload.filename,
                                  content_type=upload.content_type, kind=kind)
        return self._answer(type=kind, media_id=media_id, created_at=str(int(time.time())))


# --- the callback driver --------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    status: int
    text: str


@dataclass(frozen=True)
class Request:
    """One callback as sent: enough to send it again byte for byte."""

    method: str
    query: dict[str, str]
    body: bytes


class WeComCallbacks:
    """WeCom calling the bot's callback URL: signed and encrypted like the real one."""

    def __init__(self, url: str, session: aiohttp.ClientSession, *, fake: FakeWeCom | None = None,
                 token: str = TOKEN, aes_key: str = AES_KEY, corp_id: str = CORP_ID,
                 agent_id: int = AGENT_ID, now: Callable[[], float] = time.time) -> None:
        self.url = url
        self.session = session
        self.fake = fake
        self.token = token
        self.aes_key = aes_key
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.now = now
        self.last: Request | None = None
        self.last_xml = ""
        self._msg_ids = itertools.count(7_000_000_000_000_000_001)
        self._nonces = itertools.count(1_000_000)

    # --- building blocks ------------------------------------------------------------------

    def query(self, encrypt: str, *, timestamp: str | None = None, nonce: str | None = None,
              signature: str | None = None) -> dict[str, str]:
        timestamp = timestamp if timestamp is not None else str(int(self.now()))
        nonce = nonce if nonce is not None else str(next(self._nonces))
        signature = signature if signature is not None else sign(self.token, timestamp, nonce,
                                                                 encrypt)
        return {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}

    def encrypt(self, xml: str, *, receiver: str | None = None) -> str:
        return seal(frame(xml, receiver if receiver is not None else self.corp_id), self.aes_key)

    def envelope(self, encrypt: str) -> bytes:
        return (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>"
                f"<AgentID><![CDATA[{self.agent_id}]]></AgentID></xml>").encode()

    async def send(self, request: Request) -> Answer:
        self.last = request
        async with self.session.request(request.method, self.url, params=request.query,
                                        data=request.body or None) as response:
            return Answer(response.status, await response.text())

    async def post_encrypted(self, encrypt: str, **query: Any) -> Answer:
        """A POST of `encrypt` as is (signed unless a signature is given)."""
        return await self.send(Request("POST", self.query(encrypt, **query),
                                       self.envelope(encrypt)))

    async def post_xml(self, xml: str, **query: Any) -> Answer:
        self.last_xml = xml
        return await self.post_encrypted(self.encrypt(xml), **query)

    # --- WeCom's callbacks ----------------------------------------------------------------

    async def url_check(self, echo: str = "1288432023552776189", **query: Any) -> Answer:
        encrypt = self.encrypt(echo)
        return await self.send(Request("GET", {**self.query(encrypt, **query),
                                               "echostr": encrypt}, b""))

    def _head(self, user: str, msg_type: str, created: int | None) -> str:
        created = created if created is not None else int(self.now())
        return (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
                f"<FromUserName><![CDATA[{user}]]></FromUserName>"
                f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>")

    def _tail(self, msg_id: int | None) -> str:
        ident = f"<MsgId>{msg_id}</MsgId>" if msg_id is not None else ""
        return f"{ident}<AgentID>{self.agent_id}</AgentID></xml>"

    def text_xml(self, user: str, content: str, *, msg_id: int | None = None,
                 created: int | None = None) -> str:
        msg_id = msg_id if msg_id is not None else next(self._msg_ids)
        return (self._head(user, "text", created)
                + f"<Content><![CDATA[{_cdata(content)}]]></Content>" + self._tail(msg_id))

    async def text(self, user: str, content: str, *, msg_id: int | None = None) -> Answer:
        return await self.post_xml(self.text_xml(user, content, msg_id=msg_id))

    async def image(self, user: str, data: bytes, *, filename: str = "photo.jpg") -> Answer:
        if self.fake is None:
            raise RuntimeError("an image callback needs the fake API to hold the media")
        media_id = self.fake.add_media(data, filename=filename)
        xml = (self._head(user, "image", None)
               + f"<PicUrl><![CDATA[{self.fake.base_url}/pic/{media_id}]]></PicUrl>"
               + f"<MediaId><![CDATA[{media_id}]]></MediaId>" + self._tail(next(self._msg_ids)))
        return await self.post_xml(xml)

    async def location(self, user: str, lat: float, lon: float, *, label: str = "") -> Answer:
        xml = (self._head(user, "location", None)
               + f"<Location_X>{lat}</Location_X><Location_Y>{lon}</Location_Y>"
               + f"<Scale>15</Scale><Label><![CDATA[{_cdata(label)}]]></Label>"
               + self._tail(next(self._msg_ids)))
        return await self.post_xml(xml)

    def event_xml(self, user: str, event: str, extra: str = "", *,
                  created: int | None = None) -> str:
        return (self._head(user, "event", created) + f"<Event><![CDATA[{event}]]></Event>"
                + extra + self._tail(None))

    async def click(self, user: str, key: str) -> Answer:
        return await self.post_xml(self.event_xml(
            user, "click", f"<EventKey><![CDATA[{_cdata(key)}]]></EventKey>"))

    async def enter_agent(self, user: str) -> Answer:
        return await self.post_xml(self.event_xml(user, "enter_agent",
                                                  "<EventKey><![CDATA[]]></EventKey>"))

    async def card_event(self, user: str, key: str, task_id: str) -> Answer:
        """A press of a template card's button; WeCom gives a ResponseCode to update it."""
        code = self.fake.issue_response_code() if self.fake is not None else "RC-unregistered"
        extra = (f"<EventKey><![CDATA[{_cdata(key)}]]></EventKey>"
                 f"<TaskId><![CDATA[{task_id}]]></TaskId>"
                 f"<CardType><![CDATA[button_interaction]]></CardType>"
                 f"<ResponseCode><![CDATA[{code}]]></ResponseCode>")
        return await self.post_xml(self.event_xml(user, "template_card_event", extra))

    async def press(self, user: str, label: str) -> Answer:
        """Press the button labelled `label` on the latest card sent to `user`."""
        if self.fake is None:
            raise RuntimeError("pressing a card's button needs the fake API")
        for sent in reversed(self.fake.messages_to(user)):
            for text, key in sent.buttons:
                if label in text:
                    return await self.card_event(user, key, str(sent.content["task_id"]))
        raise AssertionError(f"no button {label!r} among the cards sent to {user}")

    # --- WeCom again, and others ----------------------------------------------------------

    async def retry(self) -> Answer:
        """WeCom's retry of the last message: the same XML (same MsgId), a new request."""
        return await self.post_xml(self.last_xml)

    async def replay(self) -> Answer:
        """The last request byte for byte (a replay by whoever captured it)."""
        if self.last is None:
            raise RuntimeError("nothing sent yet")
        return await self.send(self.last)


def _cdata(text: str) -> str:
    """Text safe inside CDATA (a "]]>" split across two sections)."""
    return text.replace("]]>", "]]]]><![CDATA[>")
