"""How the console reads what a person types: buttons by number or letter, albums, locations."""

from __future__ import annotations

from pathlib import Path

from bot.console import ConsoleChat
from bot.i18n import translator
from domain.events import Button, EventKind, Incoming, Outgoing


async def no_handler(_: Incoming) -> list[Outgoing]:
    return []


def console(tmp_path: Path, written: list[str]) -> ConsoleChat:
    return ConsoleChat(no_handler, "wang", translator("zh-CN"), tmp_path,
                       write=written.append)


def test_several_image_paths_on_one_line_are_one_album(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jpg", tmp_path / "b 2.jpg"
    first.write_bytes(b"x")
    second.write_bytes(b"y")
    event = console(tmp_path, []).to_event(f"{first} '{second}'")
    assert event is not None and event.kind is EventKind.PHOTO
    assert [a.filename for a in event.attachments] == ["a.jpg", "b 2.jpg"]
    text = console(tmp_path, []).to_event(f"照片是 {first}")
    assert text is not None and text.kind is EventKind.TEXT


def test_buttons_are_lettered_while_a_typed_answer_is_expected(tmp_path: Path) -> None:
    written: list[str] = []
    chat = console(tmp_path, written)
    chat._letters = True
    chat.render(Outgoing(text="形象进度？", buttons=((Button("保持不变", "f:t:progress:~keep"),),),
                         expects_text=True))
    assert "  [a] 保持不变" in written
    typed = chat.to_event("2")
    assert typed is not None and (typed.kind, typed.text) == (EventKind.TEXT, "2")
    pressed = chat.to_event("a")
    assert pressed is not None and pressed.button_data == "f:t:progress:~keep"


def test_a_typed_location(tmp_path: Path) -> None:
    event = console(tmp_path, []).to_event("位置: 32.68,109.02")
    assert event is not None and event.location is not None
    assert (event.location.lat, event.location.lon) == (32.68, 109.02)
