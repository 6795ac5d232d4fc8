"""What the end-to-end tests share: an operator's environment on each database."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from tests.conftest import (
    POSTGRES_ENV,
    backends,
    create_postgres_database,
    drop_postgres_database,
)
from tests.e2e.test_console_cli import run


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


class DemoTemplates:
    """The demo county seeded once per backend (by `fieldbot demo --no-chat`), then copied for
    each test: a data folder, and on PostgreSQL a database used as a CREATE DATABASE template."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._made: dict[str, tuple[Path, URL | None]] = {}

    def get(self, backend: str) -> tuple[Path, URL | None]:
        if backend not in self._made:
            data = self._root / backend / "data"
            env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOT_")}
            env |= {"FIELDBOT_DATA_DIR": str(data)}
            url = asyncio.run(create_postgres_database()) if backend == "postgresql" else None
            self._made[backend] = (data, url)  # dropped at the end even if seeding fails
            if url is not None:
                env["FIELDBOT_DATABASE_URL"] = url.render_as_string(hide_password=False)
            seeded: subprocess.CompletedProcess[str] = run(["demo", "--no-chat"], env)
            assert seeded.returncode == 0, seeded.stderr
        return self._made[backend]

    def close(self) -> None:
        for _, url in self._made.values():
            if url is not None:
                asyncio.run(drop_postgres_database(url))


async def _copy_postgres(template: URL) -> URL:
    admin = make_url(os.environ[POSTGRES_ENV])
    copy = admin.set(database=f"fieldbot_test_{uuid.uuid4().hex[:12]}")
    conn = await asyncpg.connect(admin.set(drivername="postgresql")
                                 .render_as_string(hide_password=False))
    try:
        await conn.execute(f'CREATE DATABASE "{copy.database}" TEMPLATE "{template.database}"')
    finally:
        await conn.close()
    return copy


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplates]:
    templates = DemoTemplates(tmp_path_factory.mktemp("demo"))
    try:
        yield templates
    finally:
        templates.close()


@pytest.fixture(params=backends())
def demo_env(request: pytest.FixtureRequest, tmp_path: Path,
             demo_templates: DemoTemplates) -> Iterator[dict[str, str]]:
    """Like `env`, with the demo county already in the database (seeded once per session and
    backend, copied here: a fresh county for each test without seeding it each time)."""
    data, template = demo_templates.get(str(request.param))
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOT_")}
    base |= {"FIELDBOT_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    if data.exists():  # on PostgreSQL the demo may write nothing there
        shutil.copytree(data, tmp_path / "data")
    if template is None:
        yield base
        return
    url = asyncio.run(_copy_postgres(template))
    try:
        yield base | {"FIELDBOT_DATABASE_URL": url.render_as_string(hide_password=False)}
    finally:
        asyncio.run(drop_postgres_database(url))
