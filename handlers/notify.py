"""Messages to other people, written to the outbox in the transaction of the change itself.

Each is rendered in its recipient's language now; a channel's sender delivers it later (and
only once: the outbox is unique by kind, period, recipient and subject).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime

from domain.events import Button, Outgoing
from domain.model import Person, Region
from domain.scope import dispatcher_reaches, person_regions
from handlers.context import Context, Texts
from storage.uow import UnitOfWork


async def notify(ctx: Context, uow: UnitOfWork, recipients: Iterable[Person], *, kind: str,
                 period: str, subject: str, render: Callable[[Texts], str],
                 buttons: Callable[[Texts], tuple[tuple[Button, ...], ...]] | None = None,
                 ) -> int:
    """Queue one message per recipient (the sender excluded); returns how many were new."""
    return await tell(uow, [p for p in recipients if p.id != ctx.person.id],
                      texts_for=ctx.texts_for, now=ctx.clock.now(), kind=kind, period=period,
                      subject=subject, render=render, buttons=buttons)


async def tell(uow: UnitOfWork, recipients: Iterable[Person], *,
               texts_for: Callable[[str | None], Texts], now: datetime, kind: str, period: str,
               subject: str, render: Callable[[Texts], str],
               buttons: Callable[[Texts], tuple[tuple[Button, ...], ...]] | None = None,
               ) -> int:
    """Queue one message per recipient (each once), in their language; how many were new."""
    queued = 0
    for person in {p.id: p for p in recipients}.values():
        t = texts_for(person.language)
        message = Outgoing(text=render(t), buttons=buttons(t) if buttons else ())
        queued += await uow.outbox.enqueue(
            kind=kind, period=period, recipient=f"person:{person.id}", subject=subject,
            payload=message.to_payload(), now=now)
    return queued


async def dispatchers_over(uow: UnitOfWork, places: frozenset[int], *,
                           regions: Sequence[Region] | None = None) -> list[Person]:
    """The dispatchers whose regions cover any of `places` (the places or above them)."""
    known = regions if regions is not None else await uow.places.regions()
    return [p for p in await uow.people.dispatchers()
            if dispatcher_reaches(p, places, known)]


async def unit_and_leader(uow: UnitOfWork, unit_id: int | None,
                          leader_id: int | None) -> list[Person]:
    """Who hears of a problem: the responsible unit's people and the project's lead leader."""
    people = await uow.people.of_unit(unit_id) if unit_id is not None else []
    if leader_id is not None and (leader := await uow.people.get(leader_id)) is not None:
        people.append(leader)
    return people


async def unreachable(uow: UnitOfWork, person: Person, *,
                      texts_for: Callable[[str | None], Texts], now: datetime,
                      today: date) -> None:
    """The person blocked the bot: mark them unreachable (until they write again) and tell the
    dispatchers over them, once a day."""
    await uow.people.set_reachable(person.id, False)
    theirs = person_regions(person, await uow.places.unit_region(person.unit_id))
    dispatchers = [p for p in await dispatchers_over(uow, theirs) if p.id != person.id]
    await tell(uow, dispatchers, texts_for=texts_for, now=now, kind="person.unreachable",
               period=today.isoformat(), subject=f"person:{person.id}",
               render=lambda t: t("outbox.unreachable", name=person.name, title=person.title))
