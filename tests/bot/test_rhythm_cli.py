"""`fieldbot rhythm list` and `fieldbot rhythm run`: HQ runs a check by hand, and the scheduled
run afterwards sends nothing twice.

The core functions run against an app on a `FixedClock`; `main()` itself (which runs on the
system clock) is driven with `--at` and a group digest, whose messages do not depend on the
time of day. Every test runs on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App, build_app
from bot.cli import main
from bot.config import load_settings
from bot.i18n import translator
from bot.rhythm_cli import RhythmRefused, list_rhythms, run_rhythm
from bot.schedule import build_scheduler
from domain.clock import FixedClock
from domain.events import Outgoing
from domain.model import LetterKind
from storage import models as m
from storage.uow import UnitOfWorkFactory
from tests.conftest import ZONE
from tests.world import World

T = translator("zh-CN")


def url_of(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def friday() -> FixedClock:
    """Friday 20 November 2026, 10:00: the 中旬 ten-day check falls due at 17:00."""
    return FixedClock(datetime(2026, 11, 20, 10, 0, tzinfo=ZONE), ZONE)


@pytest.fixture
async def app(engine: AsyncEngine, world: World, friday: FixedClock,
              tmp_path: Path) -> AsyncIterator[App]:
    settings = load_settings(database_url=url_of(engine), data_dir=tmp_path / "data",
                             language="zh-CN")
    built = await build_app(settings, clock=friday)
    try:
        yield built
    finally:
        await built.aclose()


async def outbox(uow: UnitOfWorkFactory) -> list[tuple[str, str, str, str]]:
    async with uow() as u:
        rows = await u.session.execute(
            select(m.OutboxMessage.kind, m.OutboxMessage.period, m.OutboxMessage.recipient,
                   m.OutboxMessage.payload).order_by(m.OutboxMessage.id))
        return [(kind, period, recipient, Outgoing.from_payload(payload).text)
                for kind, period, recipient, payload in rows]


async def runs(uow: UnitOfWorkFactory) -> list[tuple[str, datetime, str, int]]:
    async with uow() as u:
        rows = await u.session.execute(
            select(m.RhythmRun.rhythm, m.RhythmRun.due_at, m.RhythmRun.outcome,
                   m.RhythmRun.messages).order_by(m.RhythmRun.due_at))
        return [(rhythm, due.astimezone(ZONE), outcome, messages)
                for rhythm, due, outcome, messages in rows]


async def add_group(uow: UnitOfWorkFactory, world: World, now: datetime) -> int:
    async with uow() as u:
        group = await u.groups.prepare("汉滨区项目办群", region_id=world.hanbin, unit_id=None,
                                       subscriptions=["daily_summary"], now=now)
        await u.groups.bind(group.id, channel="test", chat_id="-500", title=None,
                            by=world.dispatcher, now=now)
        await u.commit()
    return group.id


async def test_a_list_run_by_hand_is_not_sent_again_by_the_schedule(
        app: App, world: World, uow: UnitOfWorkFactory, friday: FixedClock) -> None:
    friday.set(datetime(2026, 11, 20, 20, 0, tzinfo=ZONE))
    assert await run_rhythm(app, T, "leader_unreported") == (
        "leader_unreported 已按 2026-11-20 20:00（Asia/Shanghai）运行：1 条消息已放入发件箱，"
        "由运行中的 fieldbot run 发送。")
    [(kind, period, recipient, text)] = await outbox(uow)
    assert (kind, period, recipient) == ("remind.unreported", "2026-11-20",
                                         f"person:{world.leader}")
    assert "HB-001" in text and "HB-002" in text
    assert await runs(uow) == []  # not recorded as the 21:00 run

    friday.set(datetime(2026, 11, 20, 21, 0, tzinfo=ZONE))
    scheduler = build_scheduler(app, clock=friday)
    await scheduler.run_due()  # the 21:00 list (and whatever else fell due since 15:00)
    assert [row for row in await outbox(uow) if row[0] == "remind.unreported"] == [
        (kind, period, recipient, text)]
    assert ("leader_unreported", datetime(2026, 11, 20, 21, 0, tzinfo=ZONE), "ran", 0) in (
        await runs(uow))


async def test_the_ten_day_check_by_hand_then_on_time_issues_each_letter_once(
        app: App, world: World, uow: UnitOfWorkFactory, friday: FixedClock) -> None:
    first = await run_rhythm(app, T, "ten_day_check")
    assert first == ("ten_day_check 已按 2026-11-20 10:00（Asia/Shanghai）运行：3 条消息已放入"
                     "发件箱，由运行中的 fieldbot run 发送。")
    async with uow() as u:
        issued = await u.letters.counts(since=friday.now() - timedelta(days=1))
    assert issued[LetterKind.SUPERVISION] == 4  # 旬阳's unit has nobody to send one to
    queued = await outbox(uow)
    assert [(kind, recipient, text.splitlines()[0]) for kind, _, recipient, text in queued] == [
        ("letter", f"person:{world.leader}", "【督办函〔2026〕第1号】"),
        ("letter", f"person:{world.leader}", "【督办函〔2026〕第2号】"),
        ("letter", f"person:{world.unit_admin}", "【督办函〔2026〕第3号】")]
    kinds = {kind for kind, _, _, _ in queued}
    assert "letter" in kinds

    friday.set(datetime(2026, 11, 20, 17, 0, tzinfo=ZONE))
    await build_scheduler(app, clock=friday).run_due()  # the 17:00 check (and 16:00 reminder)
    assert ("ten_day_check", datetime(2026, 11, 20, 17, 0, tzinfo=ZONE), "ran", 0) in (
        await runs(uow))
    async with uow() as u:
        assert await u.letters.counts(since=friday.now() - timedelta(days=1)) == issued
    assert [row for row in await outbox(uow) if row[0] in kinds] == queued
    assert await run_rhythm(app, T, "ten_day_check") == (
        "ten_day_check 已按 2026-11-20 17:00（Asia/Shanghai）运行：没有新消息要放入发件箱"
        "（无人需要，或同一周期的消息已在发件箱中，不会重复）。")


async def test_as_of_a_past_moment_and_never_a_future_one(
        app: App, world: World, uow: UnitOfWorkFactory, friday: FixedClock) -> None:
    group = await add_group(uow, world, friday.now())
    typed = datetime.fromisoformat("2026-11-19T21:30")  # naive, as --at gives it
    said = await run_rhythm(app, T, "daily_summary", typed)
    assert said.startswith("daily_summary 已按 2026-11-19 21:30（Asia/Shanghai）运行：1 条消息")
    [(kind, period, recipient, text)] = await outbox(uow)
    assert (kind, period, recipient) == ("digest.daily", "2026-11-19", f"group:{group}")
    assert "11月19日" in text

    with pytest.raises(RhythmRefused, match=r"--at 2026-11-20 17:00 晚于现在"):
        await run_rhythm(app, T, "ten_day_check", datetime.fromisoformat("2026-11-20T17:00"))
    with pytest.raises(RhythmRefused, match=r"没有名为“ten_day”的节奏。可用的有：liaison_rem"):
        await run_rhythm(app, T, "ten_day")
    assert len(await outbox(uow)) == 1


async def test_the_list_shows_each_schedule_and_the_last_scheduled_run(
        app: App, uow: UnitOfWorkFactory, friday: FixedClock) -> None:
    friday.set(datetime(2026, 11, 20, 21, 5, tzinfo=ZONE))
    await run_rhythm(app, T, "daily_summary")  # by hand: not the "last" run
    await build_scheduler(app, clock=friday).run_due()  # catches up 16:00 … 21:00
    lines = await list_rhythms(app, T)
    table = {line.split()[0]: line.split()[2:] for line in lines[1:10]}
    assert lines[0].split() == ["节奏", "内容", "时间（crontab）", "上次", "下次"]
    assert table["liaison_reminder"] == ["0", "16,19", "*", "*", "*", "2026-11-20", "19:00",
                                         "2026-11-21", "16:00"]
    assert table["daily_summary"] == ["30", "21", "*", "*", "*", "—", "2026-11-20", "21:30"]
    assert table["ten_day_check"] == ["0", "17", "10,20,last", "*", "*", "2026-11-20", "17:00",
                                      "2026-11-30", "17:00"]
    assert lines[-1] == "时间按 Asia/Shanghai；在配置中用 FIELDBOT_RHYTHMS__<节奏> 修改。"


@pytest.fixture
async def hq_group(uow: UnitOfWorkFactory, world: World, friday: FixedClock) -> int:
    return await add_group(uow, world, friday.now())


def test_the_command_line(engine: AsyncEngine, hq_group: int, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    """On the system clock: a group digest as of a past evening, which no quiet hours hold."""
    for name in ("FIELDBOT_CONFIG", "FIELDBOT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FIELDBOT_DATABASE_URL", url_of(engine))
    monkeypatch.setenv("FIELDBOT_DATA_DIR", str(tmp_path / "data"))
    argv = ["rhythm", "run", "daily_summary", "--at", "2026-11-20T21:30"]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        "daily_summary 已按 2026-11-20 21:30（Asia/Shanghai）运行：1 条消息已放入发件箱，"
        "由运行中的 fieldbot run 发送。\n")
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        "daily_summary 已按 2026-11-20 21:30（Asia/Shanghai）运行：没有新消息要放入发件箱"
        "（无人需要，或同一周期的消息已在发件箱中，不会重复）。\n")
    assert main(["rhythm", "run", "monthly"]) == 1
    assert "没有名为“monthly”的节奏" in capsys.readouterr().err
    assert main(["rhythm", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed[1:10]] == [
        "liaison_reminder", "leader_unreported", "daily_summary", "visit_reminder",
        "weekly_digest", "ten_day_check", "monthly_review", "quarterly_review",
        "problem_escalation"]
    assert "0 17 10,20,last * *" in listed[6]
