"""A project's plan to date and lag: measured from its start when it started this year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.figures import ProjectFigures, lag, plan_to_date
from domain.model import Stage


def project(*, started: date | None, ytd: Decimal | None, plan: Decimal | None = Decimal(1000),
            ) -> ProjectFigures:
    return ProjectFigures(
        id=1, code="HB-001", name="项目", region_id=1, unit_id=1, unit_name="单位",
        lead_leader_id=None, stage=Stage.CONSTRUCTION, light=None, works_rest_days=True,
        planned_start=started, actual_start=started, planned_end=None, actual_end=None,
        annual_plan=plan, shares=(20, 50, 80, 100), last_report=None, progress_pct=None,
        site_status=None, ytd_investment=ytd, reported_days=0)


def test_a_project_started_last_year_is_due_since_new_year() -> None:
    old = project(started=date(2025, 9, 18), ytd=Decimal(400))
    assert plan_to_date(old, date(2026, 7, 2)) == Decimal("50.1")  # 183 of 365 days
    assert lag(old, date(2026, 7, 2)) == Decimal("10.1")


def test_a_project_started_in_march_is_due_in_proportion_to_the_time_since() -> None:
    new = project(started=date(2026, 3, 16), ytd=Decimal(0))
    assert plan_to_date(new, date(2026, 3, 20)) == Decimal("1.7")  # 5 of 291 days
    assert lag(new, date(2026, 3, 20)) == Decimal("1.7")  # not 21 points behind on day five
    assert plan_to_date(new, date(2026, 12, 31)) == Decimal(100)
    assert plan_to_date(new, date(2026, 3, 1)) == Decimal(0)


def test_without_a_plan_there_is_no_lag() -> None:
    assert lag(project(started=None, ytd=Decimal(5), plan=None), date(2026, 6, 1)) is None
