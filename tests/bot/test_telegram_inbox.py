"""Per-chat order, chats in parallel, albums gathered — the inbox of the Telegram transport."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiogram.types import Chat, Message, PhotoSize, Update, User

from bot.telegram.inbox import Inbox


def update(update_id: int, chat: int, *, text: str | None = None,
           album: str | None = None) -> Update:
    photo = [PhotoSize(file_id=f"f{update_id}", file_unique_id=f"u{update_id}", width=1,
                       height=1)] if album else None
    return Update(update_id=update_id, message=Message(
        message_id=update_id, date=datetime(2026, 11, 22, tzinfo=UTC),
        chat=Chat(id=chat, type="private"), from_user=User(id=chat, is_bot=False, first_name="x"),
        text=text, photo=photo, media_group_id=album))


async def test_one_chat_in_order_two_chats_at_once() -> None:
    handled: list[tuple[int, list[int]]] = []
    running: set[int] = set()
    overlap = False

    async def work(updates: list[Update]) -> None:
        nonlocal overlap
        chat = updates[0].message.chat.id  # type: ignore[union-attr]
        assert chat not in running  # never two at once in one chat
        running.add(chat)
        overlap = overlap or len(running) > 1
        await asyncio.sleep(0.01 if updates[0].update_id % 2 else 0)
        handled.append((chat, [u.update_id for u in updates]))
        running.discard(chat)

    inbox = Inbox(work, album_wait=0.05)
    futures = [inbox.put(update(n, 1 if n <= 5 else 2, text=str(n))) for n in range(1, 11)]
    await asyncio.gather(*futures)
    assert [ids for chat, ids in handled if chat == 1] == [[1], [2], [3], [4], [5]]
    assert [ids for chat, ids in handled if chat == 2] == [[6], [7], [8], [9], [10]]
    assert overlap  # the two chats ran side by side
    assert inbox.in_progress == set()


async def test_album_pieces_arriving_apart_are_one_job_in_their_place() -> None:
    handled: list[list[int]] = []

    async def work(updates: list[Update]) -> None:
        handled.append([u.update_id for u in updates])

    inbox = Inbox(work, album_wait=0.05)
    first = inbox.put(update(1, 7, album="g1"))
    inbox.put(update(2, 7, album="g1"))
    await asyncio.sleep(0.02)  # the rest of the album comes with the next getUpdates
    inbox.put(update(3, 7, album="g1"))
    after = inbox.put(update(4, 7, text="下一步"))
    assert inbox.in_progress == {1, 2, 3, 4}
    await asyncio.gather(first, after)
    assert handled == [[1, 2, 3], [4]]
