"""Telegram's news of a group upgraded to a supergroup, as the core's event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.types import Chat, Message, Update

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


def member_update(status: str, chat_type: str = "supergroup") -> Update:
    bot = {"id": 42, "is_bot": True, "first_name": "Fieldbot"}
    chat_id = -1001500 if chat_type != "private" else 7
    return Update.model_validate({"update_id": 30, "my_chat_member": {
        "chat": {"id": chat_id, "type": chat_type, "title": "汉滨区项目调度群"},
        "from": {"id": 7, "is_bot": False, "first_name": "周敏"}, "date": 1_790_000_000,
        "old_chat_member": {"status": "member", "user": bot},
        "new_chat_member": {"status": status, "user": bot, "until_date": 0}}})


@pytest.mark.parametrize("status", ["kicked", "left"])
def test_the_bot_removed_from_a_group_is_an_event(status: str) -> None:
    event = mapping.from_update(member_update(status))
    assert event is not None and event.kind is EventKind.BOT_REMOVED
    assert (event.chat_id, event.user_id, event.receipts) == ("-1001500", "7", ("30",))
    assert event.chat_kind is ChatKind.GROUP


@pytest.mark.parametrize(("status", "chat_type"), [
    ("member", "supergroup"), ("member", "group"), ("member", "private")])
def test_being_added_or_unblocked_is_no_event(status: str, chat_type: str) -> None:
    assert mapping.from_update(member_update(status, chat_type)) is None


def test_a_person_blocking_the_bot_is_an_event_of_their_private_chat() -> None:
    event = mapping.from_update(member_update("kicked", "private"))
    assert event is not None and event.kind is EventKind.BOT_REMOVED
    assert (event.chat_id, event.user_id, event.chat_kind) == ("7", "7", ChatKind.PRIVATE)
