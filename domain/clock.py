"""Time as a port: the bot asks a clock, tests move one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    zone: ZoneInfo

    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


def local_today(clock: Clock) -> date:
    return clock.now().astimezone(clock.zone).date()


class SystemClock:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime, zone: ZoneInfo | None = None) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.zone = zone or ZoneInfo("Asia/Shanghai")
        self._now = at

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = at
