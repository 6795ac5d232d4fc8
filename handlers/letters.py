"""`/letters` lists the three letters (三函) a person may see; `/ack` signs one (签收).

A clerk types the number printed on the letter: `/ack 12`, `/ack 〔2026〕第12号`, `/ack 2026-12`,
`/ack 第１２号`. Numbers run per region and year, so the number is looked up among the letters of
the clerk's own units: one match is signed, several (two regions, two years) are offered as
buttons, none lists what the clerk can sign. A sign button names the letter by its database id
(`/ack 17`, as buttons always have, so the ones already sent keep working): a pressed button
is read as an id, a typed line as a printed number.

Only a person holding the unit role for the letter's unit may sign; the lead leader hears of
it through the outbox. A letter the asker may not see reads exactly like one that is not there.
A letter closed before it was signed (its project caught up) can still be signed: signing
records receipt, and the reply says it is closed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.events import Button, ChatKind, Outgoing
from domain.model import Person, RoleKind
from domain.scope import project_scope
from handlers.context import Context, Texts
from handlers.notify import notify
from storage.repositories.letters import LetterView
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

MAX_LINES = 20
MAX_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL
OPEN_WORDS = frozenset({"open", "pending", "待签收", "未签收"})
MAX_SCAN = 500  # the visible letters searched to tell a non-signer whose letter a number is
# What may surround the digits of a printed number: its kind, 〔〕, 第…号, "No.", "#".
NUMBER_WORDS = re.compile(
    r"提醒函|交办函|督办函|函件|函|编号|第|号|年|reminder|assignment|supervision|letter|"
    r"number|no\.?|#|№")
NUMBER_PUNCTUATION = re.compile(r"[\s〔〕\[\]()【】〈〉<>\-‐–—/.,:：、]+")


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


@dataclass(frozen=True, slots=True)
class PrintedNumber:
    """A letter's number as a person types it: 第12号 (any year) or 〔2026〕第12号."""

    seq: int
    year: int | None = None

    def names(self, letter: LetterView) -> bool:
        return letter.seq == self.seq and self.year in (None, letter.year)

    def shown(self, t: Texts) -> str:
        if self.year is None:
            return t("letters.seq_only", seq=str(self.seq))
        return t("letters.short_number", year=str(self.year), seq=str(self.seq))


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and 2000 <= int(digits) <= 2100


def parse_number(text: str) -> PrintedNumber | None:
    """`12`, `第１２号`, `〔2026〕第12号`, `督办函〔2026〕第12号`, `2026-12`, `No. 12 (2026)`;
    None for anything else (words, three numbers, a year without a number)."""
    words = NUMBER_WORDS.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    numbers = re.findall(r"\d+", words)
    if NUMBER_PUNCTUATION.sub("", re.sub(r"\d+", "", words)) or not 1 <= len(numbers) <= 2:
        return None
    if any(not n.isascii() or len(n) > 9 for n in numbers):
        return None
    if len(numbers) == 1:
        found = PrintedNumber(int(numbers[0]))
    elif _is_year(numbers[0]):
        found = PrintedNumber(int(numbers[1]), int(numbers[0]))
    elif _is_year(numbers[1]):
        found = PrintedNumber(int(numbers[0]), int(numbers[1]))
    else:
        return None
    return found if found.seq > 0 else None


async def acknowledge(ctx: Context) -> list[Outgoing]:
    args = ctx.event.args.strip()
    if not args:
        return [Outgoing(text=ctx.t("letters.ack_usage_number"))]
    if ctx.event.button_data:
        return await _acknowledge_pressed(ctx, args)
    wanted = parse_number(args)
    if wanted is None:
        return [Outgoing(text=ctx.t("letters.bad_number", text=args[:20]), refusal=True)]
    return await _acknowledge_typed(ctx, wanted)


async def _acknowledge_pressed(ctx: Context, args: str) -> list[Outgoing]:
    """A sign button (or a choice between letters of one number): the letter by its id."""
    letter_id = _letter_id(args)
    not_found = Outgoing(text=ctx.t("letters.not_found", id=args[:20]), refusal=True)
    if letter_id is None:
        return [not_found]
    async with ctx.uow() as uow:
        scope = project_scope(ctx.person, await uow.places.regions())
        letter = await uow.letters.get(letter_id, scope=scope)
        if letter is None:
            return [not_found]
        return await _sign(ctx, uow, letter)


async def _acknowledge_typed(ctx: Context, wanted: PrintedNumber) -> list[Outgoing]:
    """A printed number, looked up among the letters of the person's units."""
    async with ctx.uow() as uow:
        mine: list[LetterView] = []
        for unit_id in sorted(unit_roles(ctx.person)):
            mine += await uow.letters.of_unit(unit_id, unacknowledged_only=False)
        mine.sort(key=lambda letter: (letter.issued_at, letter.id), reverse=True)
        named = [letter for letter in mine if wanted.names(letter)]
        unsigned = [letter for letter in named if letter.acknowledged_at is None]
        if len(unsigned) == 1:
            return await _sign(ctx, uow, unsigned[0])
        if unsigned:
            return [_choose(ctx.t, wanted, unsigned)]
        if named:
            return [_already_signed(ctx, named[0], ctx.clock.now())]
        scope = project_scope(ctx.person, await uow.places.regions())
        others = [letter for letter in await uow.letters.visible(scope, limit=MAX_SCAN)
                  if wanted.names(letter)]
    if others:
        logger.info("refused person %s signing letter %s by number", ctx.person.id,
                    others[0].id)
        return [Outgoing(text="\n".join(
            ctx.t("letters.ack_refused", number=letter_number(ctx.t, letter),
                  unit=letter.unit_name) for letter in others[:MAX_LINES]), refusal=True)]
    return [_nothing_named(ctx, wanted, [letter for letter in mine
                                         if letter.acknowledged_at is None])]


def _choice_button(t: Texts, letter: LetterView) -> Button:
    return Button(t("letters.choice_button", number=letter_number(t, letter),
                    code=letter.project_code), f"/ack {letter.id}")


def _choose(t: Texts, wanted: PrintedNumber, letters_: list[LetterView]) -> Outgoing:
    shown = letters_[:MAX_LINES]
    return Outgoing(text=t("letters.choose", count=len(letters_), number=wanted.shown(t)),
                    buttons=tuple((_choice_button(t, letter),) for letter in shown))


def _nothing_named(ctx: Context, wanted: PrintedNumber, pending: list[LetterView]) -> Outgoing:
    """No letter of that number to sign: say so, and list (with buttons) what there is."""
    t, zone = ctx.t, ctx.clock.zone
    lines = [t("letters.number_not_found", number=wanted.shown(t))]
    if not pending:
        lines.append(t("letters.nothing_to_sign"))
        return Outgoing(text="\n".join(lines), refusal=True)
    shown = pending[:MAX_LINES]
    lines.append(t("letters.can_sign"))
    lines += [t("letters.line", index=i, number=letter_number(t, letter),
                project=letter.project_name, code=letter.project_code,
                state=letter_state(t, letter, zone))
              for i, letter in enumerate(shown, start=1)]
    if len(pending) > MAX_LINES:
        lines.append(t("letters.more", count=MAX_LINES))
    return Outgoing(text="\n".join(lines), refusal=True,
                    buttons=tuple((_choice_button(t, letter),) for letter in shown))


def _already_signed(ctx: Context, letter: LetterView, now: datetime) -> Outgoing:
    return Outgoing(text=ctx.t(
        "letters.already_acknowledged", number=letter_number(ctx.t, letter),
        name=letter.acknowledged_by_name or "—",
        date=_local_date(ctx.t, letter.acknowledged_at or now, ctx.clock.zone)), refusal=True)


async def _sign(ctx: Context, uow: UnitOfWork, letter: LetterView) -> list[Outgoing]:
    """Sign `letter` for the person's unit (the caller found it visible), notify, commit."""
    zone, now = ctx.clock.zone, ctx.clock.now()
    number = letter_number(ctx.t, letter)
    if letter.unit_id not in unit_roles(ctx.person):
        logger.info("refused person %s signing letter %s", ctx.person.id, letter.id)
        return [Outgoing(text=ctx.t("letters.ack_refused", number=number,
                                    unit=letter.unit_name), refusal=True)]
    if not await uow.letters.acknowledge(letter.id, person_id=ctx.person.id, now=now):
        return [_already_signed(ctx, await uow.letters.get(letter.id) or letter, now)]
    leader = await uow.people.get(letter.leader_id) if letter.leader_id else None

    def notice(t: Texts) -> str:
        return t("letters.acknowledged_notice", number=letter_number(t, letter),
                 project=letter.project_name, unit=letter.unit_name,
                 name=ctx.person.name, date=_local_date(t, now, zone))

    await notify(ctx, uow, [leader] if leader else [], kind="letter.acknowledged",
                 period=str(letter.id), subject="", render=notice)
    await uow.commit()
    logger.info("person %s signed letter %s", ctx.person.id, letter.id)
    lines = [ctx.t("letters.acknowledged", number=number, project=letter.project_name,
                   date=_local_date(ctx.t, now, zone))]
    if letter.closed_at is not None:
        lines.append(ctx.t("letters.acknowledged_closed",
                           date=_local_date(ctx.t, letter.closed_at, zone)))
    return [Outgoing(text="\n".join(lines))]
