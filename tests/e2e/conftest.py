"""What the end-to-end tests share: an operator's environment on each database."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from tests.conftest import backends, create_postgres_database, drop_postgres_database


@pytest.fixture(params=backends())
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of an operator with a data folder of their own, on each database."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOT_")}
    base |= {"FIELDBOT_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    if request.param == "sqlite":
        yield base
        return
    url: URL = asyncio.run(create_postgres_database())
    try:
        yield base | {"FIELDBOT_DATABASE_URL": url.render_as_string(hide_password=False)}
    finally:
        asyncio.run(drop_postgres_database(url))
