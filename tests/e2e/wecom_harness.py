"""The real `fieldbot run --channel wecom` process against the fake WeCom, and people to drive it.

The process talks to `FakeWeCom` (its `api_base`) for tokens, replies, card updates and media,
and serves its callback server on a free loopback port; `WeComCallbacks` plays WeCom calling
it. Everything the process logs goes to one file, read back by the tests.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import create_engine, session_factory
from storage.models import Base
from storage.uow import UnitOfWorkFactory
from tests.e2e.process import FieldbotRun
from tests.fakes.wecom_api import AES_KEY, TOKEN, FakeWeCom, Sent, WeComCallbacks

CALLBACK_PATH = "/wecom/callback"
REFUSED = re.compile(r"wecom callback: refused a (GET|POST) from \S+ \((\w+)\)")
TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wecom_env(env: dict[str, str], fake: FakeWeCom, port: int, **extra: str) -> dict[str, str]:
    """The operator's environment with the WeCom app pointed at the fake."""
    return env | {"FIELDBOT_WECOM__CORP_ID": fake.corp_id,
                  "FIELDBOT_WECOM__AGENT_ID": str(fake.agent_id),
                  "FIELDBOT_WECOM__SECRET": fake.secret,
                  "FIELDBOT_WECOM__TOKEN": TOKEN,
                  "FIELDBOT_WECOM__ENCODING_AES_KEY": AES_KEY,
                  "FIELDBOT_WECOM__API_BASE": fake.base_url,
                  "FIELDBOT_WECOM__LISTEN_HOST": "127.0.0.1",
                  "FIELDBOT_WECOM__LISTEN_PORT": str(port),
                  "FIELDBOT_WECOM__REQUEST_TIMEOUT_SECONDS": "5",
                  "FIELDBOT_OUTBOX__IDLE_POLL_SECONDS": "0.2",
                  # the wall clock would decide which rhythm is due: off unless a test sets it
                  "FIELDBOT_RHYTHMS__ENABLED": "false"} | extra


async def wait_for(condition: Callable[[], bool], *, within: float = TIMEOUT,
                   what: str = "the condition") -> None:
    """Poll `condition` until it holds; fail after `within` seconds (never a fixed sleep)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.02)


async def eventually(condition: Callable[[], Awaitable[bool]], *, within: float = TIMEOUT,
                     what: str = "the condition") -> None:
    """`wait_for` with a condition that must be awaited (a database query)."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.1)


class WeComProcess(FieldbotRun):
    """`fieldbot -v run --channel wecom`, its stdout and stderr appended to `log`."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(env, log, ("--channel", "wecom"))
        self.port = int(env["FIELDBOT_WECOM__LISTEN_PORT"])
        self.url = f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    async def start(self) -> None:
        """Start the process and wait until its callback server answers /healthz."""
        process = await self.spawn()
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while True:
                if process.returncode is not None:
                    raise AssertionError(f"fieldbot run exited with {process.returncode}:"
                                         f"\n{self.log()}")
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"the callback server never listened:\n{self.log()}")
                await asyncio.sleep(0.05)

    async def lines_after(self, seen: int, pattern: str = "", *, count: int = 1) -> list[str]:
        """Wait until `count` lines matching `pattern` follow the first `seen` of them; all
        the matching lines after those `seen`."""
        await wait_for(lambda: len(self.lines(pattern)) >= seen + count,
                       what=f"{count} more log line(s) matching {pattern!r}")
        return self.lines(pattern)[seen:]

    def refusals(self) -> list[tuple[str, str]]:
        """(method, reason) of each refusal the callback server logged, in order."""
        return [(m.group(1), m.group(2)) for line in self.log().splitlines()
                if (m := REFUSED.search(line))]


@asynccontextmanager
async def running(env: dict[str, str], log: Path) -> AsyncIterator[WeComProcess]:
    bot = WeComProcess(env, log)
    await bot.start()
    try:
        yield bot
    finally:
        if bot.process is not None:
            await bot.stop(signal.SIGKILL)


def database_url(env: dict[str, str]) -> str:
    return env.get("FIELDBOT_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{env['FIELDBOT_DATA_DIR']}/fieldbot.sqlite3")


@asynccontextmanager
async def database(env: dict[str, str]) -> AsyncIterator[UnitOfWorkFactory]:
    """The bot's database, as the operator configured it."""
    engine = create_engine(database_url(env))
    try:
        yield UnitOfWorkFactory(session_factory(engine))
    finally:
        await engine.dispose()


@asynccontextmanager
async def query(env: dict[str, str]) -> AsyncIterator[AsyncSession]:
    """A plain session on the bot's database, for a test's own queries."""
    engine = create_engine(database_url(env))
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def row_counts(env: dict[str, str]) -> dict[str, int]:
    """Rows in every table of the schema: "nothing stored" is all of these unchanged."""
    engine = create_engine(database_url(env))
    try:
        async with engine.connect() as conn:
            return {table.name: int(await conn.scalar(select(func.count()).select_from(table))
                                    or 0)
                    for table in Base.metadata.sorted_tables}
    finally:
        await engine.dispose()


async def bind(env: dict[str, str], person_key: str, userid: str) -> None:
    """Bind a WeCom account to a person directly (what redeeming an invite does)."""
    async with database(env) as uow, uow() as u:
        person = next(p for p in await u.people.all() if p.key == person_key)
        await u.people.bind_identity(person.id, "wecom", userid, _now())
        await u.commit()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WeComUser:
    """A member of the corp writing to the app, and what the app sent them."""

    fake: FakeWeCom
    wecom: WeComCallbacks
    userid: str

    @property
    def chat(self) -> list[Sent]:
        return self.fake.messages_to(self.userid)

    def since(self, seen: int) -> str:
        return "\n".join(m.text for m in self.chat[seen:])

    async def _reply(self, seen: int, expect: str) -> str:
        """Wait for the reply that ends with a message holding `expect` (the next question)."""
        await wait_for(lambda: any(expect in m.text for m in self.chat[seen:]),
                       what=f"{expect!r} to {self.userid}; got {self.since(seen)!r}")
        return self.since(seen)

    async def say(self, text: str, expect: str) -> str:
        seen = len(self.chat)
        answer = await self.wecom.text(self.userid, text)
        assert answer.status == 200, answer
        return await self._reply(seen, expect)

    async def press(self, label: str, expect: str) -> str:
        """Press a button of the latest card offering `label`; the card is marked, the next
        question arrives."""
        seen, updates = len(self.chat), len(self.fake.card_updates)
        answer = await self.wecom.press(self.userid, label)
        assert answer.status == 200, answer
        await wait_for(lambda: len(self.fake.card_updates) > updates,
                       what=f"the card with {label!r} to be updated")
        return await self._reply(seen, expect)

    async def photo(self, data: bytes, expect: str) -> str:
        seen = len(self.chat)
        answer = await self.wecom.image(self.userid, data)
        assert answer.status == 200, answer
        return await self._reply(seen, expect)

    def card(self) -> Sent:
        cards = [m for m in self.chat if m.msgtype == "template_card"]
        assert cards, [m.text for m in self.chat]
        return cards[-1]
