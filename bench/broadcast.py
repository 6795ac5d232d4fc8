"""B4: a broadcast of 10,000 reminders under a limit of 300 messages/s, killed half-way.

Run: `.venv/bin/python bench/broadcast.py`

fieldbot: the real `fieldbot run` process sends 10,000 pending outbox rows (one reminder to each
of 10,000 people, each with a Telegram account of their own, written straight into a migrated
SQLite database) through the fake Telegram Bot API of `tests/fakes/telegram_api.py`, which
checks Telegram's flood limits (here 300/s overall, 1/s per chat, 20/min per group) on its own
clock and answers 429 to anything over them. The clock is not scaled (time_scale 1: 10,000 at
300/s is about 34 s already), and the bot is configured with the same 300/s. When about 5,000
have been delivered the process is killed with SIGKILL and started again; it must deliver
exactly the rest. Measured against the limit itself: the achieved rate (the steady part of the
first run, and overall without the restart gap) as a share of 300/s; the violations the fake
saw; duplicates (the chats that got their reminder more than once, and how many messages too
many), and how long the oldest of them had been delivered, and not yet marked, when the process
was killed: the window a crash can repeat; the database's final states.
Then a short second broadcast (2,000) into which the fake injects 20 consecutive 429s
(retry_after 1 s) mid-way: still everything delivered once, and no violations.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.model import OutboxState
from storage import models as m
from storage.db import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests`, run as bench/NAME.py
from tests.fakes.telegram_api import FakeTelegram, FloodLimits

PEOPLE = 10_000
FIRST_CHAT = 100_000
LIMIT = 300  # messages per second, overall
KILL_AT = PEOPLE // 2
SECOND = 2_000  # reminders in the second broadcast, the one with injected 429s
FAULTS = 20
FIELDBOT = str(Path(sys.executable).with_name("fieldbot"))
TIMEOUT = 180.0


class Recorder:
    """Every delivered message's chat and fake-clock time, taken as the fake records them
    (a watcher re-reads after every call the fake handles)."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.times: list[float] = []
        self.chats: Counter[int] = Counter()
        self._watcher: asyncio.Task[None] | None = None

    def sync(self) -> int:
        delivered = self.tg.delivered
        while len(self.times) < len(delivered):
            self.chats[delivered[len(self.times)].chat_id] += 1
            self.times.append(self.tg.now())
        return len(self.times)

    def __enter__(self) -> Recorder:
        self._watcher = asyncio.create_task(
            self.tg.wait_for(lambda: self.sync() < 0, timeout=10 * TIMEOUT))
        return self

    def __exit__(self, *_: object) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        self.sync()

    async def until(self, count: int) -> None:
        await self.tg.wait_for(lambda: self.sync() >= count, timeout=TIMEOUT)

    async def all_chats(self, count: int) -> None:
        await self.tg.wait_for(lambda: self.sync() >= 0 and len(self.chats) >= count,
                               timeout=TIMEOUT)

    def rate(self, first: int, last: int) -> float:
        """Messages per second from delivery number `first` to `last` (0-based)."""
        return (last - first) / (self.times[last] - self.times[first])

    def duplicates(self) -> dict[int, int]:
        return {chat: n for chat, n in self.chats.items() if n > 1}


@dataclass
class Bot:
    """`fieldbot run` processes, one at a time, and their peak memory from /proc."""

    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None
    peaks: list[int] = field(default_factory=list)  # VmHWM (KiB) of each process, at its end
    cpu: list[float] = field(default_factory=list)  # CPU time / wall time of each process
    _spawned: float = 0.0

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self._spawned = time.monotonic()
            self.process = await asyncio.create_subprocess_exec(
                FIELDBOT, "run", env=self.env, stdout=out, stderr=out)

    @staticmethod
    def _peak_kib(pid: int) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    @staticmethod
    def _cpu_seconds(pid: int) -> float:
        """User + system CPU time of a process so far (Linux /proc)."""
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            self.peaks.append(self._peak_kib(process.pid))
            self.cpu.append(self._cpu_seconds(process.pid) / (time.monotonic() - self._spawned))
            process.send_signal(sig)
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()

    def errors(self) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if " ERROR " in line or line.startswith("Traceback")]


async def bench_people(conn: AsyncConnection) -> dict[int, int]:
    """The bench's people: {number: person id}."""
    rows = await conn.execute(select(m.Person.id, m.Person.key)
                              .where(m.Person.key.like("bench_%")))
    return {int(key.removeprefix("bench_")): pid for pid, key in rows}


async def seed(engine: AsyncEngine) -> None:
    """10,000 people, each with a Telegram account."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(insert(m.Person), [
            {"key": f"bench_{i:05d}", "name": f"联络员{i:05d}", "title": "", "reachable": True,
             "active": True, "created_at": now} for i in range(PEOPLE)])
        ids = await bench_people(conn)
        await conn.execute(insert(m.ChatIdentity), [
            {"channel": "telegram", "external_id": str(FIRST_CHAT + i), "person_id": ids[i],
             "created_at": now} for i in range(PEOPLE)])


async def enqueue(engine: AsyncEngine, kind: str, count: int) -> None:
    """One pending reminder of `kind` to each of the first `count` people."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        ids = await bench_people(conn)
        await conn.execute(insert(m.OutboxMessage), [
            {"kind": kind, "period": "2026-11-22", "recipient": f"person:{ids[i]}",
             "subject": "", "channel": None,
             "payload": {"text": f"【提醒】请于今天 18:00 前提交日报（{i:05d}）"},
             "state": OutboxState.PENDING, "attempts": 0, "next_attempt_at": now,
             "created_at": now} for i in range(count)])


async def states(engine: AsyncEngine, kind: str) -> Counter[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(m.OutboxMessage.state, func.count()).where(m.OutboxMessage.kind == kind)
            .group_by(m.OutboxMessage.state))
        return Counter({str(OutboxState(state).value): int(n) for state, n in rows})


async def all_sent(engine: AsyncEngine, kind: str, count: int) -> Counter[str]:
    """The states of `kind`'s rows once all are sent (or after a while: as they are)."""
    for _ in range(150):  # the database is another process's: look every 0.2 s, 30 s at most
        if (found := await states(engine, kind))["sent"] >= count:
            break
        await asyncio.sleep(0.2)
    return found


def limits() -> FloodLimits:
    return FloodLimits(overall_per_second=LIMIT, per_chat_per_second=1, per_group_per_minute=20)


def bot_env(env: dict[str, str], tg: FakeTelegram) -> dict[str, str]:
    return env | {"FIELDBOT_TELEGRAM__TOKEN": tg.token,
                  "FIELDBOT_TELEGRAM__API_BASE": tg.base_url,
                  "FIELDBOT_TELEGRAM__LIMITS__OVERALL_PER_SECOND": str(LIMIT),
                  "FIELDBOT_TELEGRAM__LIMITS__PER_CHAT_PER_SECOND": "1",
                  "FIELDBOT_TELEGRAM__LIMITS__PER_GROUP_PER_MINUTE": "20"}


def rejected(tg: FakeTelegram) -> int:
    """Sends the fake answered with an error (429s here): send calls minus messages."""
    sends = sum(1 for call in tg.calls if call.method == "sendMessage")
    return sends - len(tg.delivered)


def describe_duplicates(rec: Recorder, first_run: int) -> str:
    found = rec.duplicates()
    if not found:
        return "none"
    before_kill = [(i, message.chat_id) for i, message in enumerate(rec.tg.delivered[:first_run])
                   if message.chat_id in found]
    killed = {chat for _, chat in before_kill}
    shown = ", ".join(f"{chat}×{n}" for chat, n in sorted(found.items())[:12])
    window = ""
    if before_kill:
        unmarked = rec.times[first_run - 1] - rec.times[before_kill[0][0]]
        window = (f"the oldest delivered {1000 * unmarked:.0f} ms before the killed process's "
                  "last delivery")
    return (f"{shown}{' …' if len(found) > 12 else ''} ({len(killed)} of them first delivered "
            f"by the killed process, again after the restart; {window}; at most the sender's "
            "concurrency, 64, are ever sent and not yet marked)")


async def killed_broadcast(engine: AsyncEngine, env: dict[str, str], log: Path) -> None:
    await enqueue(engine, "bench.reminder", PEOPLE)
    async with FakeTelegram(limits=limits(), enforce_limits=True) as tg:
        bot = Bot(bot_env(env, tg), log)
        with Recorder(tg) as rec:
            try:
                await bot.start()
                await rec.until(KILL_AT)
                killed_at = tg.now()
                await bot.stop(signal.SIGKILL)
                first_run = rec.sync()
                restarted_at = tg.now()
                await bot.start()
                await rec.until(first_run + 1)
                await rec.all_chats(PEOPLE)
                found = await all_sent(engine, "bench.reminder", PEOPLE)
                await asyncio.sleep(1.0)  # anything sent twice would come now
            finally:
                await bot.stop()
        resumed = rec.times[first_run]
        total = len(rec.times)
        gap = resumed - rec.times[first_run - 1]
        span = rec.times[-1] - rec.times[0]
        steady = rec.rate(LIMIT, first_run - 1)  # from the end of the first second to the kill
        after = rec.rate(first_run + LIMIT, total - 1)
        overall = (total - 1) / (span - gap)
        print(f"1) {PEOPLE:,} reminders, limit {LIMIT}/s; SIGKILL after {first_run:,} delivered")
        print(f"  steady rate, first run            {steady:7.1f}/s  {steady / LIMIT:6.1%}")
        print(f"  steady rate, after the restart    {after:7.1f}/s  {after / LIMIT:6.1%}")
        print(f"  overall, without the restart gap  {overall:7.1f}/s  {overall / LIMIT:6.1%}"
              f"   ({total:,} in {span - gap:.1f} s)")
        print(f"  overall, with it                  {(total - 1) / span:7.1f}/s"
              f"             ({span:.1f} s)")
        print(f"  restart: SIGKILL to first delivery {resumed - killed_at:.2f} s "
              f"(spawn to first delivery {resumed - restarted_at:.2f} s)")
        print(f"  delivered {total:,}, distinct chats {len(rec.chats):,}, chats that got it more "
              f"than once {len(rec.duplicates())} ({total - len(rec.chats)} messages too many): "
              f"{describe_duplicates(rec, first_run)}")
        print(f"  limit violations seen by the fake: {len(tg.violations)}"
              + "".join(f"\n    {v}" for v in tg.violations[:5]))
        print(f"  sends answered 429 by the fake: {rejected(tg)}")
        print(f"  outbox rows: {dict(sorted(found.items()))}")
        peaks = ", ".join(f"{kib / 1024:.0f} MB" for kib in bot.peaks)
        cpu = ", ".join(f"{share:.0%}" for share in bot.cpu)
        print(f"  the bot's peak RSS (VmHWM): {peaks}; its CPU time / wall time: {cpu} "
              "(killed run, restarted run)")


async def flooded_broadcast(engine: AsyncEngine, env: dict[str, str], log: Path) -> None:
    await enqueue(engine, "bench.second", SECOND)
    async with FakeTelegram(limits=limits(), enforce_limits=True) as tg:
        bot = Bot(bot_env(env, tg), log)
        with Recorder(tg) as rec:
            try:
                await bot.start()
                await rec.until(SECOND // 4)
                injected_at, before = tg.now(), rec.sync()
                tg.fail_next(None, status=429, retry_after=1, count=FAULTS)
                await rec.all_chats(SECOND)
                found = await all_sent(engine, "bench.second", SECOND)
                await asyncio.sleep(1.0)
            finally:
                await bot.stop()
        total = len(rec.times)
        span = rec.times[-1] - rec.times[0]
        print(f"2) {SECOND:,} reminders, {FAULTS} consecutive 429s (retry_after 1 s) injected "
              f"after {before:,}")
        print(f"  delivered {total:,}, distinct chats {len(rec.chats):,}, chats that got it more "
              f"than once {len(rec.duplicates())} ({total - len(rec.chats)} messages too many); "
              f"violations {len(tg.violations)}; "
              f"sends answered 429: {rejected(tg)}")
        # The faults answer the first FAULTS send calls after the injection. A bot honouring
        # retry_after starts no send in the second after it got a 429; sends already on their
        # way when the answer came (arriving within 50 ms of it) are not counted.
        sends = [c.at for c in tg.calls if c.method == "sendMessage" and c.at >= injected_at]
        faulted, later = sends[:FAULTS], sends[FAULTS:]
        waits = sum(1 for at in later if any(f + 0.05 < at < f + 1.0 for f in faulted))
        pauses = [b - a for a, b in zip(rec.times, rec.times[1:], strict=False) if b - a > 0.5]
        print(f"  the {FAULTS} 429s answered over {faulted[-1] - faulted[0]:.2f} s; sends started "
              f"during a flood wait: {waits}; pauses in delivery: "
              + ", ".join(f"{pause:.2f} s" for pause in pauses))
        print(f"  {total / span:.1f}/s overall ({span:.1f} s, the pause included)")
        print(f"  outbox rows: {dict(sorted(found.items()))}")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOT_")}
        env |= {"FIELDBOT_DATA_DIR": str(Path(tmp) / "data"), "PYTHONUNBUFFERED": "1"}
        upgrade = await asyncio.create_subprocess_exec(
            FIELDBOT, "db", "upgrade", env=env, stdout=asyncio.subprocess.DEVNULL)
        if await upgrade.wait() != 0:
            raise RuntimeError("fieldbot db upgrade failed")
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'data' / 'fieldbot.sqlite3'}")
        log = Path(tmp) / "fieldbot.log"
        print(f"`fieldbot run` on SQLite, outbox concurrency 64 (the default); the fake enforces "
              f"{LIMIT}/s overall, 1/s per chat, 20/min per group, on an unscaled clock")
        try:
            await seed(engine)
            await killed_broadcast(engine, env, log)
            await flooded_broadcast(engine, env, log)
        except Exception:
            print(f"fieldbot's log ends:\n{log.read_text(errors='replace')[-5000:]}",
                  file=sys.stderr)
            raise
        finally:
            await engine.dispose()
        errors = Bot(env, log).errors()
        print(f"errors in fieldbot's log: {len(errors)}", *errors[:5], sep="\n  ")


if __name__ == "__main__":
    asyncio.run(main())
