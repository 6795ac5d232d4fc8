"""`/letters` lists the three letters (三函) a person may see; `/ack <id>` signs one (签收).

Only a person holding the unit role for the letter's unit may sign; the lead leader hears of
it through the outbox. A letter the asker may not see reads exactly like one that is not there.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.events import Button, ChatKind, Outgoing
from domain.model import Person, RoleKind
from domain.scope import project_scope
from handlers.context import Context, Texts
from handlers.notify import notify
from storage.repositories.letters import LetterView

logger = logging.getLogger(__name__)

MAX_LINES = 20
MAX_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL
OPEN_WORDS = frozenset({"open", "pending", "待签收", "未签收"})


def short_number(t: Texts, letter: LetterView) -> str:
    return t("letters.short_number", year=str(letter.year), seq=str(letter.seq))


def letter_number(t: Texts, letter: LetterView) -> str:
    """督办函〔2026〕第12号 / Supervision letter No. 12 (2026)."""
    return t("letters.number", kind=t(f"letters.kind.{letter.kind.value}"),
             year=str(letter.year), seq=str(letter.seq))


def _local_date(t: Texts, at: datetime, zone: ZoneInfo) -> str:
    return t.full_date(at.astimezone(zone).date())


def sign_button(t: Texts, letter: LetterView) -> Button:
    return Button(t("letters.sign_button", number=short_number(t, letter)), f"/ack {letter.id}")


def render_letter(t: Texts, letter: LetterView, *, can_acknowledge: bool,
                  zone: ZoneInfo) -> Outgoing:
    """The letter as its unit and its lead leader receive it; `zone` dates it locally."""
    lines = [t("letters.title", number=letter_number(t, letter)),
             t("letters.project", name=letter.project_name, code=letter.project_code),
             t("letters.to", unit=letter.unit_name)]
    if letter.body:
        lines.append(letter.body)
    lines.append(t("letters.issued", date=_local_date(t, letter.issued_at, zone)))
    if can_acknowledge:
        lines.append(t("letters.please_acknowledge"))
        return Outgoing(text="\n".join(lines), buttons=((sign_button(t, letter),),))
    lines.append(t("letters.acknowledged_by_unit", unit=letter.unit_name))
    return Outgoing(text="\n".join(lines))


def letter_state(t: Texts, letter: LetterView, zone: ZoneInfo) -> str:
    if letter.closed_at is not None:
        return t("letters.state.closed")
    if letter.acknowledged_at is not None:
        return t("letters.state.acknowledged", name=letter.acknowledged_by_name or "—",
                 date=t.short_date(letter.acknowledged_at.astimezone(zone).date()))
    return t("letters.state.pending")


def unit_roles(person: Person) -> frozenset[int]:
    """The units this person may sign letters for."""
    return frozenset(r.unit_id for r in person.roles
                     if r.kind is RoleKind.UNIT and r.unit_id is not None)


async def letters(ctx: Context) -> list[Outgoing]:
    pending_only = ctx.event.args.strip().lower() in OPEN_WORDS
    async with ctx.uow() as uow:
        scope = project_scope(ctx.person, await uow.places.regions())
        found = await uow.letters.visible(scope, unacknowledged_only=pending_only,
                                          limit=MAX_LINES + 1)
        to_sign: list[LetterView] = []
        if ctx.event.chat_kind is ChatKind.PRIVATE:
            for unit_id in sorted(unit_roles(ctx.person)):
                to_sign += await uow.letters.of_unit(unit_id, unacknowledged_only=True)
    if not found:
        return [Outgoing(text=ctx.t("letters.none_open" if pending_only else "letters.none"))]
    zone = ctx.clock.zone
    shown = found[:MAX_LINES]
    lines = [ctx.t("letters.header_open" if pending_only else "letters.header")]
    lines += [ctx.t("letters.line", index=i, number=letter_number(ctx.t, letter),
                    project=letter.project_name, code=letter.project_code,
                    state=letter_state(ctx.t, letter, zone))
              for i, letter in enumerate(shown, start=1)]
    if len(found) > MAX_LINES:
        lines.append(ctx.t("letters.more", count=MAX_LINES))
    buttons = tuple((sign_button(ctx.t, letter),) for letter in to_sign[:MAX_LINES])
    return [Outgoing(text="\n".join(lines), buttons=buttons)]


def _letter_id(args: str) -> int | None:
    text = args.strip().lstrip("#")
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        return None
    return int(text)


async def acknowledge(ctx: Context) -> list[Outgoing]:
    args = ctx.event.args.strip()
    if not args:
        return [Outgoing(text=ctx.t("letters.ack_usage"))]
    letter_id = _letter_id(args)
    not_found = Outgoing(text=ctx.t("letters.not_found", id=args[:20]), refusal=True)
    if letter_id is None:
        return [not_found]
    zone, now = ctx.clock.zone, ctx.clock.now()
    async with ctx.uow() as uow:
        scope = project_scope(ctx.person, await uow.places.regions())
        letter = await uow.letters.get(letter_id, scope=scope)
        if letter is None:
            return [not_found]
        number = letter_number(ctx.t, letter)
        if letter.unit_id not in unit_roles(ctx.person):
            logger.info("refused person %s signing letter %s", ctx.person.id, letter.id)
            return [Outgoing(text=ctx.t("letters.ack_refused", number=number,
                                        unit=letter.unit_name), refusal=True)]
        if not await uow.letters.acknowledge(letter.id, person_id=ctx.person.id, now=now):
            signed = await uow.letters.get(letter.id) or letter
            return [Outgoing(text=ctx.t(
                "letters.already_acknowledged", number=number,
                name=signed.acknowledged_by_name or "—",
                date=_local_date(ctx.t, signed.acknowledged_at or now, zone)), refusal=True)]
        leader = await uow.people.get(letter.leader_id) if letter.leader_id else None

        def notice(t: Texts) -> str:
            return t("letters.acknowledged_notice", number=letter_number(t, letter),
                     project=letter.project_name, unit=letter.unit_name,
                     name=ctx.person.name, date=_local_date(t, now, zone))

        await notify(ctx, uow, [leader] if leader else [], kind="letter.acknowledged",
                     period=str(letter.id), subject="", render=notice)
        await uow.commit()
    logger.info("person %s signed letter %s", ctx.person.id, letter.id)
    return [Outgoing(text=ctx.t("letters.acknowledged", number=number,
                                project=letter.project_name,
                                date=_local_date(ctx.t, now, zone)))]
