"""What the three push-only robots share: kinds, targets, what a platform answered, and text cut
into parts that fit a platform's byte limit.

A robot module turns an `Outgoing` into `Piece`s (one platform message each: markdown parts,
then an image where the kind takes one), signs each into an HTTP request at the moment it goes,
and reads the platform's answer into an `Outcome`; `reminders.robots.port` does the I/O. What
the kinds do alike (the posting, the reading of an answer by its error code, the send limits)
is `WebhookRobot`; a kind module keeps what its platform does differently.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from domain.events import Outgoing
from reminders.limits import ChannelLimits, Limit


class RobotKind(enum.StrEnum):
    """Also the outbox channel of the robot's groups (`GroupChat.channel`, `webhook_kind`)."""

    WECOM = "wecom_robot"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


@dataclass(frozen=True, slots=True)
class RobotTarget:
    """One robot: the group it feeds, its webhook URL and signing secret (never printed)."""

    group_id: int
    url: str = field(repr=False)
    secret: str | None = field(repr=False, default=None)

    def secrets(self) -> list[str]:
        """Every secret string in the target: the URL, its query values, its last path
        segment (Feishu's token) and the signing secret, longest first."""
        parts = urlsplit(self.url)
        found = [self.url, parts.path.rsplit("/", 1)[-1]]
        found += [v for values in parse_qs(parts.query).values() for v in values]
        if self.secret:
            found.append(self.secret)
        return sorted({s for s in found if len(s) >= 6}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """`text` with every secret of the target replaced by ***."""
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return text


@dataclass(frozen=True, slots=True)
class Piece:
    """One platform message of a robot: its JSON body before any signature."""

    body: dict[str, Any]
    what: str  # "markdown 2/3", "image" — for logs


@dataclass(frozen=True, slots=True)
class HttpRequest:
    url: str = field(repr=False)
    body: bytes


# --- what a platform answered ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Delivered:
    pass


@dataclass(frozen=True, slots=True)
class Wait:
    """The robot's rate limit was hit: nothing to this robot for `seconds`."""

    seconds: float
    errcode: int
    message: str


@dataclass(frozen=True, slots=True)
class Refused:
    """Refused for good: a wrong URL or secret, a message the platform will never take."""

    errcode: int | None  # None: refused before the platform was asked (a URL that is none)
    message: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Trouble:
    """A server error, a time-out, an answer that is not the platform's: worth a retry."""

    detail: str


Outcome = Delivered | Wait | Refused | Trouble


class Robot(Protocol):
    """One robot kind: what a message becomes, how a request is signed, what an answer means."""

    kind: RobotKind
    limits: ChannelLimits
    min_interval: float
    """Seconds between two messages to one robot (Feishu's 5/s); 0 for none."""

    def pieces(self, message: Outgoing, *, chart_note: str) -> list[Piece]: ...

    def request(self, target: RobotTarget, piece: Piece, *, now: float) -> HttpRequest: ...

    def read_answer(self, status: int, body: bytes) -> Outcome: ...


def robot_limits(per_minute: int, *, spacing: float = 0.0) -> ChannelLimits:
    """A kind's send limits: 100 a second for all its robots together (no platform limit is
    known), `per_minute` to each robot, and one message at a time per robot, `spacing` seconds
    apart at the least, so that the parts of a message stay together and in order."""
    return ChannelLimits(overall=Limit(100, 1.0), per_chat=Limit(per_minute, 60.0),
                         per_group=Limit(1, spacing))


class WebhookRobot:
    """What of a `Robot` the three kinds share: a piece's JSON posted as it is (a kind that signs
    overrides `request`), and an answer read by its error code.

    A kind says where its answer keeps the code and the message, which codes mean the robot
    sent too fast and how long it then waits, and a hint for each code that refuses for good.
    An answer without a code is the platform's 429 (a minute's wait) or worth a retry.
    """

    kind: RobotKind
    limits: ChannelLimits
    min_interval = 0.0
    platform: str  # as a log names it: "not a WeCom answer"
    code_keys: tuple[str, ...] = ("errcode",)
    message_keys: tuple[str, ...] = ("errmsg",)
    rate_limited: frozenset[int]
    wait_seconds = 60.0  # how long a robot that sent too fast waits
    hints: Mapping[int, str]
    plain_statuses: frozenset[int] = frozenset()
    """HTTP statuses besides 5xx whose answer without a code is logged as the bare status."""

    def request(self, target: RobotTarget, piece: Piece, *, now: float) -> HttpRequest:
        return HttpRequest(target.url, json_bytes(piece.body))

    def read_answer(self, status: int, body: bytes) -> Outcome:
        answer = read_json(body) or {}
        code = code_of(answer, *self.code_keys)
        if code is None:
            if status == 429:
                return Wait(60.0, status, "HTTP 429")
            if status >= 500 or status in self.plain_statuses:
                return Trouble(f"HTTP {status}")
            return Trouble(f"HTTP {status}: not a {self.platform} answer")
        message = str(next((answer[key] for key in self.message_keys if key in answer), ""))
        if code == 0:
            return Delivered()
        if code in self.rate_limited:
            return Wait(self.wait_seconds, code, message)
        again = self.retry(status, code, message)
        return again if again is not None else Refused(code, message, self.hints.get(code, ""))

    def retry(self, status: int, code: int, message: str) -> Wait | Trouble | None:
        """What an answer with any other error code is when it is not refused for good: by
        default -1, "system busy" (系统繁忙), is worth a retry."""
        return Trouble(f"errcode -1 {message}") if code == -1 else None


# --- shared helpers ------------------------------------------------------------------------

def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut_line(line: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    """A line longer than `limit` cut between characters (never inside one)."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        cost = measure(char)
        if current and size + cost > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += cost
    if current:
        pieces.append("".join(current))
    return pieces


def split_text(text: str, limit: int, *,
               measure: Callable[[str], int] = utf8_len) -> list[str]:
    """`text` in parts of at most `limit` (UTF-8 bytes by default), cut at line ends; a single
    line that does not fit is cut between characters. Joined with newlines they give `text`
    back, except where a line had to be cut."""
    if measure(text) <= limit:
        return [text]
    newline = measure("\n")
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        for chunk in (_cut_line(line, limit, measure) if measure(line) > limit else [line]):
            cost = measure(chunk) + (newline if current else 0)
            if current and size + cost > limit:
                parts.append("\n".join(current))
                current, size = [], 0
                cost = measure(chunk)
            current.append(chunk)
            size += cost
    if current:
        parts.append("\n".join(current))
    return parts


MARKER_ROOM = 16  # bytes kept free in each part for "\n(12/13)"


def numbered_parts(text: str, limit: int, *,
                   measure: Callable[[str], int] = utf8_len) -> list[str]:
    """`split_text`, each part of several ending with "(2/3)" so a reader sees it goes on."""
    if measure(text) <= limit:
        return [text]
    parts = split_text(text, limit - MARKER_ROOM, measure=measure)
    return [f"{part}\n({n}/{len(parts)})" for n, part in enumerate(parts, 1)]


def strip_marker(part: str) -> str:
    """A part without its "(2/3)" marker (for tests and logs)."""
    head, sep, tail = part.rpartition("\n(")
    return head if sep and tail.endswith(")") and "/" in tail else part


def part_title(title: str, n: int, count: int) -> str:
    """The title of part `n` of `count`: "周报 (2/3)", or the title alone for a single part."""
    return title if count == 1 else f"{title} ({n}/{count})"


def with_note(text: str, message: Outgoing, note: str) -> str:
    """The text, and a line saying the chart was left out when the message had one."""
    if message.image is None or not note:
        return text
    return f"{text}\n\n{note}" if text else note


def json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_json(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def code_of(answer: dict[str, Any], *keys: str) -> int | None:
    """The first integer error code among `keys` (platforms name it differently)."""
    for key in keys:
        value = answer.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def first_line(text: str, *, limit: int = 64) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"

