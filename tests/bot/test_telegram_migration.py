"""Telegram's news of a group upgraded to a supergroup, as the core's event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.types import Chat, Message

from bot.telegram import mapping
from domain.events import ChatKind, EventKind


@pytest.mark.parametrize(("chat_id", "to", "from_"), [
    (-500, -1001500, None),  # in the old group: migrate_to_chat_id
    (-1001500, None, -500),  # in the new supergroup: migrate_from_chat_id
])
def test_either_news_of_an_upgrade_to_a_supergroup_is_a_move(chat_id: int, to: int | None,
                                                             from_: int | None) -> None:
    service = Message(message_id=3, date=datetime(2026, 11, 22, tzinfo=UTC),
                      chat=Chat(id=chat_id, type="group", title="群"),
                      migrate_to_chat_id=to, migrate_from_chat_id=from_)
    event = mapping.from_message(service, update_id=12)
    assert event is not None and event.kind is EventKind.CHAT_MOVED
    assert (event.chat_id, event.moved_to) == ("-500", "-1001500")
    assert event.chat_kind is ChatKind.GROUP and event.receipts == ("12",)
