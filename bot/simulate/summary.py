"""What a run shows: per rhythm its runs, skips, failures and messages, then the totals.

`render_table` aligns plain-text columns for a terminal; `fieldbot rhythms` uses it too.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bot.i18n import Translator
from bot.simulate.county import Tally
from bot.simulate.folder import DATABASE
from domain.model import LetterKind
from storage.repositories.runs import RunRecord


@dataclass(frozen=True, slots=True)
class Summary:
    start: date
    days: int
    seed: int
    rows: list[RhythmRow]
    tally: Tally
    letters: dict[LetterKind, int]
    written: int
    images: int
    undelivered: int
    folder: Path
    seconds: float


@dataclass(frozen=True, slots=True)
class RhythmRow:
    rhythm: str
    ran: int
    skipped: int
    failed: int  # due times never recorded: the run raised (see the log)
    messages: int

    @property
    def numbers(self) -> tuple[int, int, int, int]:
        return self.ran, self.skipped, self.failed, self.messages


def tabulate(records: Iterable[RunRecord], expected: Mapping[str, int]) -> list[RhythmRow]:
    """Per rhythm: runs, skipped, failed (a due time never recorded) and messages."""
    ran: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    for record in records:
        (ran if record.outcome == "ran" else skipped)[record.rhythm] += 1
        messages[record.rhythm] += record.messages
    return [RhythmRow(name, ran[name], skipped[name], max(due - ran[name] - skipped[name], 0),
                      messages[name]) for name, due in expected.items()]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int, *, right: bool = False) -> str:
    pad = " " * max(width - _width(text), 0)
    return pad + text if right else text + pad


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], *,
                 numeric_from: int) -> list[str]:
    """Plain-text columns aligned for a terminal (a Chinese character is two columns wide)."""
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(_cell(cell, widths[i], right=i >= numeric_from)
                      for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]


def summary_text(t: Translator, summary: Summary) -> str:
    end = summary.start + timedelta(days=summary.days - 1)
    header = [t("simulate.col_rhythm"), t("simulate.col_about"), t("simulate.col_runs"),
              t("simulate.col_skipped"), t("simulate.col_failed"), t("simulate.col_messages")]
    rows = [[row.rhythm, t(f"simulate.rhythm.{row.rhythm}"), *map(t.number, row.numbers)]
            for row in summary.rows]
    totals = [sum(column) for column in zip(*(row.numbers for row in summary.rows),
                                            strict=True)]
    rows.append([t("simulate.total"), "", *(t.number(n) for n in totals)])
    tally = summary.tally
    letters = t("format.list_separator").join(
        t("simulate.letter_count", kind=t(f"letters.kind.{kind.value}"), count=count)
        for kind, count in summary.letters.items())
    lines = [t("simulate.title", start=summary.start.isoformat(), end=end.isoformat(),
               days=summary.days, seed=summary.seed), "",
             *render_table(header, rows, numeric_from=2), "",
             t("simulate.reports", reports=t.number(tally.reports), problems=tally.problems,
               resolved=tally.resolved, visits=tally.visits, started=tally.started),
             t("simulate.letters", letters=letters),
             t("simulate.messages", messages=t.number(summary.written), images=summary.images,
               folder=str(summary.folder)),
             t("simulate.database", database=str(summary.folder / DATABASE))]
    if summary.undelivered:
        lines.append(t("simulate.undelivered", count=summary.undelivered))
    lines.append(t("simulate.elapsed", seconds=f"{summary.seconds:.1f}"))
    return "\n".join(lines)

