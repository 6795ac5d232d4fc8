"""Photos as answers: stored before the form moves on, checked for reuse, age and place.

A photo is processed (verified, normalised, thumbnailed) off the event loop, then recorded in
the same transaction that adds it to the draft, so a failure later (at the confirm step, say)
never loses it. An album arrives as one event with several attachments and is taken or refused
as a whole.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from domain.events import Attachment
from domain.geo import distance_m
from handlers.forms.questions import Invalid, Question
from handlers.forms.spec import State
from storage.photos import PhotoRejected, ProcessedPhoto
from storage.repositories.photos import PhotoRecord
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)
OLD_PHOTO = timedelta(days=1)


class PhotoIntake(Protocol):
    """The photo store as the forms see it (`storage.photos.PhotoStore`)."""

    def process(self, source: Path) -> ProcessedPhoto: ...


def photo_flags(photo: PhotoRecord, *, reused: bool, now: datetime,
                site: list[float] | None) -> list[str]:
    """What a reviewer should know: used before, taken over a day ago, or off site."""
    flags = ["reused"] if reused else []
    if photo.taken_at is not None and photo.taken_at < now - OLD_PHOTO:
        flags.append("old")
    if site is not None and photo.lat is not None and photo.lon is not None:
        lat, lon, radius = site
        if distance_m(lat, lon, photo.lat, photo.lon) > radius:
            flags.append("far")
    return flags


async def take_photos(intake: PhotoIntake, uow: UnitOfWork, question: Question, state: State,
                      attachments: tuple[Attachment, ...], *, person_id: int,
                      now: datetime) -> list[dict[str, Any]]:
    """Store an album and add it to the draft's answer; `Invalid` leaves both untouched."""
    have: list[dict[str, Any]] = list(state.answers.get(question.key) or [])
    if len(have) + len(attachments) > question.max_photos:
        raise Invalid("form.photos_too_many", max=question.max_photos, have=len(have),
                      sent=len(attachments))
    processed: list[ProcessedPhoto] = []
    for attachment in attachments:
        try:
            processed.append(await asyncio.to_thread(intake.process, attachment.path))
        except PhotoRejected as refused:
            logger.info("photo refused (%s) from person %s", refused.reason, person_id)
            raise Invalid(f"form.photo_rejected.{refused.reason}",
                          name=attachment.filename) from None
    known = {entry["id"] for entry in have}
    added: list[dict[str, Any]] = []
    for photo in processed:
        record, _ = await uow.photos.add(photo, person_id, now)
        if record.id in known:
            raise Invalid("form.photo_duplicate", name=photo.sha256[:8])
        known.add(record.id)
        reused = await uow.photos.attachment_count(record.id) > 0
        added.append({"id": record.id, "flags": photo_flags(
            record, reused=reused, now=now, site=state.context.get("site"))})
    state.answers[question.key] = have + added
    return added
