"""`fieldbot rhythm list` and `fieldbot rhythm run NAME [--at …]`: the checks HQ runs on demand.

An on-demand run calls the rhythm's scheduled job once, as of `--at` (now by default, in the
configured zone), against the configured database, and writes its messages to the outbox with
the keys that job always gives them; the running `fieldbot run` sends them (its sender looks
for work written elsewhere every few seconds). So:

- a ten-day check run by hand on the 20th at 10:00 is about the same ten-day period as the one
  due at 17:00: its letters and its report are that period's, and the 17:00 run sends only
  what is new by then (a letter for a project that fell behind in between);
- a run is not recorded in `rhythm_runs` (see `RhythmScheduler.run_now`), so it never stands in
  for a scheduled run nor hides a missed one from the catch-up;
- it takes no leader lock: the scheduler's lock is held for as long as the serving instance
  lives (`bot.schedule.run_scheduler`), so waiting for it would refuse every on-demand run
  while the bot is up. What keeps two runs from sending twice is what keeps two instances'
  catch-ups apart: the outbox's unique (kind, period, recipient, subject) and a letter's
  (project, kind, cause), checked under a lock on the project row.

`--at` may name a past moment (a run missed beyond the grace window) but not a future one: a
check as of a day to come would judge projects against a plan they have not reached yet.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from bot.bootstrap import App
from bot.config import Settings
from bot.i18n import Translator


class RhythmRefused(Exception):
    """An unknown rhythm or a future `--at`: the message says which."""


def add_rhythm_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rhythm = commands.add_parser(
        "rhythm", help="the rhythms: list them with their times, run one now",
        description="The scheduled rhythms (liaison_reminder, ten_day_check, …).")
    actions = rhythm.add_subparsers(dest="rhythm_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="each rhythm with its configured time, last and next run")
    run = actions.add_parser(
        "run", help="run one rhythm now and queue its messages",
        description="Runs one rhythm once against the configured database, as the scheduler "
                    "would at that moment, and queues its messages in the outbox; the running "
                    "`fieldbot run` sends them. Messages already queued for the same period "
                    "(kind, period, recipient) are not queued again, so the scheduled run "
                    "afterwards sends only what is new. Not recorded as a scheduled run.")
    run.add_argument("name", help="the rhythm, as `fieldbot rhythm list` shows it")
    run.add_argument("--at", type=datetime.fromisoformat, metavar="YYYY-MM-DDTHH:MM",
                     help="run as of this past moment, in the configured zone (now)")


def _local(settings: Settings, moment: datetime) -> str:
    return f"{moment.astimezone(settings.zone):%Y-%m-%d %H:%M}"


async def list_rhythms(app: App, t: Translator) -> list[str]:
    """A table: rhythm, what it is, its crontab, the latest due time handled, the next one."""
    # Imported here: the rhythms bring the charts, which other commands never need.
    from bot.simulate import render_table  # noqa: PLC0415
    from reminders.rhythms import JOBS  # noqa: PLC0415

    settings, now = app.settings, app.clock.now()
    async with app.uow() as uow:
        handled = await uow.runs.last_due()
    rows = []
    for name in JOBS:
        crontab = getattr(settings.rhythms, name)
        upcoming = CronTrigger.from_crontab(crontab, timezone=settings.zone).get_next_fire_time(
            None, now)
        last = handled.get(name)
        rows.append([name, t(f"simulate.rhythm.{name}"), crontab,
                     _local(settings, last) if last else "—",
                     _local(settings, upcoming) if upcoming else "—"])
    header = [t("simulate.col_rhythm"), t("simulate.col_about"), t("cli.rhythm_col_schedule"),
              t("cli.rhythm_col_last"), t("cli.rhythm_col_next")]
    lines = [*render_table(header, rows, numeric_from=len(header)), "",
             t("cli.rhythm_zone", zone=settings.timezone)]
    if not settings.rhythms.enabled:
        lines.append(t("cli.rhythms_disabled"))
    return lines


async def run_rhythm(app: App, t: Translator, name: str, at: datetime | None = None) -> str:
    """Run the rhythm `name` once as of `at` (naive: in the configured zone); the line to print.

    Raises `RhythmRefused` for an unknown name or a moment later than now.
    """
    from bot.schedule import build_scheduler  # noqa: PLC0415 — as above
    from reminders.rhythms import JOBS  # noqa: PLC0415 — as above

    settings = app.settings
    unknown = RhythmRefused(t("cli.rhythm_unknown", name=name, known=", ".join(JOBS)))
    if name not in JOBS:  # before the scheduler is built: a typo needs no fonts looked up
        raise unknown
    now = app.clock.now()
    if at is not None:
        at = at.replace(tzinfo=settings.zone) if at.tzinfo is None else at
        if at > now:
            raise RhythmRefused(t("cli.rhythm_future", at=_local(settings, at)))
    scheduler = build_scheduler(app)
    if (rhythm := scheduler.rhythm(name)) is None:
        raise unknown
    messages = await scheduler.run_now(rhythm, at=at)
    key = "cli.rhythm_ran" if messages else "cli.rhythm_ran_nothing"
    return t(key, name=name, at=_local(settings, at or now), zone=settings.timezone,
             messages=messages)
