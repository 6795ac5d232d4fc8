"""A person's phone for the tests: types, presses the buttons it was shown, sends photos.

It talks to the real router over the real storage, like a channel does, and remembers the
buttons of the last reply so a test can press one by its label, as a person would.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import translator
from domain.clock import FixedClock
from domain.events import Attachment, Button, EventKind, Incoming, Location, Outgoing
from handlers.forms import field_forms
from handlers.forms.engine import Forms
from handlers.router import Router
from storage import models as m
from storage.models import Base
from storage.photos import PhotoStore
from storage.uow import UnitOfWorkFactory

CHANNEL = "test"


def make_router(uow: UnitOfWorkFactory, clock: FixedClock, photo_root: Path) -> Router:
    store = PhotoStore(photo_root, zone=clock.zone)
    return Router(uow, clock, translator, "zh-CN", forms=Forms(field_forms(), store))


@dataclass
class Phone:
    router: Router
    user: str
    chat: str = ""
    replies: list[Outgoing] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.chat = self.chat or self.user

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def buttons(self) -> list[Button]:
        return [b for r in self.replies for row in r.buttons for b in row]

    async def send(self, event: Incoming) -> str:
        self.replies = await self.router.handle(event)
        return self.text

    async def say(self, text: str) -> str:
        return await self.send(Incoming.from_text(CHANNEL, self.chat, self.user, text))

    def button(self, label: str) -> Button:
        found = [b for b in self.buttons if label in b.label]
        shown = [b.label for b in self.buttons]
        assert len(found) == 1, f"no single button {label!r} among {shown}"
        return found[0]

    async def press(self, label: str) -> str:
        return await self.press_data(self.button(label).data)

    async def press_data(self, data: str) -> str:
        return await self.send(Incoming(CHANNEL, self.chat, self.user, EventKind.BUTTON,
                                        button_data=data))

    async def photos(self, *paths: Path) -> str:
        attachments = tuple(Attachment(p, p.name) for p in paths)
        return await self.send(Incoming(CHANNEL, self.chat, self.user, EventKind.PHOTO,
                                        attachments=attachments))

    async def location(self, lat: float, lon: float) -> str:
        return await self.send(Incoming(CHANNEL, self.chat, self.user, EventKind.LOCATION,
                                        location=Location(lat, lon)))


def site_photo(folder: Path, name: str, *, seed: int = 0, size: tuple[int, int] = (800, 600),
               ) -> Path:
    """A small JPEG that differs by `seed` (each one a new photo to the store)."""
    folder.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, (40 + seed * 7 % 200, 120, 90))
    image.putpixel((seed % size[0], 0), (255, 255, 255))
    path = folder / name
    image.save(path, "JPEG", quality=85)
    return path


def png_bytes(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, "PNG")
    return buffer.getvalue()


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {t.name: int(await conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables}


async def draft_of(engine: AsyncEngine, person_id: int) -> dict[str, Any] | None:
    """The stored draft as a person's form would resume from it (None when there is none)."""
    async with engine.connect() as conn:
        row = (await conn.execute(
            select(m.FormDraft.form, m.FormDraft.step, m.FormDraft.token, m.FormDraft.answers,
                   m.FormDraft.context).where(m.FormDraft.person_id == person_id))).first()
    if row is None:
        return None
    form, step, token, answers, context = row
    return {"form": form, "step": step, "token": token, "answers": answers, "context": context}


async def report_to_photos(phone: Phone, *, progress: str = "45.5") -> None:
    """/report on 毛绒, working, up to the photo question."""
    await phone.say("/report")
    await phone.press("毛绒")
    await phone.press("施工中")
    await phone.say(progress)
    await phone.say("钢结构吊装6榀，屋面板铺设")
    await phone.say("130")
    await phone.say("8200.5万元")
