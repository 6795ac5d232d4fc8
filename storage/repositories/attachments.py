"""Photos attached to what they document: a report, a problem, a problem update or a visit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage import models as m


@dataclass(frozen=True, slots=True)
class AttachedPhoto:
    photo_id: int
    flags: tuple[str, ...] = ()  # reused, old, far: what a reviewer should look at


async def attach(session: AsyncSession, photos: Sequence[AttachedPhoto], *,
                 report_id: int | None = None, problem_id: int | None = None,
                 problem_event_id: int | None = None, visit_id: int | None = None) -> None:
    session.add_all([m.PhotoAttachment(
        photo_id=photo.photo_id, position=i, flags=",".join(photo.flags), report_id=report_id,
        problem_id=problem_id, problem_event_id=problem_event_id, visit_id=visit_id)
        for i, photo in enumerate(photos)])
    await session.flush()
