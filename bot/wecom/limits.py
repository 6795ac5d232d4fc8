"""WeCom's send limits on the shared sliding windows: per member a minute AND an hour.

`reminders.limits.Limiter` keeps one window per chat; WeCom counts two for each member (30 a
minute, 1,000 an hour, the excess dropped silently), so this limiter adds the hourly one.
"""

from __future__ import annotations

from reminders.limits import ChannelLimits, Limit, Limiter, Window


class WeComLimiter(Limiter):
    def __init__(self, *, per_member_per_minute: int = 30, per_member_per_hour: int = 1000,
                 overall_per_minute: int = 6000) -> None:
        super().__init__(ChannelLimits(overall=Limit(overall_per_minute, 60.0),
                                       per_chat=Limit(per_member_per_minute, 60.0)))
        self.per_hour = Limit(per_member_per_hour, 3600.0)
        self._hourly: dict[str, Window] = {}

    def _windows(self, chat: str, group: bool) -> tuple[Window, ...]:
        hourly = self._hourly.get(chat) or self._hourly.setdefault(chat, Window(self.per_hour))
        return (*super()._windows(chat, group), hourly)

    def forget_idle(self, now: float) -> int:
        dropped = super().forget_idle(now)
        for chat in [c for c, w in self._hourly.items() if w.idle(now)]:
            del self._hourly[chat]
            dropped += 1
        return dropped
