"""A clock the tests move by hand, for code that reads `time.monotonic` or `time.time`."""

from __future__ import annotations

import asyncio


class Ticker:
    """Seconds that move only when the test moves them; a wait on it (`sleep`) moves it at once
    and is kept in `slept`, so nothing really waits."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
