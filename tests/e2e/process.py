"""`fieldbot -v run …` as a child process of an end-to-end test, its output kept in one file."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

from tests.e2e.test_console_cli import FIELDBOT


class FieldbotRun:
    """The process, started with `spawn` (each harness then waits its own way for it to
    listen), stopped with a signal; its stdout and stderr appended to `log`."""

    def __init__(self, env: dict[str, str], log: Path, args: tuple[str, ...] = ()) -> None:
        self._env = env
        self._log = log
        self._args = args
        self.process: asyncio.subprocess.Process | None = None

    async def spawn(self) -> asyncio.subprocess.Process:
        with self._log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                FIELDBOT, "-v", "run", *self._args, env=self._env, stdout=log, stderr=log)
        return self.process

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), timeout=30)
        self.process = None
        return code

    def log(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def lines(self, pattern: str | re.Pattern[str] = "") -> list[str]:
        """The log's lines matching `pattern` (every line by default)."""
        found = re.compile(pattern) if isinstance(pattern, str) else pattern
        return [line for line in self.log().splitlines() if found.search(line)]
