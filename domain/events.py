"""What crosses the transport edge: `Incoming` events in, `Outgoing` messages out.

Transports (console, Telegram, WeCom) convert their platform's updates to these and render these
back; everything behind the edge sees only them.
"""

from __future__ import annotations

import base64
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class EventKind(enum.StrEnum):
    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    PHOTO = "photo"
    LOCATION = "location"
    CHAT_MOVED = "chat_moved"
    """The group chat got a new id (`chat_id` the old, `moved_to` the new): a Telegram group
    upgraded to a supergroup."""
    BOT_REMOVED = "bot_removed"
    """The bot is out of the group chat (removed by a member, or the group deleted)."""


class ChatKind(enum.StrEnum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Attachment:
    """A photo or file the transport has already fetched to a local path."""

    path: Path
    filename: str
    mime_type: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    channel: str
    chat_id: str
    user_id: str
    kind: EventKind
    chat_kind: ChatKind = ChatKind.PRIVATE
    text: str = ""
    command: str = ""
    args: str = ""
    button_data: str = ""
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    language_hint: str | None = None
    display_name: str | None = None
    chat_title: str | None = None
    receipts: tuple[str, ...] = ()
    """The platform's ids of the update(s) behind this event, so a redelivery is recognised."""
    moved_to: str = ""
    """The chat's new id (`CHAT_MOVED` only)."""

    @classmethod
    def from_text(cls, channel: str, chat_id: str, user_id: str, text: str) -> Incoming:
        """A typed line: `/cmd args` becomes a command, anything else plain text."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, rest = stripped[1:].partition(" ")
            command = head.split("@", 1)[0].lower()
            return cls(channel, chat_id, user_id, EventKind.COMMAND, text=stripped,
                       command=command, args=rest.strip())
        return cls(channel, chat_id, user_id, EventKind.TEXT, text=stripped)


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: bytes | None = None
    image_name: str = "image.png"
    document: bytes | None = None
    document_name: str = "document.xlsx"
    expects_text: bool = False
    """A typed answer (a number, a text, a date) is expected even though buttons are shown:
    a channel that numbers its buttons must not read a typed "2" as the second button."""
    refusal: bool = False
    """The event was refused and changed nothing (a stale button, say): a channel shows it
    as a notice rather than as the answer to the button."""

    def to_payload(self) -> dict[str, Any]:
        """The message as the outbox keeps it (JSON)."""
        payload: dict[str, Any] = {"text": self.text}
        if self.buttons:
            payload["buttons"] = [[[b.label, b.data] for b in row] for row in self.buttons]
        if self.image is not None:
            payload["image"] = base64.b64encode(self.image).decode("ascii")
            payload["image_name"] = self.image_name
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Outgoing:
        buttons = tuple(tuple(Button(str(label), str(data)) for label, data in row)
                        for row in payload.get("buttons", ()))
        image = payload.get("image")
        return cls(text=str(payload.get("text", "")), buttons=buttons,
                   image=base64.b64decode(image) if image else None,
                   image_name=str(payload.get("image_name", "image.png")))
