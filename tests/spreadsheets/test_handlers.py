"""`/export`, `/template` and an uploaded workbook in the chat, as a dispatcher and as others."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from bot.i18n import translator
from domain.clock import FixedClock
from domain.events import Attachment, ChatKind, EventKind, Incoming
from handlers.context import Context
from handlers.spreadsheets import MAX_ERRORS_SHOWN, export, import_upload, template
from storage.uow import UnitOfWorkFactory
from tests.spreadsheets.books import filled
from tests.spreadsheets.test_import import CHEN, SILK, TEA
from tests.world import World

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def context(uow: UnitOfWorkFactory, clock: FixedClock, person_id: int, event: Incoming,
                  ) -> Context:
    async with uow() as u:
        person = await u.people.get(person_id)
    assert person is not None
    return Context(person, event, uow, clock, translator("zh-CN"), translator)


def command(name: str, args: str = "") -> Incoming:
    return Incoming("test", "1", "1", EventKind.COMMAND, command=name, args=args)


def upload(path: Path, *, mime: str | None = XLSX, chat: ChatKind = ChatKind.PRIVATE,
           ) -> Incoming:
    return Incoming("test", "1", "1", EventKind.PHOTO, chat_kind=chat,
                    attachments=(Attachment(path, path.name, mime),))


async def test_a_dispatcher_exports_their_regions_month_so_far(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World) -> None:
    ctx = await context(uow, clock, world.dispatcher, command("export"))
    [reply] = await export(ctx)
    assert reply.text == ("汉滨区，2026年11月1日至2026年11月22日：日报 0 条，问题 0 个，函件 0 件，"
                          "另有排名，见附件。")
    assert reply.document_name == "fieldbot-2026-11-01-2026-11-22.xlsx"
    assert reply.document is not None
    book = load_workbook(BytesIO(reply.document))
    names = [row[1] for row in book["排名"].iter_rows(min_row=4, values_only=True)]
    assert "旬阳市发改局" not in names and "汉滨区工信局" in names


async def test_export_takes_one_or_two_dates(uow: UnitOfWorkFactory, clock: FixedClock,
                                             world: World) -> None:
    ctx = await context(uow, clock, world.dispatcher, command("export", "2026-03-01 3月31日"))
    [reply] = await export(ctx)
    assert reply.document_name == "fieldbot-2026-03-01-2026-03-31.xlsx"
    answers = {
        "2026-04-01 2026-03-01": "结束日期 2026年3月1日 早于开始日期 2026年4月1日。",
        "2024-01-01": "一次最多导出 366 天。",
        "上个月": "这样用：/export（本月至今），/export 2026-03-01（从那天到今天），"
                  "或 /export 2026-03-01 2026-03-31"}
    for args, answer in answers.items():
        ctx = await context(uow, clock, world.dispatcher, command("export", args))
        [reply] = await export(ctx)
        assert reply.text == answer and reply.document is None


async def test_others_are_refused_politely(uow: UnitOfWorkFactory, clock: FixedClock,
                                           world: World, tmp_path: Path) -> None:
    path = tmp_path / "county.xlsx"
    path.write_bytes(filled({"项目": [TEA]}))
    for handler, event in ((export, command("export")), (template, command("template")),
                           (import_upload, upload(path))):
        ctx = await context(uow, clock, world.liaison, event)
        replies = await handler(ctx)
        assert replies is not None
        [reply] = replies
        assert reply.text == "Excel 导入、导出和模板只对项目办（总指挥部办公室）开放。"
        assert reply.document is None and reply.refusal
    async with uow() as u:
        assert await u.projects.count() == 4


async def test_the_template_is_sent_as_a_document(uow: UnitOfWorkFactory, clock: FixedClock,
                                                  world: World) -> None:
    [reply] = await template(await context(uow, clock, world.dispatcher, command("template")))
    assert reply.document_name == "项目人员导入模板.xlsx"
    assert reply.document is not None
    assert load_workbook(BytesIO(reply.document)).sheetnames == ["项目", "人员", "分工", "说明"]
    assert "发给我" in reply.text


async def test_an_uploaded_workbook_is_imported(uow: UnitOfWorkFactory, clock: FixedClock,
                                                world: World, tmp_path: Path) -> None:
    path = tmp_path / "汉滨区项目.xlsx"
    path.write_bytes(filled({"项目": [TEA, SILK], "人员": [CHEN]}))
    ctx = await context(uow, clock, world.dispatcher, upload(path, mime=None))
    [reply] = await import_upload(ctx) or []
    assert reply.text.startswith("已导入：项目 2 个（新增 2")
    async with uow() as u:
        assert await u.projects.count() == 6


async def test_a_wrong_workbook_lists_the_first_cells_and_imports_nothing(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World, tmp_path: Path) -> None:
    rows = [TEA | {"项目编号": f"HB-1{i:02d}", "总投资（万元）": "很多"} for i in range(30)]
    path = tmp_path / "county.xlsx"
    path.write_bytes(filled({"项目": rows}))
    [reply] = await import_upload(await context(uow, clock, world.dispatcher, upload(path))) or []
    lines = reply.text.splitlines()
    assert lines[0] == "什么也没有导入：有 30 处错误。改好后请重新导入整个文件："
    assert lines[1].startswith("项目!J3：“很多”不是金额")
    assert len(lines) == 1 + MAX_ERRORS_SHOWN + 1
    assert lines[-1] == "……还有 10 处错误没有列出。"
    async with uow() as u:
        assert await u.projects.count() == 4


async def test_a_spreadsheet_of_another_kind_is_answered_too(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World, tmp_path: Path) -> None:
    path = tmp_path / "county.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    [reply] = await import_upload(
        await context(uow, clock, world.dispatcher, upload(path, mime=None))) or []
    assert "旧版 Excel（.xls）" in reply.text


async def test_other_events_are_not_imports(uow: UnitOfWorkFactory, clock: FixedClock,
                                            world: World, tmp_path: Path) -> None:
    photo = tmp_path / "site.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    sheet = tmp_path / "county.xlsx"
    sheet.write_bytes(filled({"项目": [TEA]}))
    for event in (command("my"), upload(photo, mime="image/jpeg"),
                  upload(sheet, chat=ChatKind.GROUP)):
        assert await import_upload(await context(uow, clock, world.dispatcher, event)) is None
