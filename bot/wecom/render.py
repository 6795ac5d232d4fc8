"""How an `Outgoing` reads in WeCom: text messages, a button card, or numbered options.

Up to six buttons become a template card of type button_interaction (the card's limit); more
become numbered lines under the text, and a typed number is then read as that button. While a
typed answer is expected (`Outgoing.expects_text`) the options are lettered instead, so a typed
"2" stays the answer 2 — as in the console.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from bot.wecom.api import CARD_BUTTONS, button_card
from domain.events import Outgoing
from handlers.context import Texts

TEXT_LIMIT = 2048  # bytes of a text message
TITLE_LIMIT = 36  # characters WeCom advises for a card's main title
SUB_TITLE_LIMIT = 112  # characters of a card's sub-title text
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Choices:
    """Numbered (or lettered) options offered as text: their button data in order."""

    data: tuple[str, ...]
    lettered: bool

    def key(self, index: int) -> str:
        return LETTERS[index] if self.lettered else str(index + 1)

    def pick(self, typed: str) -> str | None:
        """The data of the option `typed` names ("2", "２", "b"), else None."""
        word = unicodedata.normalize("NFKC", typed).strip().lower().rstrip(".")
        keys = [self.key(i) for i in range(len(self.data))]
        return self.data[keys.index(word)] if word in keys else None

    def out_of_range(self, typed: str) -> bool:
        """A number that names no option, while options are numbered."""
        word = unicodedata.normalize("NFKC", typed).strip()
        return not self.lettered and word.isdigit() and self.pick(word) is None


@dataclass(frozen=True, slots=True)
class Plan:
    texts: tuple[str, ...]  # text messages, in order
    card: dict[str, Any] | None = None  # then a button card
    choices: Choices | None = None  # the options a typed key now names


def plan(message: Outgoing, *, task_id: str, t: Texts) -> Plan:
    buttons = [button for row in message.buttons for button in row]
    if not buttons:
        return Plan(tuple(chunks(message.text)))
    if len(buttons) <= CARD_BUTTONS:
        texts, title, sub_title = _card_text(message.text, t)
        card = button_card(task_id, title, [(b.label, b.data) for b in buttons],
                           sub_title=sub_title)
        return Plan(tuple(texts), card)
    choices = Choices(tuple(b.data for b in buttons), lettered=message.expects_text)
    lines = [f"{choices.key(i)}. {b.label}" for i, b in enumerate(buttons)]
    hint = t("wecom.reply_letter" if choices.lettered else "wecom.reply_number")
    body = "\n".join([*([message.text, ""] if message.text else []), *lines, hint])
    return Plan(tuple(chunks(body)), choices=choices)


def _card_text(text: str, t: Texts) -> tuple[list[str], str, str]:
    """(texts sent before the card, its title, its sub-title): the whole text in the card
    when it fits, else sent as text with the question (its last line) as the card's title."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return [], t("wecom.choose"), ""
    title, rest = lines[0], "\n".join(lines[1:])
    if len(title) <= TITLE_LIMIT and len(rest) <= SUB_TITLE_LIMIT:
        return [], title, rest
    question = lines[-1]
    if len(question) > TITLE_LIMIT:
        question = question[:TITLE_LIMIT - 1] + "…"
    return chunks(text), question, ""


def chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Text cut into messages of at most `limit` UTF-8 bytes, at line ends where possible."""
    parts: list[str] = []
    while len(text.encode("utf-8")) > limit:
        cut = len(text.encode("utf-8")[:limit].decode("utf-8", "ignore"))
        line_end = text.rfind("\n", 0, cut)
        cut = line_end if line_end > cut // 2 else cut
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        parts.append(text)
    return parts
