"""`fieldbot simulate`, run as a newcomer runs it, and checked the way they would check it."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from reminders.rhythms import JOBS

FIELDBOT = str(Path(sys.executable).with_name("fieldbot"))
KINDS = ("remind.report", "remind.unreported", "digest.daily", "remind.visit", "digest.weekly",
         "digest.ten_day", "letter", "digest.monthly", "digest.quarterly")
MESSAGE_ID = re.compile(r"^时间：.*消息编号：(\d+)$", re.MULTILINE)
LISTED = re.compile(r"^· (\S+) ", re.MULTILINE)


@dataclass(frozen=True)
class Run:
    result: subprocess.CompletedProcess[str]
    out: Path
    seconds: float
    data_dir: Path

    def texts(self) -> list[Path]:
        return sorted(self.out.glob("*/*.txt"))

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.out / "fieldbot.sqlite3")


def operator_env(tmp: Path) -> dict[str, str]:
    """An operator's environment whose configured database cannot be reached: the simulation
    must not need it (and must not touch it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOT_")}
    return env | {"FIELDBOT_DATA_DIR": str(tmp / "data"), "PYTHONUNBUFFERED": "1",
                  "FIELDBOT_DATABASE_URL": "postgresql+asyncpg://nobody:x@127.0.0.1:1/none"}


def simulate(tmp: Path, out: Path, *args: str) -> Run:
    began = time.monotonic()
    result = subprocess.run([FIELDBOT, "simulate", "--out", str(out), *args],
                            capture_output=True, text=True, env=operator_env(tmp), timeout=300,
                            check=False)
    return Run(result, out, time.monotonic() - began, tmp / "data")


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("simulate")
    return simulate(tmp, tmp / "out", "--from", "2026-03-01", "--days", "40")


def test_forty_days_run_fast_and_leave_the_configured_database_alone(month: Run) -> None:
    assert month.result.returncode == 0, month.result.stderr
    assert "Traceback" not in month.result.stderr
    assert month.seconds < 120  # about 15 s on a laptop
    assert not month.data_dir.exists()
    days = sorted(p.name for p in month.out.iterdir() if p.is_dir())
    assert days[0] == "2026-03-01" and days[-1] == "2026-04-09" and len(days) == 40


def test_every_rhythm_wrote_its_messages_with_charts_and_letters(month: Run) -> None:
    names = [p.name for p in month.texts()]
    for kind in KINDS:
        assert any(f"-{kind}-" in name for name in names), kind
    assert list(month.out.glob("*/*-digest.weekly-*.png"))
    assert list(month.out.glob("*/*-digest.ten_day-*.png"))
    letters = [p.read_text(encoding="utf-8") for p in month.out.glob("*/*-letter-*.txt")]
    assert any("【督办函〔2026〕" in text for text in letters)
    assert any("【交办函〔2026〕" in text for text in letters)
    assert any("【提醒函〔2026〕" in text for text in letters)
    signed = [text for text in letters if "[签收 〔2026〕" in text]
    assert signed and all("→ /ack " in text for text in signed)


def test_the_summary_table_shows_every_rhythm(month: Run) -> None:
    lines = month.result.stdout.splitlines()
    for name in JOBS:
        row = next(line for line in lines if line.startswith(name + " "))
        runs, skipped, failed, messages = row.split()[-4:]
        assert int(runs) >= 1 and skipped == "0" and failed == "0", row
        assert int(messages.replace(",", "")) >= 1, row
    written = len(month.texts())
    assert f"写入文件夹的消息 {written:,} 条" in month.result.stdout
    assert "督办函" in month.result.stdout and str(month.out) in month.result.stdout


def test_the_4pm_reminder_lists_only_the_projects_not_yet_reported(month: Run) -> None:
    day = "2026-03-10"
    listed = {path.name.removeprefix("1600-remind.report-").removesuffix(".txt"):
              set(LISTED.findall(path.read_text(encoding="utf-8")))
              for path in month.out.glob(f"{day}/1600-remind.report-*.txt")}
    with month.db() as db:
        rows = db.execute(
            "SELECT pe.key, p.code, EXISTS (SELECT 1 FROM daily_reports r "
            "  WHERE r.project_id = p.id AND r.report_date = :day "
            "  AND r.created_at < :day || ' 08:00:00') "  # 16:00 in Shanghai
            "FROM projects p JOIN project_liaisons pl ON pl.project_id = p.id "
            "JOIN people pe ON pe.id = pl.person_id "
            "WHERE p.stage = 'construction' AND p.actual_start <= :day",
            {"day": day}).fetchall()
    owed: dict[str, set[str]] = {}
    for key, code, reported in rows:
        owed.setdefault(key, set())
        if not reported:
            owed[key].add(code)
    assert listed, "nobody was reminded at 16:00"
    assert any(codes for codes in owed.values()) and any(not c for c in owed.values())
    assert listed == {key: codes for key, codes in owed.items() if codes}


def test_every_message_was_delivered_exactly_once(month: Run) -> None:
    files = {}
    for path in month.texts():
        found = MESSAGE_ID.search(path.read_text(encoding="utf-8"))
        assert found, path
        files[int(found.group(1))] = path.name
    with month.db() as db:
        rows = db.execute(
            "SELECT o.id, o.kind, o.period, o.recipient, o.state, "
            "  COALESCE(pe.key, g.external_id) FROM outbox o "
            "LEFT JOIN people pe ON o.recipient = 'person:' || pe.id "
            "LEFT JOIN group_chats g ON o.recipient = 'group:' || g.id").fetchall()
    assert len(files) == len(month.texts()) == len(rows)
    assert {state for *_, state, _ in rows} == {"sent"}
    assert set(files) == {row[0] for row in rows}
    assert max(Counter((kind, period, to) for _, kind, period, to, *_ in rows).values()) == 1
    for ident, kind, _, _, _, chat in rows:
        assert re.fullmatch(rf"\d{{4}}-{re.escape(kind)}-{re.escape(chat)}(-\d+)?\.txt",
                            files[ident]), (files[ident], kind, chat)


def test_a_second_run_in_the_same_folder_starts_afresh(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    first = simulate(tmp_path, out, "--from", "2026-03-09", "--days", "3")
    assert first.result.returncode == 0, first.result.stderr
    before = sorted(p.relative_to(out) for p in out.rglob("*.txt"))
    (out / "2026-03-09" / "leftover.txt").write_text("from an earlier run", encoding="utf-8")
    second = simulate(tmp_path, out, "--from", "2026-03-09", "--days", "3")
    assert second.result.returncode == 0, second.result.stderr
    after = sorted(p.relative_to(out) for p in out.rglob("*.txt"))
    assert after == before and before  # same seed, same messages, nothing left over
    with second.db() as db:
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == len(after)
        assert db.execute("SELECT min(due_at) FROM rhythm_runs").fetchone()[0] >= "2026-03-09"


def test_a_folder_that_is_not_a_simulation_is_never_deleted(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("four years of work", encoding="utf-8")
    run = simulate(tmp_path, out, "--days", "1")
    assert run.result.returncode == 1
    assert "不删除" in run.result.stderr and "Traceback" not in run.result.stderr
    assert (out / "thesis.txt").read_text(encoding="utf-8") == "four years of work"
