"""The HQ clerk's round trip in chat, through the router: /template, send the filled workbook
back, find the new project with /status, /export the month."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import Attachment, EventKind, Incoming
from handlers.router import Router
from tests.handlers.phone import CHANNEL, Phone, row_counts
from tests.spreadsheets.books import filled
from tests.spreadsheets.test_import import CHEN, TEA
from tests.world import World


def upload(phone: Phone, path: Path) -> Incoming:
    return Incoming(CHANNEL, phone.chat, phone.user, EventKind.PHOTO,
                    attachments=(Attachment(path, path.name, None),))


async def test_template_upload_status_and_export(router: Router, people: World,
                                                 engine: AsyncEngine, tmp_path: Path) -> None:
    liu = Phone(router, "1003")
    await liu.say("/template")
    [template] = liu.replies
    assert template.document is not None and template.document_name.endswith(".xlsx")

    assert "没有找到" in await liu.say("/status 富硒茶")  # the index is built here
    path = tmp_path / "汉滨区项目.xlsx"
    path.write_bytes(filled({"项目": [TEA], "人员": [CHEN]}))
    assert (await liu.send(upload(liu, path))).startswith("已导入：项目 1 个")
    card = await liu.say("/status fxcy")  # 富硒茶… by its pinyin initials, after the import
    assert "【汉滨区富硒茶精深加工产业园】HB-101" in card

    wang = Phone(router, "1001")  # a liaison may not import
    before = await row_counts(engine)
    refused = await wang.send(upload(wang, path))
    assert "项目办" in refused
    assert await row_counts(engine) == before

    await liu.say("/export")
    [export] = liu.replies
    assert export.document is not None
    sheets = set(load_workbook(BytesIO(export.document)).sheetnames)
    assert {"日报", "问题", "函件", "排名"} <= sheets
