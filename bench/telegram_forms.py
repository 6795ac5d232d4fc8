"""B3: complete daily-report conversations through the real Telegram transport, on SQLite.

Run: `.venv/bin/python bench/telegram_forms.py` (`--latency-ms 0` for one latency only)

fieldbot: the real `fieldbot run` process (long polling, aiogram 3) against the fake Telegram
Bot API of `tests/fakes/telegram_api.py`, on the seeded demo county in SQLite. Each of the
demo's 20 liaisons has a Telegram account of their own (bound straight in the database) and
files complete daily reports on a project of their own (no two on the same project), all at
once, one step at a time: /report, project, 施工中, progress, work, workers, investment, one
1024×768 JPEG, 完成, 跳过 (location), 否 (problems), 确认提交 (and 确认是 when a value is lower
than last time) — the next step only once the bot has confirmed the last update to Telegram
(it does so only after handling it and sending every reply). A step's latency runs from the
user's update being queued to that confirmation. The bot's send limits are raised (so this
measures processing, not the 1 message/s per chat pacing) and the fake does not enforce
Telegram's.
Baseline, measured in the same run on the same fake server: a bare aiogram echo bot
(`bench/echo_bot.py`, one handler answering `message.answer(message.text)`), the same 20 users
sending as many texts as the fieldbot users sent updates, each waiting for its echo.
Second baseline, same run, same server: a form-shaped bare aiogram bot (`bench/form_bot.py`)
making for each update the Bot API calls a fieldbot form step makes for its kind (text:
sendMessage with a keyboard; photo: getFile, download, sendMessage; press: answerCallbackQuery,
editMessageText, sendMessage) and committing one SQLite row per update (aiosqlite, WAL,
synchronous=NORMAL), confirming an update only once handled, as fieldbot does. Its users replay
exactly the updates the fieldbot users sent (same kinds, texts and order, warm-up included),
each step likewise timed from queued to confirmed (the timed updates REPLAYS times over).
All three again with 50 ms of latency added by the fake to every API call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from storage import models as m
from storage.db import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests`, run as bench/NAME.py
from tests.e2e.telegram_harness import jpeg
from tests.fakes.telegram_api import FakeTelegram, SentMessage

USERS = 20  # the demo county's liaisons (all of them)
REPORTS = 3  # timed reports per user, after one untimed warm-up report each
REPLAYS = 3  # the form-shaped baseline replays the timed updates this often (a longer window)
LATENCIES = (0.0, 0.05)
FIRST_USER = 500_001
FIELDBOT = str(Path(sys.executable).with_name("fieldbot"))
ECHO_BOT = str(Path(__file__).with_name("echo_bot.py"))
FORM_BOT = str(Path(__file__).with_name("form_bot.py"))
ECHO = "aiogram echo bot"
STEP_TIMEOUT = 60.0
RAISED_LIMITS = {
    "FIELDBOT_TELEGRAM__LIMITS__OVERALL_PER_SECOND": "100000",
    "FIELDBOT_TELEGRAM__LIMITS__PER_CHAT_PER_SECOND": "10000",
    "FIELDBOT_TELEGRAM__LIMITS__PER_GROUP_PER_MINUTE": "100000",
}


class Watch:
    """What the fake recorded, read incrementally: the highest getUpdates offset (everything
    below it is confirmed) and the messages of each chat (SentMessage objects, edited in place).
    """

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.offset = 0
        self.last_update = 0  # the newest update id the users queued
        self.chats: dict[int, list[SentMessage]] = {}
        self._calls = 0
        self._delivered = 0

    def sync(self) -> None:
        calls = self.tg.calls
        while self._calls < len(calls):
            call = calls[self._calls]
            self._calls += 1
            if call.method == "getUpdates":
                self.offset = max(self.offset, int(call.params.get("offset") or 0))
        delivered = self.tg.delivered
        while self._delivered < len(delivered):
            message = delivered[self._delivered]
            self._delivered += 1
            self.chats.setdefault(message.chat_id, []).append(message)

    def confirmed(self, update_id: int) -> bool:
        self.sync()
        return self.offset > update_id

    def chat(self, chat_id: int) -> list[SentMessage]:
        self.sync()
        return self.chats.setdefault(chat_id, [])


@dataclass
class User:
    watch: Watch
    user_id: int
    name: str
    project: str = ""  # the code of the project to report on
    latencies: list[float] = field(default_factory=list)
    script: list[tuple[str, str]] = field(default_factory=list)  # the updates sent: kind, text

    @property
    def tg(self) -> FakeTelegram:
        return self.watch.tg

    @property
    def chat(self) -> list[SentMessage]:
        return self.watch.chat(self.user_id)

    async def _settle(self, update_id: int, seen: int, started: float) -> str:
        self.watch.last_update = max(self.watch.last_update, update_id)
        await self.tg.wait_for(lambda: self.watch.confirmed(update_id), timeout=STEP_TIMEOUT)
        self.latencies.append(time.perf_counter() - started)
        return "\n".join(message.text for message in self.chat[seen:])

    async def say(self, text: str) -> str:
        self.script.append(("say", text))
        seen, started = len(self.chat), time.perf_counter()
        return await self._settle(self.tg.send_text(self.user_id, text, first_name=self.name),
                                  seen, started)

    async def photo(self, image: bytes) -> str:
        self.script.append(("photo", ""))
        seen, started = len(self.chat), time.perf_counter()
        [update_id] = self.tg.send_photos(self.user_id, [image])
        return await self._settle(update_id, seen, started)

    async def press(self, label: str) -> str:
        """Press the newest button whose text contains `label`."""
        self.script.append(("press", label))
        message, data = self._button(label)
        seen, started = len(self.chat), time.perf_counter()
        return await self._settle(self.tg.press(self.user_id, message, data), seen, started)

    def _button(self, label: str, *, any_button: bool = False) -> tuple[SentMessage, str]:
        for message in reversed(self.chat):
            rows = (message.reply_markup or {}).get("inline_keyboard", [])
            found = [b for row in rows for b in row if label in b["text"]]
            if found:
                return message, str(found[0]["callback_data"])
        for message in reversed(self.chat if any_button else []):
            rows = (message.reply_markup or {}).get("inline_keyboard", [])
            if rows and rows[0]:
                return message, str(rows[0][0]["callback_data"])
        raise RuntimeError(f"user {self.user_id}: no button {label!r} in the chat; its last "
                           f"messages: {[m.text for m in self.chat[-3:]]!r}")

    async def confirming(self, reply: str) -> str:
        """A value lower than last time is asked about (a button 确认是 …): confirm it."""
        rows = (self.chat[-1].reply_markup or {}).get("inline_keyboard", [])
        asked = any("确认是" in button["text"] for row in rows for button in row)
        return await self.press("确认是") if asked else reply

    async def report(self, image: bytes) -> None:
        """One complete daily report, as `tests/e2e/test_telegram.py` files it."""
        if "请选择项目" in await self.say("/report"):
            await self.press(f"（{self.project}）")
        await self.press("施工中")
        await self.confirming(await self.say("100"))
        await self.say("钢结构吊装6榀，屋面板铺设")
        await self.say("130")
        await self.confirming(await self.say("90000万元"))
        await self.photo(image)
        await self.press("完成")
        await self.press("跳过")
        await self.press("否")
        done = await self.press("确认提交")
        if "日报已提交" not in done and "日报已更新" not in done:
            raise RuntimeError(f"user {self.user_id}: the report was not saved: {done!r}")

    async def replay(self, script: Sequence[tuple[str, str]], image: bytes) -> None:
        """The same updates another user sent to fieldbot, to the form-shaped baseline (whose
        keyboards have no project buttons: those presses take the newest keyboard's first)."""
        for kind, text in script:
            if kind == "say":
                await self.say(text)
            elif kind == "photo":
                await self.photo(image)
            else:
                message, data = self._button(text, any_button=True)
                seen, started = len(self.chat), time.perf_counter()
                await self._settle(self.tg.press(self.user_id, message, data), seen, started)

    async def echoes(self, count: int) -> None:
        """`count` texts, each waiting for the bot's echo."""
        for i in range(count):
            seen, started = len(self.chat), time.perf_counter()
            update_id = self.tg.send_text(self.user_id, f"消息 {i}", first_name=self.name)
            self.watch.last_update = max(self.watch.last_update, update_id)
            await self.tg.wait_for(lambda seen=seen: len(self.chat) > seen,  # type: ignore[misc]
                                   timeout=STEP_TIMEOUT)
            self.latencies.append(time.perf_counter() - started)


@dataclass
class Result:
    bot: str
    latency: float
    steps: int
    seconds: float
    latencies: list[float]
    cpu: float  # seconds of CPU the bot process used in the timed part

    @property
    def rate(self) -> float:
        return self.steps / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def start(tg: FakeTelegram, args: Sequence[str], env: dict[str, str],
                log: Path) -> asyncio.subprocess.Process:
    """Spawn a bot and wait until it polls."""
    before = len(tg.calls_of("getUpdates"))
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(*args, env=env, stdout=out, stderr=out)
    try:
        await tg.wait_for(lambda: len(tg.calls_of("getUpdates")) > before, timeout=60)
    except TimeoutError:
        process.kill()
        raise RuntimeError(f"{args[0]} did not start:\n{tail(log)}") from None
    return process


def tail(log: Path, chars: int = 5000) -> str:
    return log.read_text(errors="replace")[-chars:]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout=30)
    except TimeoutError:
        process.kill()
        await process.wait()


@dataclass(frozen=True)
class Liaison:
    user_id: int  # their Telegram account
    name: str
    project: str  # the code of the project they report on, nobody else's in the run


def distinct_projects(liaisons: dict[int, list[str]]) -> dict[int, str]:
    """A project for each liaison, no two the same (a bipartite matching: the demo has
    projects with two liaisons, and two people filing the same project's report at once is
    another benchmark)."""
    owner: dict[str, int] = {}

    def place(person: int, seen: set[str]) -> bool:
        for code in liaisons[person]:
            if code not in seen:
                seen.add(code)
                if code not in owner or place(owner[code], seen):
                    owner[code] = person
                    return True
        return False

    for person in sorted(liaisons, key=lambda p: len(liaisons[p])):
        if not place(person, set()):
            raise RuntimeError(f"person {person} has no project of their own")
    return {person: code for code, person in owner.items()}


async def bind_liaisons(data_dir: Path, count: int) -> list[Liaison]:
    """The demo's liaisons, each bound to a Telegram user id and given a project."""
    engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'fieldbot.sqlite3'}")
    try:
        async with engine.begin() as conn:
            rows = (await conn.execute(
                select(m.Person.id, m.Person.name, m.Project.code)
                .join(m.ProjectLiaison, m.ProjectLiaison.person_id == m.Person.id)
                .join(m.Project, m.Project.id == m.ProjectLiaison.project_id)
                .order_by(m.Person.id, m.Project.code))).all()
            names = {pid: name for pid, name, _ in rows}
            chosen = sorted(names)[:count]
            projects = distinct_projects({pid: [code for p, _, code in rows if p == pid]
                                          for pid in chosen})
            now = datetime.now(UTC)
            await conn.execute(insert(m.ChatIdentity), [
                {"channel": "telegram", "external_id": str(FIRST_USER + i), "person_id": pid,
                 "display_name": names[pid], "created_at": now}
                for i, pid in enumerate(chosen)])
    finally:
        await engine.dispose()
    return [Liaison(FIRST_USER + i, names[pid], projects[pid]) for i, pid in enumerate(chosen)]


Script = list[tuple[str, str]]


async def measure_fieldbot(tg: FakeTelegram, env: dict[str, str], users: list[Liaison],
                           images: list[list[bytes]],
                           log: Path) -> tuple[Result, list[tuple[Script, Script]]]:
    """fieldbot's figures, and each user's updates (warm-up, timed) for the form baseline."""
    bot_env = env | RAISED_LIMITS | {"FIELDBOT_TELEGRAM__TOKEN": tg.token,
                                     "FIELDBOT_TELEGRAM__API_BASE": tg.base_url}
    process = await start(tg, [FIELDBOT, "run"], bot_env, log)
    watch = Watch(tg)
    try:
        people = [User(watch, u.user_id, u.name, u.project) for u in users]
        await asyncio.gather(*(u.report(images[i][0]) for i, u in enumerate(people)))
        warmups = [u.script for u in people]
        for user in people:
            user.latencies.clear()
            user.script = []
        began, cpu = time.perf_counter(), cpu_seconds(process.pid)

        async def reports(i: int, user: User) -> None:
            for image in images[i][1:]:
                await user.report(image)

        await asyncio.gather(*(reports(i, u) for i, u in enumerate(people)))
        seconds, cpu = time.perf_counter() - began, cpu_seconds(process.pid) - cpu
    finally:
        await stop(process)
    latencies = [t for u in people for t in u.latencies]
    scripts = [(warmup, u.script) for warmup, u in zip(warmups, people, strict=True)]
    return Result("fieldbot", tg.latency, len(latencies), seconds, latencies, cpu), scripts


async def measure_form(tg: FakeTelegram, users: list[Liaison],
                       scripts: list[tuple[Script, Script]], images: list[list[bytes]],
                       tmp: Path) -> Result:
    """The form-shaped baseline, its users replaying the fieldbot users' updates."""
    database = tmp / f"form-{tg.latency * 1000:.0f}ms.sqlite3"  # a new one for each latency
    process = await start(tg, [sys.executable, FORM_BOT, tg.base_url, tg.token, str(database)],
                          dict(os.environ), tmp / "form.log")
    watch = Watch(tg)
    try:
        people = [User(watch, u.user_id, u.name) for u in users]
        await asyncio.gather(*(u.replay(scripts[i][0], images[i][0])
                               for i, u in enumerate(people)))
        for user in people:
            user.latencies.clear()
        began, cpu = time.perf_counter(), cpu_seconds(process.pid)
        await asyncio.gather(*(u.replay(scripts[i][1] * REPLAYS, images[i][1])
                               for i, u in enumerate(people)))
        seconds, cpu = time.perf_counter() - began, cpu_seconds(process.pid) - cpu
    finally:
        await stop(process)
    latencies = [t for u in people for t in u.latencies]
    return Result("form-shaped bot", tg.latency, len(latencies), seconds, latencies, cpu)


async def measure_echo(tg: FakeTelegram, users: list[Liaison], per_user: int,
                       log: Path) -> Result:
    process = await start(tg, [sys.executable, ECHO_BOT, tg.base_url, tg.token],
                          dict(os.environ), log)
    watch = Watch(tg)
    try:
        people = [User(watch, u.user_id, u.name) for u in users]
        await asyncio.gather(*(u.echoes(5) for u in people))
        for user in people:
            user.latencies.clear()
        began, cpu = time.perf_counter(), cpu_seconds(process.pid)
        await asyncio.gather(*(u.echoes(per_user) for u in people))
        seconds, cpu = time.perf_counter() - began, cpu_seconds(process.pid) - cpu
        # aiogram confirms an update with the next getUpdates: leave none for the next bot
        await tg.wait_for(lambda: watch.confirmed(watch.last_update), timeout=STEP_TIMEOUT)
    finally:
        await stop(process)
    latencies = [t for u in people for t in u.latencies]
    return Result(ECHO, tg.latency, len(latencies), seconds, latencies, cpu)


def print_table(results: list[Result]) -> None:
    print(f"{'latency':<9}{'bot':<18}{'steps':>7}{'seconds':>9}{'steps/s':>9}"
          f"{'median':>11}{'p95':>11}{'bot CPU':>9}")
    for r in results:
        print(f"{r.latency * 1000:>4.0f} ms  {r.bot:<18}{r.steps:>7}{r.seconds:>9.1f}"
              f"{r.rate:>9.1f}{statistics.median(r.latencies) * 1000:>8.1f} ms"
              f"{r.quantile(0.95) * 1000:>8.1f} ms{r.cpu / r.seconds:>8.0%}")
        if r.bot == ECHO:
            ours = next(o for o in results if o.bot == "fieldbot" and o.latency == r.latency)
            print(f"{'':<9}{'fieldbot / echo':<34}{ours.rate / r.rate:>9.2f}x")
        elif r.bot != "fieldbot":
            at = [o for o in results if o.latency == r.latency]
            ours = next(o for o in at if o.bot == "fieldbot")
            echo = next(o for o in at if o.bot == ECHO)
            print(f"{'':<9}{'fieldbot / form-shaped':<34}{ours.rate / r.rate:>9.2f}x")
            print(f"{'':<9}{'form-shaped / echo':<34}{r.rate / echo.rate:>9.2f}x")


async def main(latencies: Sequence[float]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOT_")}
        env |= {"FIELDBOT_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"}
        seeded = await asyncio.create_subprocess_exec(
            FIELDBOT, "demo", "--no-chat", env=env, stdout=asyncio.subprocess.DEVNULL)
        if await seeded.wait() != 0:
            raise RuntimeError("fieldbot demo --no-chat failed")
        users = await bind_liaisons(data, USERS)
        seed = iter(range(1024))  # jpeg(seed) differs for every seed below 1024
        results: list[Result] = []
        # One server for every bot and latency: Telegram's update ids only grow, and fieldbot
        # skips an update id it has a receipt for (a redelivery), so a fresh fake counting
        # from 1 again would look like redeliveries to the second fieldbot run.
        log = Path(tmp) / "fieldbot.log"
        try:
            async with FakeTelegram(enforce_limits=False) as tg:
                for latency in latencies:
                    tg.latency = latency
                    images = [[jpeg(next(seed)) for _ in range(REPORTS + 1)] for _ in users]
                    ours, scripts = await measure_fieldbot(tg, env, users, images, log)
                    per_user = ours.steps // len(users)
                    results += [ours, await measure_echo(tg, users, per_user,
                                                         Path(tmp) / "echo.log")]
                    results.append(await measure_form(tg, users, scripts, images, Path(tmp)))
        except Exception:
            print(f"fieldbot's log ends:\n{tail(log)}", file=sys.stderr)
            raise
        errors = [line for line in tail(log, 10**9).splitlines() if " ERROR " in line]
    steps = results[0].steps / (len(users) * REPORTS)
    print(f"{len(users)} Telegram users at once, {REPORTS} daily reports each "
          f"({steps:.1f} update steps a report on average, one of them a photo), after one "
          "warm-up report each; the echo bot gets as many texts per user; the form-shaped "
          "baseline (`bench/form_bot.py`: the same Bot API calls per update kind and one SQLite "
          "commit per update) gets the very updates the fieldbot users sent, the timed ones "
          f"{REPLAYS} times over")
    print("fieldbot: `fieldbot run` on SQLite; its send limits raised so this measures "
          "processing, not the 1 message/s per-chat pacing; the fake enforces no limits")
    print("steps/s: all users together; median, p95: one step, update queued to confirmed "
          "(echo: to the echo); bot CPU: the bot process's CPU time / wall time")
    print_table(results)
    print(f"errors in fieldbot's log: {len(errors)}", *errors[:5], sep="\n  ")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, action="append",
                        help="API latency to measure at (repeatable; default 0 and 50)")
    given = parser.parse_args().latency_ms
    asyncio.run(main([ms / 1000 for ms in given] if given else LATENCIES))
