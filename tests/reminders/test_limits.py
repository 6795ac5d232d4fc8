"""The send limits as the platform would count them: never more than the limit in any window."""

from __future__ import annotations

import math

from reminders.limits import ChannelLimits, Limit, Limiter

TELEGRAM = ChannelLimits(overall=Limit(30, 1.0), per_chat=Limit(1, 1.0),
                         per_group=Limit(20, 60.0))


def test_one_message_per_second_to_one_chat() -> None:
    limiter = Limiter(TELEGRAM)
    slot = limiter.try_acquire("42", group=False, now=0.0)
    assert slot is not None
    assert limiter.try_acquire("42", group=False, now=0.0) is None  # in flight holds the slot
    limiter.done(slot, at=0.3)
    assert limiter.try_acquire("42", group=False, now=1.2) is None  # 0.9 s after the answer
    assert limiter.free_at("42", group=False, now=1.2) == 1.3
    assert limiter.try_acquire("42", group=False, now=1.3) is not None


def test_thirty_a_second_overall() -> None:
    limiter = Limiter(TELEGRAM)
    slots = [limiter.try_acquire(str(chat), group=False, now=0.0) for chat in range(31)]
    assert all(s is not None for s in slots[:30])
    assert slots[30] is None
    assert limiter.free_at("30", group=False, now=0.0) == math.inf  # wait for an answer
    for slot in slots[:30]:
        assert slot is not None
        limiter.done(slot, at=0.1)
    assert limiter.free_at("30", group=False, now=0.5) == 1.1


def test_twenty_a_minute_to_a_group() -> None:
    limiter = Limiter(TELEGRAM)
    sent = 0
    now = 0.0
    while now < 60.0:
        slot = limiter.try_acquire("-100", group=True, now=now)
        if slot is not None:
            limiter.done(slot, at=now)
            sent += 1
        now += 0.5
    assert sent == 20


def test_a_cancelled_slot_is_free_again() -> None:
    limiter = Limiter(TELEGRAM)
    slot = limiter.try_acquire("7", group=False, now=0.0)
    assert slot is not None
    limiter.cancel(slot)
    assert limiter.try_acquire("7", group=False, now=0.0) is not None


def test_pause_after_flood_wait_stops_every_chat() -> None:
    limiter = Limiter(TELEGRAM)
    limiter.pause(until=5.0)
    assert limiter.try_acquire("1", group=False, now=4.9) is None
    assert limiter.free_at("1", group=False, now=4.9) == 5.0
    assert limiter.try_acquire("1", group=False, now=5.0) is not None


def test_idle_chat_windows_are_forgotten() -> None:
    limiter = Limiter(TELEGRAM)
    for chat in range(100):
        slot = limiter.try_acquire(str(chat), group=False, now=float(chat))
        assert slot is not None
        limiter.done(slot, at=float(chat))
    assert len(limiter) == 100
    assert limiter.forget_idle(now=99.5) == 99  # the last chat's second is not over
    assert limiter.forget_idle(now=101.0) == 1
    assert len(limiter) == 0


def test_a_steady_stream_never_exceeds_the_limit_in_any_window() -> None:
    """300/s configured, sends answered after a varying delay: count by answer time."""
    limiter = Limiter(ChannelLimits(overall=Limit(300, 1.0), per_chat=Limit(1, 1.0)))
    stamps: list[float] = []
    now, chat = 0.0, 0
    while now < 10.0:
        slot = limiter.try_acquire(str(chat), group=False, now=now)
        if slot is not None:
            answered = now + 0.02 + (chat % 7) * 0.01
            limiter.done(slot, at=answered)
            stamps.append(answered)
            chat += 1
        else:
            now += 0.001
    stamps.sort()
    worst = max(sum(1 for s in stamps if start <= s < start + 1.0) for start in stamps)
    assert worst <= 300
    assert len(stamps) >= 0.95 * 300 * 10 - 300  # close to the limit over the run
