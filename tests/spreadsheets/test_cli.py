"""`fieldbot template`, `import` and `export` on an operator's SQLite database."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from domain.clock import FixedClock
from storage.db import create_engine, session_factory
from storage.uow import UnitOfWorkFactory
from tests.conftest import ZONE
from tests.spreadsheets.books import filled
from tests.spreadsheets.test_import import CHEN, SILK, TEA
from tests.world import build_world

NOT_A_DATE = "“明年”不是日期：请用日期单元格，或写成 2026-03-01、2026/3/1、2026年3月1日（要有年份）"


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The world in a migrated SQLite file that the command line is configured to use."""
    path = tmp_path / "fieldbot.sqlite3"
    shutil.copy(sqlite_template, path)

    async def populate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            clock = FixedClock(datetime(2026, 11, 22, 10, tzinfo=ZONE), ZONE)
            await build_world(UnitOfWorkFactory(session_factory(engine)), clock)
        finally:
            await engine.dispose()

    asyncio.run(populate())
    for name in ("FIELDBOT_DATABASE_URL", "FIELDBOT_CONFIG", "FIELDBOT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FIELDBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FIELDBOT_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    return path


def test_template_needs_no_database(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDBOT_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    out = tmp_path / "模板.xlsx"
    assert main(["template", str(out), "--language", "en"]) == 0
    assert capsys.readouterr().out.strip() == f"Import workbook written to {out}"
    assert load_workbook(out).sheetnames[0] == "Projects"


def test_import_counts_then_refuses_a_wrong_file_with_status_1(
        database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "county.xlsx"
    good.write_bytes(filled({"项目": [TEA, SILK], "人员": [CHEN]}))
    assert main(["import", str(good), "--year", "2026"]) == 0
    assert capsys.readouterr().out.startswith(
        "已导入：项目 2 个（新增 2，更新 0，无变化 0），人员 1 人")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(filled({"项目": [TEA | {"计划开工日期": "明年"},
                                     SILK | {"责任单位": "无"}]}))
    assert main(["import", str(bad)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "什么也没有导入：有 2 处错误。改好后请重新导入整个文件：",
        f"项目!L3：{NOT_A_DATE}",
        "项目!E4：系统里没有单位“无”",
    ]
    bad.write_bytes(filled({"项目": [TEA | {"计划开工日期": "明年"},
                                     SILK | {"项目编号": "HB-103"}]}))
    assert main(["import", str(bad), "--partial"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "已导入：项目 1 个（新增 1，更新 0，无变化 0），人员 0 人（新增 0，更新 0，无变化 0），"
        "分工 0 条。",
        "以下 1 处错误所在的行没有导入：",
        f"项目!L3：{NOT_A_DATE}",
    ]


def test_export_writes_the_workbook(database: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "march.xlsx"
    assert main(["export", "--from", "2026-03-01", "--to", "2026-03-31", str(out),
                 "--region", "汉滨区"]) == 0
    assert capsys.readouterr().out.strip() == f"已导出到 {out}：日报 0 条，问题 0 个，函件 0 件"
    book = load_workbook(BytesIO(out.read_bytes()))
    assert book["日报"]["A1"].value == "汉滨区重点项目日报（2026年3月1日至2026年3月31日）"
    assert main(["export", str(out), "--region", "火星"]) == 1
    assert "火星" in capsys.readouterr().err
