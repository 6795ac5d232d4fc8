"""Quiet hours: when a person is not to be disturbed, and how they type their own on a phone.

"22:00-07:30", "22点到7点半", "２２：３０～６：００" all read the same way. Outside quiet hours a
reminder goes at once; inside, it waits until they end (or is dropped when it is for today only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

MAX_CHARS = 40
_HALF_WIDTH = str.maketrans("０１２３４５６７８９：～－", "0123456789:~-")
# "22:00", "22点", "7点半", "7点30", "7点30分", "22时"
_TIME = r"(\d{1,2})(?:(?::|点|时)(半|\d{1,2})?分?)?"
_RANGE = re.compile(rf"^{_TIME}\s*(?:-|~|—|到|至|to)\s*{_TIME}$")
NEVER_WORDS = frozenset({"关闭", "关", "无", "不要", "off", "none"})


class NotQuietHours(ValueError):
    """The text does not read as a range of two times of day."""


@dataclass(frozen=True, slots=True)
class Quiet:
    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end  # start == end: never quiet
        return moment >= self.start or moment < self.end  # across midnight: 22:00–07:30

    def ends_after(self, local: datetime) -> datetime:
        """The first moment after `local` at which the quiet hours are over."""
        end = datetime.combine(local.date(), self.end, tzinfo=local.tzinfo)
        return end if end > local else end + timedelta(days=1)

    @property
    def never(self) -> bool:
        return self.start == self.end

    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


NEVER = Quiet(time(0), time(0))
DEFAULT = Quiet(time(22, 0), time(7, 30))  # unless configured otherwise


def parse_quiet(text: str) -> Quiet:
    """A person's quiet hours from what they typed; "关闭"/"off" is none at all."""
    cleaned = text.strip().translate(_HALF_WIDTH).lower().replace(" ", "")
    if len(cleaned) > MAX_CHARS:
        raise NotQuietHours(text[:MAX_CHARS])
    if cleaned in NEVER_WORDS:
        return NEVER
    found = _RANGE.match(cleaned)
    if found is None:
        raise NotQuietHours(text)
    start_h, start_m, end_h, end_m = found.groups()
    return Quiet(_time(start_h, start_m, text), _time(end_h, end_m, text))


def _time(hours: str, minutes: str | None, text: str) -> time:
    minute = 30 if minutes == "半" else int(minutes or 0)
    hour = int(hours)
    if hour == 24 and minute == 0:
        hour = 0
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise NotQuietHours(text)
    return time(hour, minute)


def stored(quiet: Quiet | None) -> tuple[str | None, str | None]:
    """The two columns a person's quiet hours are kept in ("22:00", "07:30"); None: default."""
    if quiet is None:
        return None, None
    return f"{quiet.start:%H:%M}", f"{quiet.end:%H:%M}"


def from_stored(start: str | None, end: str | None) -> Quiet | None:
    if start is None or end is None:
        return None
    return Quiet(time.fromisoformat(start), time.fromisoformat(end))
