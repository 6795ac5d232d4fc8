"""A fake of the three push-only robot webhooks, for tests: one server on 127.0.0.1.

- WeCom group robot: `POST /cgi-bin/webhook/send?key=KEY`
- DingTalk custom robot: `POST /robot/send?access_token=TOKEN[&timestamp=MS&sign=S]`
- Feishu custom bot: `POST /open-apis/bot/v2/hook/TOKEN` (timestamp and sign in the body)

It answers as the platforms do (HTTP 200 with an error code in the JSON): a wrong key or
token, a wrong signature or a timestamp more than an hour off, a markdown over 4,096 bytes, an
image over 2 MB, not JPG/PNG or with the wrong md5, a Feishu body over 20 KB; and it keeps each
robot's rate limit on the test's clock, answering the excess with the platform's rate-limit
code and recording it in `violations`. What was accepted is in `received`, in order.

Error codes from the platforms' documentation and public reports: WeCom 93000 (bad key),
40058 (too long), 45009 (rate); DingTalk 310000 (signature, timestamp), 130101 (rate);
Feishu 19001 (bad token), 19021 (signature, timestamp), 11232 (rate). Assumed, not confirmed:
WeCom 40009 (image size or type) and 301019 (md5), DingTalk 300001 (bad token) and 460101 (too
long), Feishu 9499 (body too large).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from tests.fakes.server import LoopbackServer

WECOM = "wecom_robot"
DINGTALK = "dingtalk"
FEISHU = "feishu"

WECOM_MARKDOWN_BYTES = 4096
WECOM_TEXT_BYTES = 2048
WECOM_IMAGE_BYTES = 2 * 1024 * 1024
DINGTALK_TEXT_BYTES = 20_000
FEISHU_BODY_BYTES = 20 * 1024
SIGNATURE_WINDOW = 3600.0  # seconds a signed timestamp may be off
DINGTALK_THROTTLE = 600.0  # DingTalk stops a robot for 10 minutes once it went over

# (count, seconds) windows per robot
LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    WECOM: ((20, 60.0),),
    DINGTALK: ((20, 60.0),),
    FEISHU: ((100, 60.0), (5, 1.0)),
}


@dataclass(frozen=True)
class Received:
    """One message a robot accepted."""

    kind: str
    robot: str  # its key or token
    msgtype: str  # markdown, image, text, post
    text: str  # the markdown or text; a post's paragraphs joined by newlines
    title: str | None = None  # DingTalk markdown and Feishu post titles
    image: bytes | None = None
    md5: str | None = None
    at: float = 0.0  # the test's clock


@dataclass
class _Robot:
    kind: str
    token: str
    secret: str | None
    stamps: list[deque[float]] = field(default_factory=list)
    throttled_until: float = float("-inf")
    faults: deque[int | None] = field(default_factory=deque)  # next answers: a status or None


class _Refusal(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


def dingtalk_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class FakeRobots(LoopbackServer):
    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, enforce_limits: bool = True) -> None:
        self.clock = clock  # rate windows
        self.wall = wall  # signature timestamps
        self.enforce_limits = enforce_limits
        self.base_url = ""
        self.received: list[Received] = []
        self.violations: list[str] = []
        self.refusals: list[tuple[str, int, str]] = []  # (kind, code, message)
        self.requests = 0
        self._robots: dict[tuple[str, str], _Robot] = {}

    # ---------------------------------------------------------------- lifecycle

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/cgi-bin/webhook/send", self._wecom)
        app.router.add_post("/robot/send", self._dingtalk)
        app.router.add_post("/open-apis/bot/v2/hook/{token}", self._feishu)

    # ---------------------------------------------------------------- robots

    def _add(self, kind: str, token: str, secret: str | None) -> None:
        windows = [deque[float]() for _ in LIMITS[kind]]
        self._robots[kind, token] = _Robot(kind, token, secret, windows)

    def wecom(self, key: str) -> str:
        """A WeCom group robot; returns its webhook URL."""
        self._add(WECOM, key, None)
        return f"{self.base_url}/cgi-bin/webhook/send?key={key}"

    def dingtalk(self, token: str, secret: str | None = None) -> str:
        self._add(DINGTALK, token, secret)
        return f"{self.base_url}/robot/send?access_token={token}"

    def feishu(self, token: str, secret: str | None = None) -> str:
        self._add(FEISHU, token, secret)
        return f"{self.base_url}/open-apis/bot/v2/hook/{token}"

    def fail_next(self, kind: str, token: str, *, status: int = 502, times: int = 1,
                  after: int = 0) -> None:
        """After `after` requests answered as usual, the robot's next `times` get this HTTP
        status (a server error, a bad gateway)."""
        self._robots[kind, token].faults.extend([None] * after + [status] * times)

    def crowd(self, kind: str, token: str, count: int) -> None:
        """`count` messages someone else sent the robot just now (they count in its limit)."""
        robot = self._robots[kind, token]
        for window in robot.stamps:
            window.extend([self.clock()] * count)

    def to(self, token: str) -> list[Received]:
        return [r for r in self.received if r.robot == token]

    # ---------------------------------------------------------------- shared checks

    def _admit(self, robot: _Robot, rate_code: int, rate_message: str) -> float:
        """The arrival time, after the robot's rate limits (over them: the platform's code)."""
        at = self.clock()
        if not self.enforce_limits:
            return at
        if at < robot.throttled_until:
            raise _Refusal(rate_code, rate_message)
        for window, (count, seconds) in zip(robot.stamps, LIMITS[robot.kind], strict=True):
            while window and window[0] <= at - seconds:
                window.popleft()
            if len(window) >= count:
                self.violations.append(f"{robot.kind} {robot.token}: message {count + 1} "
                                       f"within {seconds:g} s at {at:.3f}")
                if robot.kind == DINGTALK:
                    robot.throttled_until = at + DINGTALK_THROTTLE
                raise _Refusal(rate_code, rate_message)
        for window in robot.stamps:
            window.append(at)
        return at

    def _answer(self, kind: str, code: int, message: str, *, feishu: bool = False
                ) -> web.Response:
        if code:
            self.refusals.append((kind, code, message))
        body: dict[str, Any] = ({"code": code, "msg": message, "data": {}} if feishu
                                else {"errcode": code, "errmsg": message})
        return web.json_response(body)

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _Refusal(-2, "invalid json")  # replaced by each platform's own below
        return body

    def _fault(self, robot: _Robot | None) -> web.Response | None:
        if robot is None or not robot.faults:
            return None
        status = robot.faults.popleft()
        return None if status is None else web.Response(status=status, text="Bad Gateway")

    # ---------------------------------------------------------------- WeCom

    async def _wecom(self, request: web.Request) -> web.Response:
        self.requests += 1
        robot = self._robots.get((WECOM, request.query.get("key", "")))
        if (fault := self._fault(robot)) is not None:
            return fault
        try:
            if robot is None:
                raise _Refusal(93000, "invalid webhook url, hint: [fake], more info at "
                                      "https://open.work.weixin.qq.com/devtool/query?e=93000")
            body = await self._json(request)
            received = self._wecom_message(robot, body)
            at = self._admit(robot, 45009, "api freq out of limit")
        except _Refusal as refusal:
            code = 40001 if refusal.code == -2 else refusal.code
            return self._answer(WECOM, code, refusal.message)
        self.received.append(replace(received, at=at))
        return self._answer(WECOM, 0, "ok")

    def _wecom_message(self, robot: _Robot, body: dict[str, Any]) -> Received:
        msgtype = body.get("msgtype")
        if msgtype in ("markdown", "text"):
            content = (body.get(msgtype) or {}).get("content")
            if not isinstance(content, str) or not content:
                raise _Refusal(40008, f"invalid message type, {msgtype}.content missing")
            limit = WECOM_MARKDOWN_BYTES if msgtype == "markdown" else WECOM_TEXT_BYTES
            if len(content.encode()) > limit:
                raise _Refusal(40058, f"{msgtype}.content exceed max length {limit}. "
                                      "invalid Parameter")
            return Received(WECOM, robot.token, msgtype, content)
        if msgtype == "image":
            image = body.get("image") or {}
            try:
                data = base64.b64decode(str(image.get("base64", "")), validate=True)
            except (binascii.Error, ValueError):
                raise _Refusal(40009, "invalid image base64") from None
            if hashlib.md5(data, usedforsecurity=False).hexdigest() != image.get("md5"):
                raise _Refusal(301019, "media md5 not match")
            if len(data) > WECOM_IMAGE_BYTES or not data.startswith(
                    (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
                raise _Refusal(40009, "invalid image size")
            return Received(WECOM, robot.token, "image", "", image=data, md5=image.get("md5"))
        raise _Refusal(40008, "invalid message type")

    # ---------------------------------------------------------------- DingTalk

    async def _dingtalk(self, request: web.Request) -> web.Response:
        self.requests += 1
        robot = self._robots.get((DINGTALK, request.query.get("access_token", "")))
        if (fault := self._fault(robot)) is not None:
            return fault
        try:
            if robot is None:
                raise _Refusal(300001, "token is not exist")
            if robot.secret is not None:
                self._dingtalk_signature(robot.secret, request)
            body = await self._json(request)
            received = self._dingtalk_message(robot, body)
            at = self._admit(robot, 130101, "send too fast, exceed 20 times per minute")
        except _Refusal as refusal:
            code = 40035 if refusal.code == -2 else refusal.code
            return self._answer(DINGTALK, code, refusal.message)
        self.received.append(replace(received, at=at))
        return self._answer(DINGTALK, 0, "ok")

    def _dingtalk_signature(self, secret: str, request: web.Request) -> None:
        timestamp = request.query.get("timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - self.wall() * 1000) > \
                SIGNATURE_WINDOW * 1000:
            raise _Refusal(310000, "invalid timestamp, more: [https://ding-doc.dingtalk.com]")
        given = request.query.get("sign", "")
        if not hmac.compare_digest(given, dingtalk_sign(secret, timestamp)):
            raise _Refusal(310000, "sign not match, more: [https://ding-doc.dingtalk.com]")

    def _dingtalk_message(self, robot: _Robot, body: dict[str, Any]) -> Received:
        msgtype = body.get("msgtype")
        if msgtype == "markdown":
            markdown = body.get("markdown") or {}
            title, text = markdown.get("title"), markdown.get("text")
            if not isinstance(title, str) or not title or not isinstance(text, str) or not text:
                raise _Refusal(40035, "缺少参数 markdown.title 或 markdown.text")
        elif msgtype == "text":
            title, text = None, (body.get("text") or {}).get("content")
            if not isinstance(text, str) or not text:
                raise _Refusal(40035, "缺少参数 text.content")
        else:
            raise _Refusal(400105, "不支持的消息类型")
        if len(text.encode()) > DINGTALK_TEXT_BYTES:
            raise _Refusal(460101, "message too long, exceed 20000 bytes")
        return Received(DINGTALK, robot.token, msgtype, text, title=title)

    # ---------------------------------------------------------------- Feishu

    async def _feishu(self, request: web.Request) -> web.Response:
        self.requests += 1
        robot = self._robots.get((FEISHU, request.match_info["token"]))
        if (fault := self._fault(robot)) is not None:
            return fault
        try:
            if robot is None:
                raise _Refusal(19001, "param invalid: incoming webhook access token invalid")
            raw = await request.read()
            if len(raw) > FEISHU_BODY_BYTES:
                raise _Refusal(9499, "request body too large")
            body = await self._json(request)
            if robot.secret is not None:
                self._feishu_signature(robot.secret, body)
            received = self._feishu_message(robot, body)
            at = self._admit(robot, 11232, "frequency limited")
        except _Refusal as refusal:
            code = 9499 if refusal.code == -2 else refusal.code
            return self._answer(FEISHU, code, refusal.message, feishu=True)
        self.received.append(replace(received, at=at))
        return self._answer(FEISHU, 0, "success", feishu=True)

    def _feishu_signature(self, secret: str, body: dict[str, Any]) -> None:
        timestamp, given = body.get("timestamp"), body.get("sign")
        if (not isinstance(timestamp, str) or not timestamp.isdigit()
                or abs(int(timestamp) - self.wall()) > SIGNATURE_WINDOW
                or not isinstance(given, str)
                or not hmac.compare_digest(given, feishu_sign(secret, timestamp))):
            raise _Refusal(19021, "sign match fail or timestamp is not within one hour from "
                                  "current time")

    def _feishu_message(self, robot: _Robot, body: dict[str, Any]) -> Received:
        msg_type, content = body.get("msg_type"), body.get("content")
        if not isinstance(content, dict):
            raise _Refusal(19002, "params error, content need")
        if msg_type == "text" and isinstance(content.get("text"), str) and content["text"]:
            return Received(FEISHU, robot.token, "text", content["text"])
        if msg_type == "post":
            post = content.get("post") or {}
            locale = next(iter(post.values()), None) if isinstance(post, dict) else None
            if not isinstance(locale, dict) or not isinstance(locale.get("content"), list):
                raise _Refusal(9499, "Bad Request: post content")
            lines = ["".join(str(e.get("text", "")) for e in paragraph if isinstance(e, dict))
                     for paragraph in locale["content"] if isinstance(paragraph, list)]
            return Received(FEISHU, robot.token, "post", "\n".join(lines),
                            title=locale.get("title"))
        raise _Refusal(19002, "params error, msg_type need")
