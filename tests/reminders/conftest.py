"""Fixtures the reminder tests share."""

from __future__ import annotations

import pytest

from tests.clocks import Ticker


@pytest.fixture
def ticker() -> Ticker:
    """The outbox sender's monotonic clock, moved by the test."""
    return Ticker()
