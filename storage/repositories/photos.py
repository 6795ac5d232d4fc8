"""Photos kept once by SHA-256, and how often each is already attached to something.

A photo's row is shared by every report, problem or visit it is attached to; the second
attachment is what the forms flag as a reused photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialect
from storage import models as m

if TYPE_CHECKING:  # the unit of work imports this module: no Pillow at start-up for a type
    from storage.photos import ProcessedPhoto


@dataclass(frozen=True, slots=True)
class PhotoRecord:
    id: int
    sha256: str
    normalised_path: str
    thumbnail_path: str
    taken_at: datetime | None  # aware, in UTC as the database returns it
    lat: float | None
    lon: float | None


def to_record(row: m.Photo) -> PhotoRecord:
    return PhotoRecord(row.id, row.sha256, row.normalised_path, row.thumbnail_path, row.taken_at,
                       row.lat, row.lon)


class PhotosRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, photo: ProcessedPhoto, uploaded_by: int | None,
                  now: datetime) -> tuple[PhotoRecord, bool]:
        """The photo's row, inserted unless one with its SHA-256 exists; True if inserted.

        ON CONFLICT DO NOTHING makes a concurrent insert of the same photo wait for the first
        one's transaction and then find its row, on PostgreSQL and on SQLite alike.
        """
        stmt = dialect.insert(self._session, m.Photo).values(
            sha256=photo.sha256, original_path=photo.original_path,
            normalised_path=photo.normalised_path, thumbnail_path=photo.thumbnail_path,
            mime_type=photo.mime_type, width=photo.width, height=photo.height,
            size_bytes=photo.size_bytes, taken_at=photo.taken_at, lat=photo.lat, lon=photo.lon,
            uploaded_by_id=uploaded_by, created_at=now,
        ).on_conflict_do_nothing(index_elements=[m.Photo.sha256]).returning(m.Photo.id)
        inserted = (await self._session.execute(stmt)).scalar_one_or_none()
        row = await self._session.scalar(select(m.Photo).where(m.Photo.sha256 == photo.sha256))
        if row is None:
            raise RuntimeError(f"photo {photo.sha256} neither inserted nor found")
        return to_record(row), inserted is not None

    async def attachment_count(self, photo_id: int) -> int:
        """How many reports, problems, updates and visits this photo is attached to already."""
        count = await self._session.scalar(
            select(func.count()).select_from(m.PhotoAttachment)
            .where(m.PhotoAttachment.photo_id == photo_id))
        return int(count or 0)

    async def get(self, ids: Sequence[int]) -> list[PhotoRecord]:
        """The photos with these ids, in the order given; unknown ids are left out."""
        if not ids:
            return []
        rows = await self._session.scalars(select(m.Photo).where(m.Photo.id.in_(list(ids))))
        found = {row.id: to_record(row) for row in rows}
        return [found[i] for i in ids if i in found]
