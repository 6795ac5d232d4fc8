"""The callback server (aiohttp): WeCom's URL check and its encrypted message callbacks.

WeCom waits 5 s for an answer and then sends the same callback again, up to three times. So a
message is verified, decrypted and parsed in the request, answered at once (an empty 200), and
handled in a background task; the app waits for those tasks when it shuts down. A retry of a
message still in hand is recognised by its MsgId (events: sender + time) in a small memory and
answered without handling it again; a retry after a restart carries the same key in
`Incoming.receipts`, which the router skips once the first delivery changed anything.

Refused, with nothing handled and one log line each: a forged signature, a stale timestamp or a
nonce seen before (replay), bad base64, bad padding, a message for another corp, bad XML. The
nonce rule assumes, as WeCom's documentation implies, that a retry is a new request (its own
timestamp, nonce and signature); were one ever sent byte for byte again it would be refused as a
replay — harmless, since the first was answered and taken.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.wecom.crypto import (
    BadBase64,
    BadSignature,
    BadXml,
    CryptoError,
    DecryptFailed,
    WrongReceiver,
    WXBizMsgCrypt,
)
from bot.wecom.mapping import MAX_XML_BYTES, Inbound, parse_envelope, parse_message

logger = logging.getLogger(__name__)

OnMessage = Callable[[Inbound], Awaitable[None]]
REPLAY_WINDOW = 300.0  # seconds either side of our clock
NONCES_KEPT = 100_000  # bounded memory under a flood of signed requests
RECENT_KEPT = 4096  # message keys remembered for WeCom's retry burst
QUERY = ("msg_signature", "timestamp", "nonce")


class Refused(Exception):
    """A callback not taken; `reason` names it for the log line and the metrics."""

    def __init__(self, reason: str, status: int, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.status = status


def _refusal(exc: CryptoError) -> Refused:
    if isinstance(exc, BadSignature):
        return Refused("signature", 403, str(exc))
    if isinstance(exc, WrongReceiver):
        return Refused("receiver", 403, str(exc))
    if isinstance(exc, BadBase64):
        return Refused("base64", 400, str(exc))
    if isinstance(exc, DecryptFailed):
        return Refused("decrypt", 400, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, BadXml):
        return Refused("xml", 400, str(exc))
    return Refused("crypto", 400, f"{type(exc).__name__}: {exc}")


class ReplayGuard:
    """A timestamp within the window of our clock, and each nonce once within the window.

    Checked only after the signature, so only requests signed with our Token fill its memory.
    """

    def __init__(self, window: float = REPLAY_WINDOW, *, now: Callable[[], float] = time.time,
                 capacity: int = NONCES_KEPT) -> None:
        self.window = window
        self._now = now
        self._capacity = capacity
        self._nonces: OrderedDict[str, float] = OrderedDict()  # nonce → when first seen

    def check(self, timestamp: str, nonce: str) -> None:
        now = self._now()
        try:
            sent = float(int(timestamp))
        except ValueError:
            raise Refused("replay", 403, "the timestamp is not a number") from None
        if abs(now - sent) > self.window:
            raise Refused("replay", 403, f"timestamp {timestamp} is {sent - now:+.0f} s from "
                                         f"our clock, outside ±{self.window:g} s")
        while self._nonces and (next(iter(self._nonces.values())) < now - 2 * self.window
                                or len(self._nonces) >= self._capacity):
            self._nonces.popitem(last=False)
        if nonce in self._nonces:
            raise Refused("replay", 403, "nonce seen before within the window")
        self._nonces[nonce] = now


class RecentKeys:
    """The last `capacity` keys taken, oldest forgotten first."""

    def __init__(self, capacity: int = RECENT_KEPT) -> None:
        self._capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """True if `key` is new (and now remembered), False if it was seen."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self._capacity:
            self._keys.popitem(last=False)
        return True


@dataclass(frozen=True, slots=True)
class Signed:
    msg_signature: str
    timestamp: str
    nonce: str


class CallbackServer:
    """Verifies, decrypts and parses callbacks; hands each new message to `on_message`."""

    def __init__(self, crypto: WXBizMsgCrypt, on_message: OnMessage, *,
                 replay: ReplayGuard | None = None, recent: RecentKeys | None = None,
                 max_body: int = MAX_XML_BYTES) -> None:
        self._crypto = crypto
        self._on_message = on_message
        self._replay = replay or ReplayGuard()
        self._recent = recent or RecentKeys()
        self._max_body = max_body
        self.tasks: set[asyncio.Task[None]] = set()
        self.refusals: Counter[str] = Counter()
        self.accepted = 0
        self.retries = 0

    # --- the two requests -----------------------------------------------------------------

    async def url_check(self, request: web.Request) -> web.Response:
        try:
            signed = self._signed(request)
            # A '+' of base64 sent unescaped arrives as a space; base64 has no spaces.
            echostr = request.query.get("echostr", "").replace(" ", "+")
            if not echostr:
                raise Refused("request", 400, "missing echostr")
            self._verify(signed, echostr)
            plain = self._open(echostr)
        except Refused as exc:
            return self._refuse(request, exc)
        logger.info("wecom callback: URL check answered")
        return web.Response(body=plain.encode("utf-8"), content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        try:
            signed = self._signed(request)
            body = await self._body(request)
            try:
                envelope = parse_envelope(body)
            except BadXml as exc:
                raise _refusal(exc) from None
            self._verify(signed, envelope.encrypt)
            message = self._parse(self._open(envelope.encrypt))
        except Refused as exc:
            return self._refuse(request, exc)
        self.take(message)
        return web.Response(status=200)

    def take(self, message: Inbound) -> bool:
        """Start handling `message` in the background unless it is a retry in hand."""
        if not self._recent.add(message.dedup_key):
            self.retries += 1
            logger.info("wecom callback: %s from %s again (a retry); already taken",
                        message.dedup_key, message.from_user)
            return False
        self.accepted += 1
        task = asyncio.create_task(self._handle(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return True

    async def drain(self) -> None:
        """Wait for every message taken to be handled (on shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    # --- steps ----------------------------------------------------------------------------

    @staticmethod
    def _signed(request: web.Request) -> Signed:
        missing = [name for name in QUERY if not request.query.get(name)]
        if missing:
            raise Refused("request", 400, f"missing {', '.join(missing)}")
        return Signed(*(request.query[name] for name in QUERY))

    async def _body(self, request: web.Request) -> bytes:
        if (request.content_length or 0) > self._max_body:
            raise Refused("size", 413, f"body of {request.content_length} bytes")
        body = await request.content.read(self._max_body + 1)
        if len(body) > self._max_body:
            raise Refused("size", 413, f"body over {self._max_body} bytes")
        return body

    def _verify(self, signed: Signed, encrypt: str) -> None:
        try:
            self._crypto.verify(signed.msg_signature, signed.timestamp, signed.nonce, encrypt)
        except CryptoError as exc:
            raise _refusal(exc) from None
        self._replay.check(signed.timestamp, signed.nonce)

    def _open(self, encrypt: str) -> str:
        try:
            return self._crypto.decrypt(encrypt)
        except CryptoError as exc:
            raise _refusal(exc) from None

    @staticmethod
    def _parse(xml_text: str) -> Inbound:
        try:
            return parse_message(xml_text)
        except BadXml as exc:
            raise _refusal(exc) from None

    def _refuse(self, request: web.Request, exc: Refused) -> web.Response:
        self.refusals[exc.reason] += 1
        logger.warning("wecom callback: refused a %s from %s (%s): %s", request.method,
                       request.remote, exc.reason, exc)
        return web.Response(status=exc.status)

    async def _handle(self, message: Inbound) -> None:
        try:
            await self._on_message(message)
        except Exception:
            logger.exception("wecom callback: handling %s from %s failed", message.dedup_key,
                             message.from_user)


def callback_app(server: CallbackServer, *, path: str = "/wecom/callback",
                 extra: Callable[[web.Application], None] | None = None) -> web.Application:
    """The aiohttp app serving `path`; on shutdown it waits for the messages in hand."""

    async def drain(_app: web.Application) -> None:
        await server.drain()

    app = web.Application(client_max_size=MAX_XML_BYTES)
    app.router.add_get(path, server.url_check)
    app.router.add_post(path, server.receive)
    app.on_shutdown.append(drain)
    if extra is not None:
        extra(app)
    return app
