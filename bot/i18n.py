"""Message catalogues: gettext .po files read with Babel, one per language.

Messages are keyed (`status.not_found`) rather than written in a source language, so zh-CN and
en are equal peers and a missing translation is a test failure, not a silent fallback.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

logger = logging.getLogger(__name__)

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


def _folder(language: str) -> str:
    return language.replace("-", "_")


@cache
def load_catalog(language: str) -> Mapping[str, str]:
    path = LOCALES / _folder(language) / "LC_MESSAGES" / "fieldbot.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=_folder(language))
    return {str(msg.id): str(msg.string) for msg in catalog if msg.id and msg.string}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Translator:
    """The texts of one language, with the number and date formats of its locale."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._messages = load_catalog(self.language)
        self._locale = Locale.parse(_folder(self.language))

    def __call__(self, key: str, /, **values: object) -> str:
        template = self._messages.get(key)
        if template is None:
            logger.error("missing message %s for %s", key, self.language)
            return key
        return template.format(**values) if values else template

    def number(self, value: Decimal | int | float) -> str:
        return format_decimal(value, format="#,##0.##", locale=self._locale)

    def full_date(self, value: date) -> str:
        return format_date(value, format="medium", locale=self._locale)

    def short_date(self, value: date) -> str:
        return format_date(value, format=self("format.short_date"), locale=self._locale)


@cache
def translator(language: str | None) -> Translator:
    return Translator(language or DEFAULT_LANGUAGE)
