from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.i18n import LANGUAGES, load_catalog, placeholders, translator


def test_every_language_has_every_message_with_the_same_placeholders() -> None:
    reference = load_catalog("zh-CN")
    assert len(reference) > 50
    for language in LANGUAGES:
        catalog = load_catalog(language)
        assert set(catalog) == set(reference), language
        for key, text in catalog.items():
            assert placeholders(text) == placeholders(reference[key]), (language, key)


@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_and_numbers_follow_the_language(language: str) -> None:
    t = translator(language)
    expected_date = {"zh-CN": "11月3日", "en": "Nov 3"}[language]
    assert t.short_date(date(2026, 11, 3)) == expected_date
    assert t.number(Decimal("750000.50")) == "750,000.5"


def test_unknown_language_falls_back_to_chinese() -> None:
    assert translator("fr").language == "zh-CN"
