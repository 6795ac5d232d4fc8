"""Digest charts as an official sees them: a PNG with readable Chinese and the lights' colours."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reminders.charts import (
    GREEN,
    RED,
    Bar,
    Charts,
    ChartsUnavailable,
    Series,
    find_cjk_font,
)

NAMES = [
    "汉滨区项目进度", "安康高新区智能制造产业园二期工程建设项目", "旬阳市直属骨科医院",
    "紫阳县茶叶加工厂", "平利县公路改造", "岚皋县污水处理厂", "石泉县第一中学",
    "宁陕县旅游集散中心", "白河县码头", "镇坪县角落水库", "汉阴县物流园区建设工程项目",
    "恒口示范区安置小区",
]
LIGHTS = ["green", "yellow", "red", None]


@pytest.fixture(scope="module")
def charts() -> Charts:
    font = find_cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (apt install fonts-noto-cjk)")
    return Charts(font)


def draw_quietly(draw: Callable[[], bytes]) -> bytes:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw()
    assert [str(w.message) for w in caught if "Glyph" in str(w.message)] == []
    return png


def image(png: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG"
    return picture.convert("RGB")


def has_colour(picture: Image.Image, colour: str, tolerance: int = 8) -> bool:
    want = np.frombuffer(bytes.fromhex(colour.removeprefix("#")), dtype=np.uint8)
    distance = np.abs(np.asarray(picture, dtype=np.int16) - want.astype(np.int16)).max(axis=-1)
    return bool((distance <= tolerance).any())


def test_bars_of_twelve_projects_draw_every_chinese_glyph(charts: Charts) -> None:
    bars = [Bar(name, 95 - 7 * i, LIGHTS[i % 4]) for i, name in enumerate(NAMES)]
    png = draw_quietly(lambda: charts.bars("汉滨区重点项目进度", bars, reference=88.5,
                                           reference_label="时序进度"))
    assert len(png) < 2_000_000
    picture = image(png)
    assert picture.width == 1200
    assert has_colour(picture, RED)


def test_all_green_bars_show_no_red(charts: Charts) -> None:
    picture = image(charts.bars("全部正常", [Bar(name, 90, "green") for name in NAMES]))
    assert has_colour(picture, GREEN)
    assert not has_colour(picture, RED, tolerance=40)


def test_more_bars_make_a_taller_chart(charts: Charts) -> None:
    five = image(charts.bars("五个项目", [Bar(f"项目{i}", i) for i in range(5)]))
    forty = image(charts.bars("四十个项目", [Bar(f"项目{i}", i) for i in range(40)]))
    assert forty.height > five.height
    assert forty.width == five.width


def test_trend_of_two_series_over_a_week(charts: Charts) -> None:
    monday = date(2025, 11, 17)
    week = [monday + timedelta(days=i) for i in range(7)]
    series = [Series("已报送", [(day, 30 + i) for i, day in enumerate(week)]),
              Series("未报送", [(day, 12 - i) for i, day in enumerate(week)])]
    png = draw_quietly(lambda: charts.trend("本周每日报送项目数", series, unit="个"))
    assert image(png).width == 1200


def test_collections_draw_the_simplified_chinese_face(charts: Charts) -> None:
    """A .ttc's first face is drawn by default; for Noto CJK that is JP (直 and 骨 differ)."""
    if "CJK" not in (charts.font_name or ""):
        pytest.skip(f"the font found is {charts.font_name}, not Noto/Source Han CJK")
    assert (charts.font_name or "").endswith((" SC", " CN"))


def test_without_a_font_charts_are_unavailable() -> None:
    charts = Charts(None)
    assert charts.available is False
    with pytest.raises(ChartsUnavailable):
        charts.bars("进度", [Bar("汉滨区", 50)])
    with pytest.raises(ChartsUnavailable):
        charts.trend("进度", [])


def test_a_missing_configured_font_falls_back_to_an_installed_one() -> None:
    installed = find_cjk_font()
    if installed is None:
        pytest.skip("no CJK font installed (apt install fonts-noto-cjk)")
    assert find_cjk_font(Path("/nonexistent.ttf")) == installed
    assert find_cjk_font(installed) == installed


def test_importing_charts_does_not_import_pyplot() -> None:
    code = "import sys, reminders.charts; print('matplotlib.pyplot' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).parents[2])
    assert result.stdout.strip() == "False"
