"""The one mapping between WeCom's callback XML and the core's `Incoming`.

WeCom's XML stays in this module: `parse_envelope` reads the outer `<xml><Encrypt>` of a POST,
`parse_message` the decrypted message into `Inbound` (a plain record of the fields fieldbot
reads), and `to_incoming` makes the event the router sees. Parsing refuses any DOCTYPE, so no
entity is ever declared, let alone expanded; bodies are capped by the caller.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from typing import Any

from bot.wecom.crypto import BadXml
from domain.events import Attachment, EventKind, Incoming, Location

CHANNEL = "wecom"
MAX_XML_BYTES = 64 * 1024


class _NoDoctype(ET.TreeBuilder):
    """A tree builder that stops at a DOCTYPE, before its internal subset is read."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise BadXml("a DOCTYPE is not accepted")


def parse_xml(text: str | bytes) -> ET.Element:
    """A WeCom XML document, or BadXml: too big, malformed, or with a DOCTYPE."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_XML_BYTES:
        raise BadXml(f"{len(raw)} bytes of XML is over {MAX_XML_BYTES}")
    parser = ET.XMLParser(target=_NoDoctype())  # noqa: S314  (see _NoDoctype)
    try:
        parser.feed(raw)
        root = parser.close()
    except ET.ParseError as exc:
        raise BadXml(f"not well-formed XML ({exc.position[0]}:{exc.position[1]})") from None
    if not isinstance(root, ET.Element) or root.tag != "xml":
        raise BadXml("the root element is not <xml>")
    return root


def _fields(root: ET.Element) -> dict[str, str]:
    return {child.tag: (child.text or "").strip() for child in root}


@dataclass(frozen=True, slots=True)
class Envelope:
    """The outer XML of a message callback."""

    to_user: str
    encrypt: str
    agent_id: str


def parse_envelope(body: bytes) -> Envelope:
    fields = _fields(parse_xml(body))
    encrypt = fields.get("Encrypt", "")
    if not encrypt:
        raise BadXml("no <Encrypt> in the callback body")
    return Envelope(fields.get("ToUserName", ""), encrypt, fields.get("AgentID", ""))


@dataclass(frozen=True, slots=True)
class Inbound:
    """A decrypted callback message: the fields of every kind fieldbot takes, flat."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    agent_id: str = ""
    msg_id: str = ""
    content: str = ""
    media_id: str = ""
    pic_url: str = ""
    location: Location | None = None
    label: str = ""
    event: str = ""
    event_key: str = ""
    task_id: str = ""
    response_code: str = ""

    @property
    def dedup_key(self) -> str:
        """The receipt key of this callback (≤ 64 characters, the receipts' column).

        Messages by MsgId; events, which have none, by sender and second as WeCom advises —
        with the event and its key, so two different buttons pressed in one second are two.
        """
        if self.msg_id:
            return f"m:{self.msg_id}"[:64]
        basis = "\x1f".join((self.from_user, str(self.create_time), self.event,
                             self.event_key, self.task_id))
        return "e:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:60]


def parse_message(xml_text: str) -> Inbound:
    fields = _fields(parse_xml(xml_text))
    sender, msg_type = fields.get("FromUserName", ""), fields.get("MsgType", "").lower()
    if not sender or not msg_type:
        raise BadXml("no FromUserName or MsgType")
    try:
        created = int(fields.get("CreateTime") or 0)
    except ValueError:
        raise BadXml("CreateTime is not a number") from None
    extra: dict[str, Any] = {}
    if msg_type == "location":
        extra["location"] = _location(fields)
        extra["label"] = fields.get("Label", "")
    return Inbound(
        to_user=fields.get("ToUserName", ""), from_user=sender, create_time=created,
        msg_type=msg_type, agent_id=fields.get("AgentID", ""), msg_id=fields.get("MsgId", ""),
        content=fields.get("Content", ""), media_id=fields.get("MediaId", ""),
        pic_url=fields.get("PicUrl", ""), event=fields.get("Event", "").lower(),
        event_key=fields.get("EventKey", ""), task_id=fields.get("TaskId", ""),
        response_code=fields.get("ResponseCode", ""), **extra)


def _location(fields: dict[str, str]) -> Location:
    try:
        lat, lon = float(fields.get("Location_X", "")), float(fields.get("Location_Y", ""))
    except ValueError:
        raise BadXml("Location_X / Location_Y are not numbers") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadXml("the location is off the globe")
    return Location(lat, lon)


BUTTON_EVENTS = frozenset({"click", "template_card_event"})


def to_incoming(message: Inbound, *, attachments: tuple[Attachment, ...] = ()) -> Incoming | None:
    """The event the router sees; None for what the bot does not take (voice, enter_agent, …).

    A self-built app talks to one member at a time: the chat is the member (their userid).
    """
    user = message.from_user
    base = Incoming(CHANNEL, user, user, EventKind.TEXT, receipts=(message.dedup_key,))
    if message.msg_type == "text":
        typed = Incoming.from_text(CHANNEL, user, user, message.content)
        return _with(base, kind=typed.kind, text=typed.text, command=typed.command,
                     args=typed.args)
    if message.msg_type == "image":
        return _with(base, kind=EventKind.PHOTO, attachments=attachments) if attachments else None
    if message.msg_type == "location" and message.location is not None:
        return _with(base, kind=EventKind.LOCATION, location=message.location)
    if message.msg_type == "event" and message.event in BUTTON_EVENTS and message.event_key:
        return _with(base, kind=EventKind.BUTTON, button_data=message.event_key)
    return None


def _with(event: Incoming, **changes: Any) -> Incoming:
    return replace(event, **changes)
