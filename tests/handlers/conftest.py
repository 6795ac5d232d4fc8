"""What the handler tests share: a router with the field forms, people bound to test chats."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.clock import FixedClock
from handlers.router import Router
from storage.uow import UnitOfWorkFactory
from tests.handlers.phone import Phone, make_router, site_photo
from tests.world import World


@pytest.fixture
def router(uow: UnitOfWorkFactory, clock: FixedClock, tmp_path: Path) -> Router:
    return make_router(uow, clock, tmp_path / "photos")


@pytest.fixture
async def people(uow: UnitOfWorkFactory, world: World, clock: FixedClock) -> World:
    async with uow() as u:
        for person_id, external in ((world.liaison, "1001"), (world.leader, "1002"),
                                    (world.dispatcher, "1003"), (world.unit_admin, "1004")):
            await u.people.bind_identity(person_id, "test", external, clock.now())
        await u.commit()
    return world


@pytest.fixture
def wang(router: Router, people: World) -> Phone:
    """王磊, liaison of HB-001 and HB-002."""
    return Phone(router, "1001")


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    return [site_photo(tmp_path / "phone", f"IMG_{i:04d}.jpg", seed=i) for i in range(12)]
