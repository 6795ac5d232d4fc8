"""The real `fieldbot run` process against the fake Telegram Bot API, and people to drive it."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from tests.e2e.process import FieldbotRun
from tests.e2e.test_console_cli import run
from tests.fakes.telegram_api import FakeTelegram, SentMessage

CODE = re.compile(r"邀请码：([2-9A-Z]{10})")
GROUP_CODE = re.compile(r"群绑定码：([2-9A-Z]{10})")


def telegram_env(env: dict[str, str], tg: FakeTelegram, **extra: str) -> dict[str, str]:
    return env | {"FIELDBOT_TELEGRAM__TOKEN": tg.token,
                  "FIELDBOT_TELEGRAM__API_BASE": tg.base_url,
                  "FIELDBOT_TELEGRAM__ALBUM_WAIT_SECONDS": "0.3",
                  "FIELDBOT_TELEGRAM__POLL_TIMEOUT": "5",
                  "FIELDBOT_OUTBOX__IDLE_POLL_SECONDS": "0.2",
                  # the wall clock would decide which rhythm is due: off unless a test sets it
                  "FIELDBOT_RHYTHMS__ENABLED": "false"} | extra


async def cli(args: list[str], env: dict[str, str]) -> str:
    """A `fieldbot` command run to its end (in a thread: the fake server keeps answering)."""
    result = await asyncio.to_thread(run, args, env)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def invite(env: dict[str, str], who: str) -> str:
    out = await cli(["invite", who], env)
    found = CODE.search(out)
    assert found, out
    return found.group(1)


class BotProcess(FieldbotRun):
    async def start(self, tg: FakeTelegram) -> None:
        """Start the process and wait until it listens (its first getUpdates or setWebhook)."""
        before = len(tg.calls_of("getUpdates")) + len(tg.calls_of("setWebhook"))
        await self.spawn()
        await tg.wait_for(lambda: len(tg.calls_of("getUpdates")) + len(tg.calls_of("setWebhook"))
                          > before, timeout=30)


@asynccontextmanager
async def running(env: dict[str, str], tg: FakeTelegram, log: Path,
                  *args: str) -> AsyncIterator[BotProcess]:
    bot = BotProcess(env, log, args)
    await bot.start(tg)
    try:
        yield bot
    finally:
        if bot.process is not None:
            await bot.stop(signal.SIGKILL)


def confirmed(tg: FakeTelegram, update_id: int) -> bool:
    """The bot asked for updates past this one: it has handled it (and sent its replies)."""
    return any(int(c.params.get("offset") or 0) > update_id for c in tg.calls_of("getUpdates"))


@dataclass
class TelegramUser:
    tg: FakeTelegram
    user_id: int
    name: str = "用户"

    @property
    def chat(self) -> list[SentMessage]:
        return self.tg.messages_to(self.user_id)

    async def _settle(self, update_ids: list[int], seen: int) -> str:
        await self.tg.wait_for(lambda: all(confirmed(self.tg, u) for u in update_ids),
                               timeout=20)
        return "\n".join(m.text for m in self.chat[seen:])

    async def say(self, text: str) -> str:
        seen = len(self.chat)
        return await self._settle([self.tg.send_text(self.user_id, text, first_name=self.name)],
                                  seen)

    async def press(self, label: str) -> str:
        message, data = self.button(label)
        seen = len(self.chat)
        return await self._settle([self.tg.press(self.user_id, message, data)], seen)

    def button(self, label: str) -> tuple[SentMessage, str]:
        for message in reversed(self.chat):
            rows = (message.reply_markup or {}).get("inline_keyboard", [])
            found = [b for row in rows for b in row if label in b["text"]]
            if found:
                return message, str(found[0]["callback_data"])
        raise AssertionError(f"no button {label!r} in the chat: {[m.text for m in self.chat]}")

    async def album(self, images: list[bytes]) -> str:
        seen = len(self.chat)
        return await self._settle(self.tg.send_photos(self.user_id, images), seen)


def jpeg(seed: int, size: tuple[int, int] = (1024, 768)) -> bytes:
    image = Image.new("RGB", size, (30 + seed * 11 % 200, 110, 80))
    image.putpixel((seed % size[0], 1), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOT_")}
