"""Photos kept once by SHA-256 (filled in by the photo pipeline work)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class PhotosRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
