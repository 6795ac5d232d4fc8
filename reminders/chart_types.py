"""What a chart is made of, and what drawing one offers, without matplotlib.

The rhythms and `/status` only need these; `reminders.charts` draws (and imports matplotlib,
a second of start-up, only where charts are really drawn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol


class ChartsUnavailable(RuntimeError):
    """No CJK font was found: the digest goes out as text only."""


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    light: str | None = None  # "green" / "yellow" / "red" (a `Light`), None for neutral


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: Sequence[tuple[date, float]]


class ChartPort(Protocol):
    """Drawing charts as PNG bytes (`reminders.charts.Charts`)."""

    @property
    def available(self) -> bool: ...

    def bars(self, title: str, bars: Sequence[Bar], *, unit: str = "%",
             reference: float | None = None, reference_label: str = "") -> bytes: ...

    def trend(self, title: str, series: Sequence[Series], *, unit: str = "") -> bytes: ...


class LazyCharts:
    """Charts made on first use: matplotlib and the font search cost a second, which a bot
    answering `/status` should pay once, not at every start of a CLI command."""

    def __init__(self, font: Path | None = None) -> None:
        self._font = font
        self._charts: ChartPort | None = None

    def _made(self) -> ChartPort:
        if self._charts is None:
            from reminders.charts import Charts, find_cjk_font  # noqa: PLC0415 — on first use

            self._charts = Charts(find_cjk_font(self._font))
        return self._charts

    @property
    def available(self) -> bool:
        return self._made().available

    def bars(self, title: str, bars: Sequence[Bar], *, unit: str = "%",
             reference: float | None = None, reference_label: str = "") -> bytes:
        return self._made().bars(title, bars, unit=unit, reference=reference,
                                 reference_label=reference_label)

    def trend(self, title: str, series: Sequence[Series], *, unit: str = "") -> bytes:
        return self._made().trend(title, series, unit=unit)
