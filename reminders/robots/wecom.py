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
from reminders.robots.base import (
    Piece,
    RobotKind,
    WebhookRobot,
    numbered_parts,
    robot_limits,
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


class WeComRobot(WebhookRobot):
    kind = RobotKind.WECOM
    limits = robot_limits(PER_MINUTE)
    platform = "WeCom"
    rate_limited = RATE_LIMITED
    hints = HINTS
    plain_statuses = frozenset({408})  # Request Timeout, from WeCom or a proxy

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
