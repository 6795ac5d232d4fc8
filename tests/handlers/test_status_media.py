"""`/status` with its pictures: the last report's photo on the card, the progress chart on
request (`/status HB-001 图`, or the card's button)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.i18n import translator
from domain.clock import FixedClock
from handlers.forms import field_forms
from handlers.forms.engine import Forms
from handlers.router import Router
from reminders.charts import Charts, find_cjk_font
from storage.photos import PhotoStore
from storage.uow import UnitOfWorkFactory
from tests.handlers.phone import Phone, report_to_photos
from tests.handlers.test_forms import finish_report
from tests.world import World

FONT = find_cjk_font()


@pytest.fixture
def router(uow: UnitOfWorkFactory, clock: FixedClock, tmp_path: Path) -> Router:
    store = PhotoStore(tmp_path / "photos", zone=clock.zone)
    return Router(uow, clock, translator, "zh-CN", forms=Forms(field_forms(), store),
                  photo_files=store, charts=Charts(FONT))


def size_of(image: bytes | None) -> tuple[int, int]:
    assert image is not None
    with Image.open(io.BytesIO(image)) as opened:
        return opened.size


async def test_the_card_shows_the_last_reports_first_photo(
        router: Router, people: World, photos: list[Path]) -> None:
    liu = Phone(router, "1003")
    await liu.say("/status HB-001")
    assert liu.replies[0].image is None  # no report yet: the card alone

    wang = Phone(router, "1001")
    await report_to_photos(wang)
    await finish_report(wang, [photos[2], photos[3]])
    await liu.say("/status HB-001")
    [card] = liu.replies
    assert "【汉滨区毛绒文创总部产业园建设项目】HB-001" in card.text
    assert card.image is not None and card.image.startswith(b"\xff\xd8")  # the stored JPEG
    assert size_of(card.image) == (800, 600)
    assert "📈 进度图" in [b.label for b in liu.buttons]


@pytest.mark.skipif(FONT is None, reason="no CJK font installed (fonts-noto-cjk)")
async def test_the_progress_chart_on_request(router: Router, people: World,
                                             photos: list[Path]) -> None:
    liu = Phone(router, "1003")
    assert "今年还没有日报" in await liu.say("/status 毛绒园 图")

    wang = Phone(router, "1001")
    await report_to_photos(wang)
    await finish_report(wang, [photos[1]])
    await liu.say("/status HB-001")
    await liu.press("进度图")
    [chart] = liu.replies
    assert chart.image is not None and chart.image.startswith(b"\x89PNG")
    assert "HB-001" in chart.text and "今年进度" in chart.text
    assert size_of(chart.image)[0] == 1200
