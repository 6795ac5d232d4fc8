"""The WeCom group robot (群机器人): `POST …/cgi-bin/webhook/send?key=KEY`.

Markdown of at most 4,096 bytes (40058 beyond), so a longer digest goes as numbered parts cut
at line ends; the chart as an image message (`base64` and the `md5` of the raw bytes, JPG or
PNG of at most 2 MB), re-encoded with Pillow until it fits. No signature: the key in the URL is
the credential. 20 messages a minute per robot; 45009 answers the excess, 93000 a wrong key.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging

from PIL import Image

from domain.events import Outgoing
from reminders.limits import ChannelLimits, Limit
from reminders.robots.base import (
    Delivered,
    HttpRequest,
    Outcome,
    Piece,
    Refused,
    RobotKind,
    RobotTarget,
    Trouble,
    Wait,
    code_of,
    json_bytes,
    numbered_parts,
    read_json,
)

logger = logging.getLogger(__name__)

MARKDOWN_BYTES = 4096
IMAGE_BYTES = 2 * 1024 * 1024
PER_MINUTE = 20

RATE_LIMITED = frozenset({45009})  # "api freq out of limit"
HINTS = {
    93000: "the webhook key is wrong or the robot was removed from the group",
    40058: "the message is longer than WeCom takes",
    40009: "the image is too big or not a JPG/PNG",
    301019: "the image's md5 does not match",
}
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_QUALITIES = (85, 70, 55, 40)


def image_format(data: bytes) -> str | None:
    if data.startswith(_JPEG):
        return "jpeg"
    if data.startswith(_PNG):
        return "png"
    return None


def fit_image(data: bytes, limit: int = IMAGE_BYTES) -> bytes:
    """A JPG or PNG of at most `limit` bytes showing `data`: as it is when it already is one,
    else re-encoded as JPEG at falling quality, then smaller, until it fits.

    Raises `OSError`/`ValueError` (Pillow's) when `data` is no image Pillow can read.
    """
    if image_format(data) is not None and len(data) <= limit:
        return data
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        if opened.mode in ("RGBA", "LA", "P"):
            rgba = opened.convert("RGBA")
            frame = Image.new("RGB", rgba.size, "white")
            frame.paste(rgba, mask=rgba.getchannel("A"))
        else:
            frame = opened.convert("RGB")
    width, height = frame.size
    scale = 1.0
    while True:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        resized = frame if scale == 1.0 else frame.resize(size, Image.Resampling.BILINEAR)
        for quality in _QUALITIES:
            out = io.BytesIO()
            resized.save(out, format="JPEG", quality=quality, optimize=True)
            if out.tell() <= limit:
                return out.getvalue()
        if size == (1, 1):  # cannot happen for a sane limit; never loop for ever
            raise ValueError("image cannot be made small enough")
        scale *= 0.7


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()  # WeCom's checksum, not security


class WeComRobot:
    kind = RobotKind.WECOM
    limits = ChannelLimits(
        overall=Limit(100, 1.0),  # all WeCom robots together: no platform limit known
        per_chat=Limit(PER_MINUTE, 60.0),  # each robot: 20 a minute
        per_group=Limit(1, 0.0),  # one message at a time per robot, so its parts stay in order
    )
    min_interval = 0.0

    def pieces(self, message: Outgoing, *, chart_note: str) -> list[Piece]:
        parts = numbered_parts(message.text, MARKDOWN_BYTES) if message.text.strip() else []
        pieces = [Piece({"msgtype": "markdown", "markdown": {"content": part}},
                        f"markdown {n}/{len(parts)}") for n, part in enumerate(parts, 1)]
        if message.image is not None:
            try:
                image = fit_image(message.image)
            except (OSError, ValueError) as exc:
                logger.warning("robots: a chart could not be read (%s); sent without it",
                               type(exc).__name__)
            else:
                pieces.append(Piece({"msgtype": "image", "image": {
                    "base64": base64.b64encode(image).decode("ascii"),
                    "md5": md5_hex(image)}}, "image"))
        return pieces

    def request(self, target: RobotTarget, piece: Piece, *, now: float) -> HttpRequest:
        return HttpRequest(target.url, json_bytes(piece.body))

    def read_answer(self, status: int, body: bytes) -> Outcome:
        answer = read_json(body)
        code = code_of(answer, "errcode") if answer is not None else None
        if code is None:
            if status >= 500 or status in (408, 429):
                return Wait(60.0, status, f"HTTP {status}") if status == 429 \
                    else Trouble(f"HTTP {status}")
            return Trouble(f"HTTP {status}: not a WeCom answer")
        message = str((answer or {}).get("errmsg", ""))
        if code == 0:
            return Delivered()
        if code in RATE_LIMITED:
            return Wait(60.0, code, message)
        if code == -1:  # "system busy"
            return Trouble(f"errcode -1 {message}")
        return Refused(code, message, HINTS.get(code, ""))
