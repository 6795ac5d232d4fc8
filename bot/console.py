"""The console transport: a chat in the terminal on the same core as every other channel.

Buttons are numbered options (type the number; lettered when a typed answer such as a number
is expected, so "2" stays the answer 2), photos are file paths (several on one line
are an album), a location is typed as `位置: 32.68,109.02` (or `location: …`). Reading and
writing are injected so a test can drive it through stdin/stdout of the real process.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import shlex
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from bot.i18n import Translator
from domain.events import Attachment, Button, EventKind, Incoming, Location, Outgoing

CHANNEL = "console"
QUIT = frozenset({"/quit", "/exit", "/q"})
LETTERS = "abcdefghijklmnopqrstuvwxyz"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".gif", ".bmp", ".tif",
                            ".tiff"})
LOCATION = re.compile(
    r"^(?:位置|定位|location|loc)\s*[:：]?\s*(-?\d{1,3}(?:\.\d+)?)\s*[,，\s]\s*(-?\d{1,3}(?:\.\d+)?)$",
    re.IGNORECASE)

ReadLine = Callable[[], Awaitable[str | None]]
Handle = Callable[[Incoming], Awaitable[list[Outgoing]]]


async def read_stdin() -> str | None:
    """One line from the terminal (with line editing) or a pipe; None at end of input."""
    if sys.stdin.isatty():
        with contextlib.suppress(ImportError):  # not on every platform
            # importing readline gives input() history and line editing
            import readline  # noqa: F401, PLC0415
        try:
            return await asyncio.to_thread(input, "> ")
        except EOFError:
            return None
    line = await asyncio.to_thread(sys.stdin.readline)
    return line.rstrip("\n") if line else None


class ConsoleChat:
    def __init__(self, handle: Handle, user_id: str, texts: Translator, files_dir: Path, *,
                 read_line: ReadLine = read_stdin, write: Callable[[str], None] = print) -> None:
        self._handle = handle
        self._user_id = user_id
        self._chat_id = f"console:{user_id}"
        self._t = texts
        self._files = files_dir
        self._read_line = read_line
        self._write = write
        self._buttons: list[Button] = []
        self._letters = False

    async def run(self) -> None:
        while (line := await self._read_line()) is not None:
            line = line.strip()
            if not line:
                continue
            if line.lower() in QUIT:
                break
            event = self.to_event(line)
            if event is None:
                continue
            replies = await self._handle(event)
            self._buttons = []
            self._letters = any(message.expects_text for message in replies)
            for message in replies:
                self.render(message)
        self._write(self._t("console.bye"))

    def _key(self, index: int) -> str:
        return LETTERS[index] if self._letters else str(index + 1)

    def _pressed(self, line: str) -> int | None:
        """The index of the button a typed key names: a number, or a letter while a typed
        answer is expected (then "2" is the answer 2, not the second button)."""
        keys = [self._key(i) for i in range(len(self._buttons))]
        return keys.index(line.lower()) if line.lower() in keys else None

    def to_event(self, line: str) -> Incoming | None:
        if (index := self._pressed(line)) is not None:
            return Incoming(CHANNEL, self._chat_id, self._user_id, EventKind.BUTTON, text=line,
                            button_data=self._buttons[index].data)
        if line.isdigit() and self._buttons and not self._letters:
            self._write(self._t("console.not_a_choice", number=int(line),
                                count=len(self._buttons)))
            return None
        if found := LOCATION.match(line):
            return Incoming(CHANNEL, self._chat_id, self._user_id, EventKind.LOCATION, text=line,
                            location=Location(float(found[1]), float(found[2])))
        if attachments := _images(line):
            return Incoming(CHANNEL, self._chat_id, self._user_id, EventKind.PHOTO,
                            attachments=attachments)
        return Incoming.from_text(CHANNEL, self._chat_id, self._user_id, line)

    def render(self, message: Outgoing) -> None:
        if message.text:
            self._write(message.text)
        if message.image is not None:
            self._write(self._t("console.image", path=self._save(message.image_name,
                                                                  message.image)))
        if message.document is not None:
            self._write(self._t("console.document", path=self._save(message.document_name,
                                                                     message.document)))
        for row in message.buttons:
            for button in row:
                self._write(f"  [{self._key(len(self._buttons))}] {button.label}")
                self._buttons.append(button)
        self._write("")

    def _save(self, name: str, content: bytes) -> Path:
        self._files.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
        path = self._files / f"{stamp}-{Path(name).name}"
        path.write_bytes(content)
        return path


def _images(line: str) -> tuple[Attachment, ...]:
    """Image paths on one line, sent together like an album; () unless every word is one."""
    try:
        paths = [Path(word).expanduser() for word in shlex.split(line)]
    except ValueError:  # unbalanced quotes: not a list of paths
        return ()
    if not paths or not all(p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() for p in paths):
        return ()
    return tuple(Attachment(path=p.resolve(), filename=p.name,
                            mime_type=mimetypes.guess_type(p.name)[0]) for p in paths)
