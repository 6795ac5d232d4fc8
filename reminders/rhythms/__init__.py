"""The five rhythms (五每工作法) as scheduled jobs: name → what runs, at the configured times."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from reminders.rhythms.base import RhythmDeps
from reminders.rhythms.daily import daily_summary, leader_unreported, liaison_reminder
from reminders.rhythms.monthly import monthly_review
from reminders.rhythms.problems import problem_escalation
from reminders.rhythms.quarterly import quarterly_review
from reminders.rhythms.ten_day import ten_day_check
from reminders.rhythms.weekly import visit_reminder, weekly_digest
from reminders.scheduler import Rhythm

JOBS = {
    "liaison_reminder": liaison_reminder,
    "leader_unreported": leader_unreported,
    "daily_summary": daily_summary,
    "visit_reminder": visit_reminder,
    "weekly_digest": weekly_digest,
    "ten_day_check": ten_day_check,
    "monthly_review": monthly_review,
    "quarterly_review": quarterly_review,
    "problem_escalation": problem_escalation,
}


def build_rhythms(crontabs: Mapping[str, str], deps: RhythmDeps, zone: ZoneInfo) -> list[Rhythm]:
    """Every rhythm with its trigger from `crontabs` (rhythm name → crontab line)."""
    return [Rhythm(name, CronTrigger.from_crontab(crontabs[name], timezone=zone),
                   partial(job, deps))
            for name, job in JOBS.items()]
