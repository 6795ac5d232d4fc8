"""Charts for the digests as PNG bytes, with Chinese labels.

Each chart is its own `Figure` on its own Agg canvas, never pyplot, and every text is given the
CJK font itself rather than through the global rcParams: callers draw in worker threads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontPath, FontProperties, findSystemFonts, fontManager
from matplotlib.ft2font import FT2Font
from matplotlib.textpath import TextToPath

from reminders.chart_types import Bar, ChartsUnavailable, Series

__all__ = ["Bar", "Charts", "ChartsUnavailable", "Series", "find_cjk_font"]

GREEN, YELLOW, RED, NEUTRAL = "#2e9d4f", "#e3a21a", "#d64541", "#4a78b5"
LIGHT_COLOURS = {"green": GREEN, "yellow": YELLOW, "red": RED}
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei",
                "Droid Sans Fallback")
MAX_LABEL = 14  # characters of a bar's name before it is shortened with "…"
MAX_BARS = 60  # beyond this the names overlap: the caller picks which projects to show
# A bar chart's margins, in inches: the title and the plan line's label above, the axis below.
LABEL_PAD, RIGHT_MARGIN, TOP_MARGIN, BOTTOM_MARGIN, TITLE_OFFSET = 0.2, 0.25, 0.62, 0.4, 0.08
_MEASURE = TextToPath()


CJK_FILES = frozenset({"NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf",
                       "NotoSansSC-Regular.otf", "SourceHanSansSC-Regular.otf",
                       "wqy-zenhei.ttc", "wqy-microhei.ttc"})


def find_cjk_font(configured: Path | None = None) -> Path | None:
    """The configured font file if it exists, else the first installed font of `CJK_FAMILIES`."""
    if configured is not None and configured.is_file():
        return configured
    for family in CJK_FAMILIES:
        faces = [entry for entry in fontManager.ttflist if entry.name == family]
        if faces:  # regular before bold
            return Path(min(faces, key=lambda e: e.weight not in {400, "normal"}).fname)
    # matplotlib caches its font list at its first import: a font installed since is found by
    # its file name.
    return next((Path(f) for f in findSystemFonts() if Path(f).name in CJK_FILES), None)


def _simplified_face(font: Path) -> tuple[FontPath, str]:
    """A collection (.ttc) draws its first face unless told otherwise, and Noto CJK's first face
    is JP: 直, 骨, 角 would take their Japanese shapes. Pick the SC/CN face when there is one."""
    faces = [FT2Font(str(font), face_index=index).family_name
             for index in range(FT2Font(str(font)).num_faces)]
    index = next((i for i, name in enumerate(faces) if name.split()[-1] in {"SC", "CN"}), 0)
    return FontPath(str(font), index), faces[index]


def _plain(text: str) -> str:
    return text.replace("$", r"\$")  # a "$" in a name must not start mathtext


def _text_width(font: FontProperties, text: str) -> float:
    """Inches the text takes in `font` at its size."""
    width, _, _ = _MEASURE.get_text_width_height_descent(text, font, ismath=False)
    return float(width) / 72


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


class Charts:
    font_name: str | None  # the face drawn with, e.g. "Noto Sans CJK SC"

    def __init__(self, font: Path | None, *, width_px: int = 1200, dpi: int = 150) -> None:
        face, self.font_name = (None, None) if font is None else _simplified_face(font)
        self._font = None if face is None else FontProperties(fname=face)
        self._width_in, self._dpi = width_px / dpi, dpi

    @property
    def available(self) -> bool:
        return self._font is not None

    def bars(self, title: str, bars: Sequence[Bar], *, unit: str = "%",
             reference: float | None = None, reference_label: str = "") -> bytes:
        """Horizontal bars, first on top, coloured by light; `reference` is a dashed line."""
        if len(bars) > MAX_BARS:
            raise ValueError(f"{len(bars)} bars do not fit one chart (at most {MAX_BARS})")
        names = [_plain(b.label if len(b.label) <= MAX_LABEL else b.label[:MAX_LABEL - 1] + "…")
                 for b in bars]
        height = 1.2 + 0.28 * max(len(bars), 3)
        fig, ax, font = self._figure(title, height, layout=None)
        # Margins from the font's own measure of the longest name: a constrained layout would
        # draw the whole chart once more to find them (a third of the time of a chart).
        widest = max((_text_width(font, name) for name in names), default=0.0)
        fig.subplots_adjust(left=(widest + LABEL_PAD) / self._width_in,
                            right=1 - RIGHT_MARGIN / self._width_in,
                            top=1 - TOP_MARGIN / height, bottom=BOTTOM_MARGIN / height)
        unit = _plain(unit)
        rows = range(len(bars))
        values = [bar.value for bar in bars]
        colours = [LIGHT_COLOURS.get(bar.light or "", NEUTRAL) for bar in bars]
        ax.barh(rows, values, height=0.7, color=colours)
        ax.set_yticks(rows, names)
        ax.set_ylim(len(bars) - 0.4, -0.6)  # first bar on top, no empty rows around
        ax.tick_params(axis="y", length=0)
        for row, value in zip(rows, values, strict=True):
            ax.text(value, row, f" {_number(value)}{unit}", va="center", fontproperties=font)
        ax.set_xlim(min([0.0, *values]) * 1.15, max([0.0, reference or 0.0, *values]) * 1.15 or 1)
        if reference is not None:
            ax.axvline(reference, color="#555555", linestyle="--", linewidth=1)
            ax.text(reference, 1.0, f"{_plain(reference_label)} {_number(reference)}{unit}".strip(),
                    transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontproperties=font)
        ax.grid(axis="x", alpha=0.3)
        return self._png(fig, ax, font)

    def trend(self, title: str, series: Sequence[Series], *, unit: str = "") -> bytes:
        """Lines over dates with a legend; the dates read "11-20"."""
        fig, ax, font = self._figure(title, 4.5)
        for line in series:
            days, values = [d.toordinal() for d, _ in line.points], [v for _, v in line.points]
            ax.plot(days, values, marker="o", linewidth=2, label=_plain(line.name))
        days = sorted({day.toordinal() for line in series for day, _ in line.points})
        ax.set_xticks(days[::math.ceil(len(days) / 12) or 1])  # at most 12 dates
        ax.xaxis.set_major_formatter(lambda day, _: date.fromordinal(round(day)).strftime("%m-%d"))
        ax.yaxis.set_major_formatter(lambda value, _: f"{value:g}{_plain(unit)}")
        ax.grid(alpha=0.3)
        if series:
            ax.legend(prop=font)
        return self._png(fig, ax, font)

    def _figure(self, title: str, height_in: float, *,
                layout: Literal["constrained"] | None = "constrained",
                ) -> tuple[Figure, Axes, FontProperties]:
        if self._font is None:
            raise ChartsUnavailable("no CJK font found (install fonts-noto-cjk or configure one)")
        fig = Figure(figsize=(self._width_in, height_in), dpi=self._dpi, layout=layout)
        ax = fig.add_subplot()
        fig.suptitle(_plain(title), x=0.02, y=1 - TITLE_OFFSET / height_in, ha="left",
                     va="top", fontproperties=self._font, fontsize=13)
        ax.spines[["top", "right"]].set_visible(False)
        return fig, ax, self._font

    @staticmethod
    def _png(fig: Figure, ax: Axes, font: FontProperties) -> bytes:
        for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):  # ticks added later copy it
            label.set_fontproperties(font)
        buffer = io.BytesIO()
        FigureCanvasAgg(fig).print_figure(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
