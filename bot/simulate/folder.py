"""The simulation's output folder: every message the outbox delivers, as a file.

`FolderPort` is the delivery port of channel "sim". The real `OutboxSender` hands it each
message with the kind and id of its outbox row; it writes the message to
`OUT/<day>/<HHMM>-<kind>-<recipient>.txt` (and `.png`), headed with who it was for and when.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from bot.i18n import Translator
from domain.clock import FixedClock
from domain.events import Outgoing
from reminders.limits import ChannelLimits, Limit, Limiter, Slot

CHANNEL = "sim"
DATABASE = "fieldbot.sqlite3"
MARKER = ".fieldbot-simulation"  # only a folder holding this (or an empty one) is deleted
UNLIMITED = ChannelLimits(overall=Limit(1_000_000, 1.0), per_chat=Limit(1_000_000, 1.0),
                          per_group=Limit(1_000_000, 1.0))


class FolderRefused(Exception):
    """The output folder holds something else than an earlier simulation: left alone."""


class FolderPort:
    """The delivery port of channel "sim": writes each message where a newcomer can read it."""

    channel = CHANNEL

    def __init__(self, out: Path, clock: FixedClock, t: Translator,
                 labels: Mapping[str, str]) -> None:
        self.limiter = Limiter(UNLIMITED)
        self._out, self._clock, self._t, self._labels = out, clock, t, labels
        self._taken: set[Path] = set()
        self.written = 0
        self.images = 0

    async def deliver(self, chat_id: str, message: Outgoing, *, group: bool,
                      slot: Slot | None = None, kind: str = "", outbox_id: int = 0) -> None:
        kind = kind or "message"
        local = self._clock.now().astimezone(self._clock.zone)
        stem = self._free_stem(self._out / local.date().isoformat(),
                               f"{local:%H%M}-{kind}-{chat_id}")
        text = self._render(chat_id, message, local=local, kind=kind,
                            ident=outbox_id, image=stem.name + ".png")
        await asyncio.to_thread(_write, stem, text, message.image)
        self.written += 1
        self.images += message.image is not None

    def _free_stem(self, folder: Path, name: str) -> Path:
        """A file name not used yet (two letters to one unit in the same minute, say)."""
        stem, n = folder / name, 1
        while stem in self._taken:
            n += 1
            stem = folder / f"{name}-{n}"
        self._taken.add(stem)
        return stem

    def _render(self, chat_id: str, message: Outgoing, *, local: datetime, kind: str,
                ident: int, image: str) -> str:
        t = self._t
        lines = [t("simulate.file_to", to=self._labels.get(chat_id, chat_id)),
                 t("simulate.file_meta", at=f"{local:%Y-%m-%d %H:%M}", kind=kind, id=ident),
                 "", message.text]
        if message.image is not None:
            lines.append(t("simulate.file_image", name=image))
        if message.buttons:
            lines.append("")
            lines += [f"[{b.label} → {b.data}]" for row in message.buttons for b in row]
        return "\n".join(lines) + "\n"


def _write(stem: Path, text: str, image: bytes | None) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_name(stem.name + ".txt").write_text(text, encoding="utf-8")
    if image is not None:
        stem.with_name(stem.name + ".png").write_bytes(image)


def prepare_folder(out: Path, t: Translator) -> None:
    """Delete an earlier simulation's folder and make it afresh; refuse any other folder."""
    if out.exists():
        ours = out.is_dir() and ((out / MARKER).is_file() or not any(out.iterdir()))
        if not ours:
            raise FolderRefused(t("simulate.folder_not_ours", folder=str(out)))
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("fieldbot simulate output: deleted by the next run\n",
                              encoding="utf-8")

