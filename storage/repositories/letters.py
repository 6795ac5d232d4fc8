"""The three letters (三函): issued once per project and cause, numbered per region and year."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import LetterKind
from domain.scope import ProjectScope
from storage import models as m
from storage.repositories.audit import AuditRepository, Change
from storage.repositories.counters import CountersRepository
from storage.repositories.projects import scope_filter

MAX_CAUSE = 64
MAX_PERIOD = 16
CHUNK = 500  # ids per IN (…): well under SQLite's limit on parameters


def chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


@dataclass(frozen=True, slots=True)
class NewLetter:
    kind: LetterKind
    project_id: int
    cause: str  # unique per project and kind: the same cause never gets a second letter
    period: str
    region_id: int
    unit_id: int
    leader_id: int | None
    body: str


@dataclass(frozen=True, slots=True)
class LetterView:
    id: int
    year: int
    seq: int  # the number within region and year: 〔2026〕第12号
    kind: LetterKind
    project_id: int
    project_code: str
    project_name: str
    region_id: int
    unit_id: int
    unit_name: str
    leader_id: int | None
    cause: str
    period: str
    body: str
    issued_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_name: str | None
    closed_at: datetime | None


def counter_name(region_id: int) -> str:
    return f"letter:{region_id}"


LetterQuery = Select[*tuple[Any, ...]]


def _views() -> LetterQuery:
    """The columns of `LetterView`, in its order (plain rows: no ORM object per letter)."""
    letter = m.Letter
    return (select(letter.id, letter.year, letter.seq, letter.kind, letter.project_id,
                   m.Project.code, m.Project.name, letter.region_id, letter.unit_id,
                   m.Unit.name, letter.leader_id, letter.cause, letter.period, letter.body,
                   letter.issued_at, letter.acknowledged_at, m.Person.name, letter.closed_at)
            .join(m.Project, m.Project.id == letter.project_id)
            .join(m.Unit, m.Unit.id == letter.unit_id)
            .outerjoin(m.Person, m.Person.id == letter.acknowledged_by_id))


def _newest_first(query: LetterQuery) -> LetterQuery:
    return query.order_by(m.Letter.issued_at.desc(), m.Letter.id.desc())


def _to_view(row: Row[*tuple[Any, ...]]) -> LetterView:
    return LetterView(*row)


def visible_to(scope: ProjectScope) -> ColumnElement[bool]:
    """A letter is seen by whoever sees its project, and always by those it was sent to."""
    clauses = [scope_filter(scope), m.Letter.leader_id == scope.person_id]
    if scope.unit_ids:
        clauses.append(m.Letter.unit_id.in_(sorted(scope.unit_ids)))
    return or_(*clauses)


class LettersRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._counters = CountersRepository(session)
        self._audit = AuditRepository(session)

    async def issue(self, *, kind: LetterKind, project_id: int, cause: str, period: str,
                    region_id: int, unit_id: int, leader_id: int | None, body: str, year: int,
                    now: datetime) -> LetterView | None:
        """Number and store a letter; None when this project had one of this kind and cause."""
        issued = await self.issue_many([NewLetter(
            kind=kind, project_id=project_id, cause=cause, period=period, region_id=region_id,
            unit_id=unit_id, leader_id=leader_id, body=body)], year=year, now=now)
        return issued[0] if issued else None

    async def issue_many(self, letters: Sequence[NewLetter], *, year: int, now: datetime,
                         ) -> list[LetterView]:
        """Number and store letters, skipping any (project, kind, cause) issued before; the
        letters stored, in the order given.

        The existence check comes before numbers are taken, under a lock on the projects' rows
        (PostgreSQL; SQLite's writers take turns anyway), so a letter refused as a repeat never
        leaves a gap in a region's numbers. Every region's numbers are taken in one statement.
        """
        for letter in letters:
            if len(letter.cause) > MAX_CAUSE or len(letter.period) > MAX_PERIOD:
                raise ValueError(f"letter cause or period too long: {letter.cause!r}, "
                                 f"{letter.period!r}")
        fresh = await self._not_issued(letters)
        if not fresh:
            return []
        by_region: dict[int, list[NewLetter]] = {}
        for letter in fresh:
            by_region.setdefault(letter.region_id, []).append(letter)
        numbers: dict[tuple[int, LetterKind, str], int] = {}
        taken = await self._counters.take_many(
            {counter_name(region_id): len(batch) for region_id, batch in by_region.items()}, year)
        for region_id, batch in by_region.items():
            seqs = taken[counter_name(region_id)]
            numbers.update(((lt.project_id, lt.kind, lt.cause), seq)
                           for lt, seq in zip(batch, seqs, strict=True))
        table = m.table_of(m.Letter)
        rows = await self._session.execute(
            insert(table).returning(table.c.id, table.c.project_id, table.c.kind,
                                    table.c.cause),
            [{"region_id": lt.region_id, "year": year, "kind": lt.kind,
              "seq": numbers[lt.project_id, lt.kind, lt.cause], "project_id": lt.project_id,
              "cause": lt.cause, "period": lt.period, "unit_id": lt.unit_id,
              "leader_id": lt.leader_id, "body": lt.body, "issued_at": now} for lt in fresh])
        ids = {(pid, LetterKind(kind), cause): letter_id
               for letter_id, pid, kind, cause in rows}
        await self._audit.record_many(now, None, [
            Change("letter", ids[key], "issued", None,
                   {"kind": lt.kind.value, "year": year, "seq": numbers[key],
                    "region_id": lt.region_id, "project_id": lt.project_id, "cause": lt.cause,
                    "period": lt.period, "unit_id": lt.unit_id})
            for lt in fresh for key in [(lt.project_id, lt.kind, lt.cause)]])
        views = await self.by_ids(list(ids.values()))
        return [views[ids[lt.project_id, lt.kind, lt.cause]] for lt in fresh]

    async def _not_issued(self, letters: Sequence[NewLetter]) -> list[NewLetter]:
        """The letters whose (project, kind, cause) is new, each once, with the projects locked."""
        project_ids = sorted({lt.project_id for lt in letters})
        known: set[tuple[int, LetterKind, str]] = set()
        for chunk in chunks(project_ids):
            await self._session.execute(
                select(m.Project.id).where(m.Project.id.in_(chunk)).order_by(m.Project.id)
                .with_for_update())
            rows = await self._session.execute(
                select(m.Letter.project_id, m.Letter.kind, m.Letter.cause)
                .where(m.Letter.project_id.in_(chunk)))
            known.update((pid, LetterKind(kind), cause) for pid, kind, cause in rows)
        fresh: list[NewLetter] = []
        for letter in letters:
            key = (letter.project_id, letter.kind, letter.cause)
            if key not in known:
                known.add(key)
                fresh.append(letter)
        return fresh

    async def by_ids(self, letter_ids: Sequence[int]) -> dict[int, LetterView]:
        found: dict[int, LetterView] = {}
        connection = await self._session.connection()  # Core rows: no ORM work per row
        for chunk in chunks(letter_ids):
            rows = await connection.execute(_views().where(m.Letter.id.in_(chunk)))
            found.update((view.id, view) for view in map(_to_view, rows))
        return found

    async def get(self, letter_id: int, *, scope: ProjectScope | None = None,
                  ) -> LetterView | None:
        """The letter, or None; with `scope`, None too when that person may not see it."""
        query = _views().where(m.Letter.id == letter_id)
        if scope is not None:
            query = query.where(visible_to(scope))
        row = (await self._session.execute(query)).first()
        return _to_view(row) if row else None

    async def visible(self, scope: ProjectScope, *, unacknowledged_only: bool = False,
                      limit: int = 20) -> list[LetterView]:
        """The letters this scope's person may see, newest first."""
        query = _views().where(visible_to(scope))
        if unacknowledged_only:
            query = query.where(m.Letter.acknowledged_at.is_(None))
        rows = await self._session.execute(_newest_first(query).limit(limit))
        return [_to_view(r) for r in rows]

    async def of_unit(self, unit_id: int, *, unacknowledged_only: bool = True,
                      ) -> list[LetterView]:
        """The letters sent to a unit, newest first."""
        query = _views().where(m.Letter.unit_id == unit_id)
        if unacknowledged_only:
            query = query.where(m.Letter.acknowledged_at.is_(None))
        rows = await self._session.execute(_newest_first(query))
        return [_to_view(r) for r in rows]

    async def acknowledge(self, letter_id: int, *, person_id: int, now: datetime) -> bool:
        """Sign for the unit (签收) once: False when the letter was signed already (or is not
        there), so two presses of one button cannot both sign."""
        result = await self._session.execute(
            update(m.Letter).where(m.Letter.id == letter_id, m.Letter.acknowledged_at.is_(None))
            .values(acknowledged_at=now, acknowledged_by_id=person_id))
        if getattr(result, "rowcount", 0) != 1:
            return False
        await self._audit.record(now, person_id, "letter", letter_id, action="acknowledged",
                                 before=None, after={"acknowledged_by_id": person_id})
        return True

    async def open_supervision(self, project_ids: Sequence[int] | None = None) -> set[int]:
        """The projects with a supervision letter not yet closed (among `project_ids`)."""
        if project_ids is not None and not project_ids:
            return set()
        query = select(m.Letter.project_id).where(m.Letter.kind == LetterKind.SUPERVISION,
                                                  m.Letter.closed_at.is_(None)).distinct()
        if project_ids is not None:
            query = query.where(m.Letter.project_id.in_(list(project_ids)))
        return set(await self._session.scalars(query))

    async def close(self, letter_id: int, *, now: datetime) -> None:
        """Close a letter whose cause is gone (a supervised project caught up); idempotent."""
        await self._close(m.Letter.id == letter_id, now=now)

    async def causes(self) -> set[tuple[int, LetterKind, str]]:
        """(project, kind, cause) of every letter issued, so a check skips known ones at once."""
        rows = await self._session.execute(
            select(m.Letter.project_id, m.Letter.kind, m.Letter.cause))
        return {(pid, LetterKind(kind), cause) for pid, kind, cause in rows}

    async def close_supervision(self, project_ids: Sequence[int], *, now: datetime) -> int:
        """Close these projects' open supervision letters (they caught up); how many."""
        closed = 0
        for chunk in chunks(sorted(project_ids)):
            closed += await self._close(m.Letter.project_id.in_(chunk),
                                        m.Letter.kind == LetterKind.SUPERVISION, now=now)
        return closed

    async def _close(self, *where: ColumnElement[bool], now: datetime) -> int:
        result = await self._session.execute(
            update(m.Letter).where(*where, m.Letter.closed_at.is_(None))
            .values(closed_at=now).returning(m.Letter.id))
        closed = sorted(result.scalars())
        await self._audit.record_many(now, None, [
            Change("letter", letter_id, "closed", None, {"closed_at": now.isoformat()})
            for letter_id in closed])
        return len(closed)

    async def counts(self, *, since: datetime) -> dict[LetterKind, int]:
        """Letters issued since `since`, by kind (every kind present, zero included)."""
        rows = await self._session.execute(
            select(m.Letter.kind, func.count()).where(m.Letter.issued_at >= since)
            .group_by(m.Letter.kind))
        found = dict.fromkeys(LetterKind, 0)
        for kind, count in rows:
            found[kind] = int(count)
        return found
