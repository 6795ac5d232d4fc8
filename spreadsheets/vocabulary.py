"""Words a clerk types in a cell, read in either language: headers, sheet names and choices.

The workbook is written in one language (Chinese by default), but a clerk may fill in an
English template, paste a column from last year's sheet, or type 在建 into the English one; so
every label is matched against both catalogues, after NFKC normalisation (full-width letters,
digits and brackets become their ASCII forms) and with spaces and case ignored.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from bot.i18n import LANGUAGES, Translator, translator
from domain.model import Category, ProjectLevel, RoleKind, Stage

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))


def normal(text: str) -> str:
    """The form labels are compared in: "总投资（万元）" and "总投资 (万元)" read alike."""
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return "".join(folded.split()).casefold()


def closest(wanted: str, offered: Iterable[str], cutoff: float = 0.5) -> str | None:
    """The offered text nearest to `wanted` (compared in normal form), if any is near."""
    by_normal = {normal(o): o for o in offered if o}
    found = difflib.get_close_matches(normal(wanted), list(by_normal), n=1, cutoff=cutoff)
    return by_normal[found[0]] if found else None


def every_language() -> list[Translator]:
    return [translator(language) for language in LANGUAGES]


@dataclass(frozen=True)
class Vocabulary:
    """The choices of one column: each value's label key, and words also understood."""

    labels: Mapping[str, str]  # value → message key of its label
    synonyms: Mapping[str, str] = field(default_factory=dict)  # typed word → value
    _labels: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def label(self, t: Translator, value: str) -> str:
        return t(self.labels[value])

    def all_labels(self, t: Translator) -> list[str]:
        found = self._labels.get(t.language)
        if found is None:
            found = self._labels[t.language] = [t(key) for key in self.labels.values()]
        return found

    def read(self, text: str) -> str | None:
        """The value `text` names, in either language, or None."""
        return self._index.get(normal(text))

    @cached_property
    def _index(self) -> dict[str, str]:
        index = {normal(word): value for word, value in self.synonyms.items()}
        for value, key in self.labels.items():
            index[normal(value)] = value
            for t in every_language():
                index[normal(t(key))] = value
        return index


def _of(kind: type[StrEnum], prefix: str) -> dict[str, str]:
    return {member.value: f"{prefix}.{member.value}" for member in kind}


STAGES = Vocabulary(_of(Stage, "stage"), {
    "储备项目": Stage.RESERVE, "前期项目": Stage.PRELIMINARY, "续建": Stage.CONSTRUCTION,
    "新开工": Stage.CONSTRUCTION, "施工": Stage.CONSTRUCTION, "建设中": Stage.CONSTRUCTION,
    "竣工": Stage.PRODUCTION, "已竣工": Stage.PRODUCTION, "建成": Stage.PRODUCTION,
    "construction": Stage.CONSTRUCTION, "production": Stage.PRODUCTION,
    "completed": Stage.PRODUCTION})
LEVELS = Vocabulary(_of(ProjectLevel, "excel.level"), {
    "省级": ProjectLevel.PROVINCE, "省重点": ProjectLevel.PROVINCE,
    "市级": ProjectLevel.CITY, "市重点": ProjectLevel.CITY,
    "县级": ProjectLevel.COUNTY, "县重点": ProjectLevel.COUNTY, "区级": ProjectLevel.COUNTY,
    "县级重点项目": ProjectLevel.COUNTY, "市级重点项目": ProjectLevel.CITY,
    "省级重点项目": ProjectLevel.PROVINCE})
CATEGORIES = Vocabulary(_of(Category, "excel.category"), {
    "产业": Category.INDUSTRIAL, "工业": Category.INDUSTRIAL, "产业类": Category.INDUSTRIAL,
    "基础设施类": Category.INFRASTRUCTURE, "基建": Category.INFRASTRUCTURE,
    "公共服务类": Category.PUBLIC_SERVICE, "民生": Category.PUBLIC_SERVICE,
    "社会民生": Category.PUBLIC_SERVICE, "infrastructure": Category.INFRASTRUCTURE,
    "public service": Category.PUBLIC_SERVICE})
ROLES = Vocabulary(_of(RoleKind, "role"), {
    "项目联络员": RoleKind.LIAISON, "项目管家": RoleKind.LIAISON, "包抓领导": RoleKind.LEADER,
    "领导": RoleKind.LEADER, "单位管理员": RoleKind.UNIT, "总指挥部办公室": RoleKind.DISPATCHER,
    "调度员": RoleKind.DISPATCHER, "查看人": RoleKind.VIEWER, "县领导": RoleKind.VIEWER})
LANGUAGE_CHOICES = Vocabulary({"zh-CN": "excel.language.zh", "en": "excel.language.en"}, {
    "zh": "zh-CN", "zh_cn": "zh-CN", "汉语": "zh-CN", "chinese": "zh-CN", "简体中文": "zh-CN",
    "英语": "en", "英文": "en", "en-us": "en", "en-gb": "en"})
YES, NO = "yes", "no"
YES_NO = Vocabulary({YES: "excel.yes", NO: "excel.no"}, {
    "y": YES, "n": NO, "true": YES, "false": NO, "1": YES, "0": NO, "√": YES, "×": NO,
    "✓": YES, "✗": NO, "有": YES, "无": NO, "对": YES, "不": NO})
