"""The chart `/status <project> 图` answers: the year's image progress and investment completion
against the time-proportional plan, from the project's daily reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from domain.figures import plan_to_date
from domain.model import ProjectSummary
from domain.progress import completion_pct
from handlers.context import Texts
from reminders.chart_types import ChartPort, Series

CHART_WORD = "图"
CHART_WORDS = ("chart", CHART_WORD, "图表", "进度图", "曲线")
"""A last word that asks `/status` for the chart: `/status 毛绒 图`, `/status HB-001 chart`."""

TrendRow = tuple[date, Decimal, Decimal | None]


def wants_chart(query: str) -> tuple[str, bool]:
    """The query without its chart word, and whether it had one."""
    head, _, last = query.strip().rpartition(" ")
    if head and last.casefold() in CHART_WORDS:
        return head.strip(), True
    return query.strip(), False


def progress_series(t: Texts, project: ProjectSummary, rows: Sequence[TrendRow],
                    ) -> list[Series]:
    series = [Series(t("chart.image_progress"), [(d, float(p)) for d, p, _ in rows])]
    plan = project.annual_plan
    if plan:
        series.append(Series(t("chart.investment_rate"), [
            (d, float(completion_pct(y, plan) or 0)) for d, _, y in rows if y is not None]))
        series.append(Series(t("chart.plan_line"),
                             [(d, float(plan_to_date(project, d))) for d, _, _ in rows]))
    return series


def progress_chart(charts: ChartPort, t: Texts, project: ProjectSummary,
                   rows: Sequence[TrendRow]) -> bytes:
    return charts.trend(t("chart.progress_title", name=project.name, code=project.code),
                        progress_series(t, project, rows), unit="%")
