"""The Feishu (Lark) custom bot (自定义机器人): `POST …/open-apis/bot/v2/hook/<token>`.

Signed when the bot has a secret: `timestamp` (seconds, a string) and
`sign = base64(HMAC_SHA256(key=f"{timestamp}\\n{secret}", msg=b""))` in the JSON body (key and
message the other way round from DingTalk); 19021 answers a wrong one or a clock off by more
than an hour. Messages go as rich text (`post`: the first line as its title, a paragraph a
line), a one-line message as `text`; a body is at most 20 KB. A custom bot cannot upload an
image (an `image_key` needs an app's token), so the digest goes as text with one line saying
the chart was left out. 100 messages a minute and 5 a second per bot; 11232 answers the excess.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from domain.events import Outgoing
from reminders.robots.base import (
    HttpRequest,
    Piece,
    RobotKind,
    RobotTarget,
    Trouble,
    Wait,
    WebhookRobot,
    first_line,
    json_bytes,
    part_title,
    robot_limits,
    split_text,
    with_note,
)

BODY_BYTES = 20 * 1024
TEXT_BUDGET = 18_000  # measured as the JSON of a post's paragraphs (see `post_len`)
PER_MINUTE = 100
PER_SECOND = 5
SPACING = 0.21  # seconds between two messages to a bot: 1/5 s and a margin for clock jitter

RATE_LIMITED = frozenset({11232})  # "frequency limited"
HINTS = {
    19021: "the signature is wrong (check the bot's signing secret) or the clock is off by "
           "more than an hour",
    19001: "the webhook token is wrong or the bot was removed",
    19022: "this server's IP address is not allowed by the bot's security settings",
    19024: "the message lacks the bot's custom keyword",
    9499: "Feishu could not read the request",
}
_PARAGRAPH = len(b'"}],[{"tag":"text","text":"')  # what a line break costs in a post's JSON


def sign(secret: str, timestamp: int) -> str:
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def post_len(text: str) -> int:
    """Bytes `text` takes as a post's paragraphs: JSON-escaped, each line break a new one."""
    escaped = len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2
    return escaped + (_PARAGRAPH - 2) * text.count("\n")


def _post(title: str, lines: list[str]) -> dict[str, object]:
    return {"msg_type": "post", "content": {"post": {"zh_cn": {
        "title": title, "content": [[{"tag": "text", "text": line}] for line in lines]}}}}


class FeishuRobot(WebhookRobot):
    kind = RobotKind.FEISHU
    limits = robot_limits(PER_MINUTE, spacing=SPACING)  # fewer than 5 a second per bot
    min_interval = SPACING  # between the parts of one message, too
    platform = "Feishu"
    code_keys = ("code", "StatusCode")
    message_keys = ("msg", "StatusMessage")
    rate_limited = RATE_LIMITED
    hints = HINTS

    def pieces(self, message: Outgoing, *, chart_note: str) -> list[Piece]:
        text = with_note(message.text, message, chart_note).strip("\n")
        if not text.strip():
            return []
        head, _, rest = text.partition("\n")
        if not rest.strip():
            return [Piece({"msg_type": "text", "content": {"text": text}}, "text")]
        title = first_line(head, limit=100)
        if title != head.strip():  # a head too long for a title is kept whole in the text
            rest = text
        budget = TEXT_BUDGET
        while True:
            parts = split_text(rest, budget, measure=post_len)
            bodies = [_post(part_title(title, n, len(parts)), part.split("\n"))
                      for n, part in enumerate(parts, 1)]
            if all(len(json_bytes(b)) + 200 <= BODY_BYTES for b in bodies) or budget < 1000:
                break
            budget //= 2  # a title or escapes took more than reckoned: smaller parts
        return [Piece(body, f"post {n}/{len(bodies)}") for n, body in enumerate(bodies, 1)]

    def request(self, target: RobotTarget, piece: Piece, *, now: float) -> HttpRequest:
        body = dict(piece.body)
        if target.secret:
            timestamp = int(now)
            body = {"timestamp": str(timestamp), "sign": sign(target.secret, timestamp), **body}
        return HttpRequest(target.url, json_bytes(body))

    def retry(self, status: int, code: int, message: str) -> Wait | Trouble | None:
        """Feishu may answer its rate limit with HTTP 429 and another code, and a server error
        with a code; its -1 is no "system busy"."""
        if status == 429:
            return Wait(self.wait_seconds, code, message)
        if status >= 500:
            return Trouble(f"HTTP {status} code {code} {message}")
        return None
