"""The one mapping between aiogram's types and the core's `Incoming` / `Outgoing`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)

from domain.events import Attachment, ChatKind, EventKind, Incoming, Location, Outgoing

CHANNEL = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes


def chat_kind(chat: Chat) -> ChatKind:
    return ChatKind.PRIVATE if chat.type == "private" else ChatKind.GROUP


def _who(user: User | None) -> tuple[str, str | None, str | None]:
    if user is None:
        return "", None, None
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or user.username
    return str(user.id), name, language(user)


def language(user: User | None) -> str | None:
    """Telegram's IETF tag to a catalogue: Chinese of any script → zh-CN, English → en."""
    code = user.language_code if user is not None else None
    if not code:
        return None
    code = code.lower()
    if code.startswith("zh"):
        return "zh-CN"
    if code.startswith("en"):
        return "en"
    return None


def _base(message: Message, user: User | None, kind: EventKind, *,
          receipts: Sequence[int]) -> Incoming:
    user_id, name, language = _who(user)
    return Incoming(CHANNEL, str(message.chat.id), user_id, kind, chat_kind=chat_kind(message.chat),
                    language_hint=language, display_name=name, chat_title=message.chat.title,
                    receipts=tuple(str(r) for r in receipts))


def from_message(message: Message, *, update_id: int,
                 attachments: Sequence[Attachment] = ()) -> Incoming | None:
    """A message as an event; None for what the bot does not take (stickers, joins, …)."""
    receipts = (update_id,)
    if attachments:
        return replace(_base(message, message.from_user, EventKind.PHOTO, receipts=receipts),
                     text=message.caption or "", attachments=tuple(attachments))
    if message.location is not None:
        return replace(_base(message, message.from_user, EventKind.LOCATION, receipts=receipts),
                     location=Location(message.location.latitude, message.location.longitude))
    if (moved := _moved(message)) is not None:
        old, new = moved
        return replace(_base(message, message.from_user, EventKind.CHAT_MOVED, receipts=receipts),
                     chat_id=old, moved_to=new)
    if message.text is None:
        return None
    typed = Incoming.from_text(CHANNEL, str(message.chat.id), "", message.text)
    return replace(_base(message, message.from_user, typed.kind, receipts=receipts),
                 text=typed.text, command=typed.command, args=typed.args)


def _moved(message: Message) -> tuple[str, str] | None:
    """(old chat id, new chat id) from either service message of a group's upgrade to a
    supergroup: `migrate_to_chat_id` in the old chat, `migrate_from_chat_id` in the new."""
    if message.migrate_to_chat_id is not None:
        return str(message.chat.id), str(message.migrate_to_chat_id)
    if message.migrate_from_chat_id is not None:
        return str(message.migrate_from_chat_id), str(message.chat.id)
    return None


def from_update(update: Update) -> Incoming | None:
    """An update that is not a message: a pressed button, or the bot's own membership."""
    if update.callback_query is not None:
        return from_callback(update.callback_query, update_id=update.update_id)
    if update.my_chat_member is not None:
        return from_member(update.my_chat_member, update_id=update.update_id)
    return None


def from_member(update: ChatMemberUpdated, *, update_id: int) -> Incoming | None:
    """The bot's own membership changed: removed from a group (or the group deleted), or
    blocked by the person in a private chat, is an event; being added or promoted is not."""
    if update.new_chat_member.status not in ("left", "kicked"):
        return None
    user_id, name, language = _who(update.from_user)
    return Incoming(CHANNEL, str(update.chat.id), user_id, EventKind.BOT_REMOVED,
                    chat_kind=chat_kind(update.chat), language_hint=language,
                    display_name=name, chat_title=update.chat.title,
                    receipts=(str(update_id),))


def from_album(messages: Sequence[Message], *, update_ids: Sequence[int],
               attachments: Sequence[Attachment]) -> Incoming:
    first = messages[0]
    caption = next((m.caption for m in messages if m.caption), "")
    return replace(_base(first, first.from_user, EventKind.PHOTO, receipts=update_ids),
                 text=caption or "", attachments=tuple(attachments))


def from_callback(query: CallbackQuery, *, update_id: int) -> Incoming | None:
    message = query.message
    if not isinstance(message, Message) or query.data is None:
        return None  # an inaccessible (very old) message, or a game button
    return replace(_base(message, query.from_user, EventKind.BUTTON, receipts=(update_id,)),
                 button_data=query.data)


def keyboard(message: Outgoing) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    for row in message.buttons:
        for button in row:
            if len(button.data.encode()) > CALLBACK_DATA_LIMIT:
                raise ValueError(f"button data over {CALLBACK_DATA_LIMIT} bytes: {button.data!r}")
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=b.label, callback_data=b.data) for b in row]
        for row in message.buttons])


def chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Text cut into messages Telegram accepts, at line ends where possible."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        parts.append(text)
    return parts


def button_label(message: Message | None, data: str) -> str | None:
    """The label of the pressed button, read from the message that carried it."""
    markup = message.reply_markup if isinstance(message, Message) else None
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None
