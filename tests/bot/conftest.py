from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.wecom_api import FakeWeCom


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeCom]:
    """The fake WeCom server (`tests.fakes.wecom_api`) on loopback, on the real clock."""
    async with FakeWeCom() as server:
        yield server
