"""Bad input in a form: a clear message, the same question again, the draft intact and the
database unchanged — for every kind of slip a liaison makes on a phone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import Attachment, EventKind, Incoming
from tests.handlers.phone import (
    CHANNEL,
    Phone,
    draft_of,
    png_bytes,
    report_to_photos,
    row_counts,
    site_photo,
)
from tests.world import World

Setup = Callable[[Phone, list[Path]], Awaitable[None]]
Act = Callable[[Phone, Path], Awaitable[str]]


async def at_progress(phone: Phone, _: list[Path]) -> None:
    await phone.say("/report")
    await phone.press("毛绒")
    await phone.press("施工中")


async def at_work(phone: Phone, photos: list[Path]) -> None:
    await at_progress(phone, photos)
    await phone.say("45")


async def at_photos(phone: Phone, _: list[Path]) -> None:
    await report_to_photos(phone)


async def at_photos_with_nine(phone: Phone, photos: list[Path]) -> None:
    await report_to_photos(phone)
    await phone.photos(*photos[:9])


def typed(text: str) -> Act:
    async def act(phone: Phone, _: Path) -> str:
        return await phone.say(text)
    return act


def sent_file(name: str, content: bytes | Callable[[Path], bytes]) -> Act:
    async def act(phone: Phone, folder: Path) -> str:
        path = folder / name
        path.write_bytes(content(folder) if callable(content) else content)
        return await phone.send(Incoming(CHANNEL, phone.chat, phone.user, EventKind.PHOTO,
                                         attachments=(Attachment(path, name),)))
    return act


def truncated_jpeg(folder: Path) -> bytes:
    path = site_photo(folder, "whole.jpg", seed=99, size=(1200, 900))
    data = path.read_bytes()
    return data[: len(data) // 2]


async def a_tenth_photo(phone: Phone, folder: Path) -> str:
    return await phone.photos(site_photo(folder, "tenth.jpg", seed=77))


async def a_photo_too_early(phone: Phone, folder: Path) -> str:
    return await phone.photos(site_photo(folder, "early.jpg", seed=78))


async def done_without_photos(phone: Phone, _: Path) -> str:
    return await phone.press("完成")


CASES: list[tuple[str, Setup, Act, str, str]] = [
    ("not a number", at_progress, typed("大概一半吧"), "请输入百分比数字", "形象进度"),
    ("negative", at_progress, typed("-5"), "不能是负数", "形象进度"),
    ("over 100 %", at_progress, typed("120%"), "百分比应在 0–100", "形象进度"),
    ("a photo at a number", at_progress, a_photo_too_early, "现在不需要照片", "形象进度"),
    ("10,000 characters", at_work, typed("字" * 10_000), "最多 1000 个字，您发送了 10000 个字",
     "完成了哪些工作"),
    ("empty text", at_work, typed("   "), "内容是空的", "完成了哪些工作"),
    ("only emoji", at_work, typed("👍👍🏗️"), "只有表情", "完成了哪些工作"),
    ("a PDF as a photo", at_photos, sent_file("scan.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"),
     "不是图片", "照片"),
    ("a text file as a photo", at_photos, sent_file("notes.txt", "今天施工正常".encode()),
     "不是图片", "照片"),
    ("a truncated JPEG", at_photos, sent_file("cut.jpg", truncated_jpeg), "不完整", "照片"),
    ("a 20000×20000 PNG", at_photos, sent_file("huge.png", lambda _: png_bytes((20000, 20000))),
     "尺寸过大", "照片"),
    ("no photo when working", at_photos, done_without_photos, "至少需要 1 张照片", "照片"),
    ("a tenth photo", at_photos_with_nine, a_tenth_photo, "最多 9 张照片", "完成"),
]


@pytest.mark.parametrize(("setup", "act", "says", "asks"),
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
async def test_bad_input_changes_nothing_and_says_what_is_expected(
        wang: Phone, people: World, engine: AsyncEngine, photos: list[Path], tmp_path: Path,
        setup: Setup, act: Act, says: str, asks: str) -> None:
    await setup(wang, photos)
    draft = await draft_of(engine, people.liaison)
    counts = await row_counts(engine)
    files = sorted(p for p in (tmp_path / "photos").rglob("*") if p.is_file())

    reply = await act(wang, tmp_path)

    assert says in reply
    assert asks in reply, "the same question is asked again"
    assert await draft_of(engine, people.liaison) == draft
    assert await row_counts(engine) == counts
    assert sorted(p for p in (tmp_path / "photos").rglob("*") if p.is_file()) == files


async def test_a_button_of_an_earlier_question_is_refused(
        wang: Phone, people: World, engine: AsyncEngine) -> None:
    await at_progress(wang, [])
    await wang.say("/back")
    old = wang.button("施工中").data
    await wang.press("施工中")
    draft = await draft_of(engine, people.liaison)
    reply = await wang.press_data(old)
    assert "已经结束或已过期" in reply and "形象进度" in reply
    assert await draft_of(engine, people.liaison) == draft


async def test_a_button_of_a_cancelled_form_is_refused(
        wang: Phone, people: World, engine: AsyncEngine) -> None:
    await wang.say("/report")
    old = wang.button("毛绒").data
    await wang.say("/cancel")
    counts = await row_counts(engine)
    assert "已经结束或已过期" in await wang.press_data(old)
    assert await draft_of(engine, people.liaison) is None
    assert await row_counts(engine) == counts


@pytest.mark.parametrize("query", ["HB-003", "富硒"])
async def test_report_for_a_project_not_assigned_is_refused(
        wang: Phone, people: World, engine: AsyncEngine, query: str) -> None:
    counts = await row_counts(engine)
    assert "不是您负责的项目" in await wang.say(f"/report {query}")
    assert await draft_of(engine, people.liaison) is None
    assert await row_counts(engine) == counts


async def test_starting_another_form_keeps_the_open_one(
        wang: Phone, people: World, engine: AsyncEngine) -> None:
    await at_progress(wang, [])
    draft = await draft_of(engine, people.liaison)
    reply = await wang.say("/problem")
    assert "未完成的日报" in reply and "形象进度" in reply
    assert await draft_of(engine, people.liaison) == draft

