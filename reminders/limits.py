"""Platform send limits as sliding windows, without I/O: the caller gives the time.

A send takes a slot in every window it falls under (the channel overall, its chat, and for a
group the group window) when it starts, and the slot is stamped with the time the platform
answered. Stamping at the answer, not at the start, means the platform — which counts a message
somewhere between the two — can never see more than the limit in any window, whatever the
network delay; a send still in flight holds its slot until then.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

IN_FLIGHT = math.inf


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    overall: Limit
    per_chat: Limit
    per_group: Limit | None = None  # groups have this on top of per_chat


@dataclass(slots=True)
class Window:
    limit: Limit
    stamps: list[float] = field(default_factory=list)  # answer times, sorted
    in_flight: int = 0

    def _trim(self, now: float) -> None:
        cut = bisect.bisect_right(self.stamps, now - self.limit.seconds)
        if cut:
            del self.stamps[:cut]

    def free_at(self, now: float) -> float:
        """The earliest time a new send fits (`now` if it fits now, inf while in flight)."""
        self._trim(now)
        over = len(self.stamps) + self.in_flight - self.limit.count
        if over < 0:
            return now
        if over >= len(self.stamps):
            return IN_FLIGHT
        return self.stamps[over] + self.limit.seconds

    def idle(self, now: float) -> bool:
        self._trim(now)
        return not self.stamps and not self.in_flight


@dataclass(frozen=True, slots=True)
class Slot:
    windows: tuple[Window, ...]


class Limiter:
    """The windows of one channel (one bot token)."""

    def __init__(self, limits: ChannelLimits) -> None:
        self.limits = limits
        self._overall = Window(limits.overall)
        self._chats: dict[str, Window] = {}
        self._groups: dict[str, Window] = {}
        self.paused_until = 0.0

    def _windows(self, chat: str, group: bool) -> tuple[Window, ...]:
        chat_window = self._chats.get(chat) or self._chats.setdefault(
            chat, Window(self.limits.per_chat))
        if group and self.limits.per_group is not None:
            group_window = self._groups.get(chat) or self._groups.setdefault(
                chat, Window(self.limits.per_group))
            return self._overall, chat_window, group_window
        return self._overall, chat_window

    def free_at(self, chat: str, *, group: bool, now: float) -> float:
        """When a send to `chat` would fit: `now`, a later time, or inf (wait for an answer)."""
        return max(self.paused_until, *(w.free_at(now) for w in self._windows(chat, group)))

    def try_acquire(self, chat: str, *, group: bool, now: float) -> Slot | None:
        windows = self._windows(chat, group)
        if self.paused_until > now or any(w.free_at(now) > now for w in windows):
            return None
        for window in windows:
            window.in_flight += 1
        return Slot(windows)

    def done(self, slot: Slot, at: float) -> None:
        """The platform answered (whatever it said): the slot counts from `at`."""
        for window in slot.windows:
            window.in_flight -= 1
            bisect.insort(window.stamps, at)

    def cancel(self, slot: Slot) -> None:
        """The send never left: its slot is free again."""
        for window in slot.windows:
            window.in_flight -= 1

    def pause(self, until: float) -> None:
        """The platform asked to wait (429 retry_after): nothing is sent before `until`."""
        self.paused_until = max(self.paused_until, until)

    def forget_idle(self, now: float) -> int:
        """Drop the windows of chats with nothing in them (bounded memory over many chats)."""
        dropped = 0
        for windows in (self._chats, self._groups):
            for chat in [c for c, w in windows.items() if w.idle(now)]:
                del windows[chat]
                dropped += 1
        return dropped

    def __len__(self) -> int:
        return len(self._chats)
