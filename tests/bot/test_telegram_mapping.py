"""The mapping between aiogram's types and the core's events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.types import Chat, Message, User

from bot.telegram import mapping
from domain.events import Button, ChatKind, EventKind, Outgoing


def message(text: str | None = None, *, chat_type: str = "private", chat_id: int = 5,
            language: str | None = "zh-hans") -> Message:
    return Message(message_id=1, date=datetime(2026, 11, 22, tzinfo=UTC),
                   chat=Chat(id=chat_id, type=chat_type, title="群" if chat_id < 0 else None),
                   from_user=User(id=5, is_bot=False, first_name="磊", last_name="王",
                                  language_code=language),
                   text=text)


def test_a_command_for_this_bot_in_a_group() -> None:
    event = mapping.from_message(message("/status@fieldbot_bot 毛绒", chat_type="supergroup",
                                         chat_id=-100), update_id=9)
    assert event is not None
    assert (event.kind, event.command, event.args) == (EventKind.COMMAND, "status", "毛绒")
    assert event.chat_kind is ChatKind.GROUP and event.chat_title == "群"
    assert event.receipts == ("9",) and event.display_name == "磊 王"


@pytest.mark.parametrize(("code", "language"), [("zh-hans", "zh-CN"), ("zh-hant-tw", "zh-CN"),
                                                ("en-GB", "en"), ("ru", None), (None, None)])
def test_the_user_language_picks_a_catalogue(code: str | None, language: str | None) -> None:
    event = mapping.from_message(message("你好", language=code), update_id=1)
    assert event is not None and event.language_hint == language


def test_a_sticker_is_not_an_event() -> None:
    assert mapping.from_message(message(None), update_id=1) is None


def test_buttons_become_an_inline_keyboard_and_long_data_is_refused() -> None:
    markup = mapping.keyboard(Outgoing("选", buttons=((Button("施工中", "f:ab:status:working"),
                                                       Button("停工", "f:ab:status:stopped")),)))
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["施工中", "停工"]]
    with pytest.raises(ValueError, match="64 bytes"):
        mapping.keyboard(Outgoing("选", buttons=((Button("x", "项" * 22),),)))


def test_long_text_is_cut_at_line_ends() -> None:
    lines = [f"第{n}行：" + "进度" * 30 for n in range(200)]
    parts = mapping.chunks("\n".join(lines))
    assert all(len(p) <= mapping.TEXT_LIMIT for p in parts)
    assert "\n".join(parts) == "\n".join(lines)
    assert all(p.startswith("第") for p in parts)
