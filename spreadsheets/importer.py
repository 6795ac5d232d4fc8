"""`import_workbook`: a county's projects, people and assignments from one .xlsx, in one
transaction.

All or nothing by default: any wrong cell refuses the whole file and every wrong cell is
listed (项目!F12 and why), because a half-imported county is harder to put right than a list of
cells. `partial=True` takes the good rows and lists the others. Re-importing a corrected file
updates by project code and person key; it never duplicates.

Reading and checking the workbook is CPU work (seconds for thousands of rows), so it runs in a
worker thread and the bot keeps answering; the database is touched twice, briefly: once to read
the places, people and codes rows may name, once to write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from bot.i18n import Translator, translator
from domain.clock import Clock, local_today
from domain.model import Region, Unit
from spreadsheets.checks import Checked, check_assignments, check_people, check_projects
from spreadsheets.package import Limits, Unreadable, read_upload
from spreadsheets.reading import CellError, read_workbook
from spreadsheets.rows import Places, Reference
from storage.repositories.imports import ImportCounts
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


class Say(Protocol):
    """A message catalogue: `bot.i18n.Translator`, or a handler's `ctx.t`."""

    def __call__(self, key: str, /, **values: object) -> str: ...


@dataclass(frozen=True, slots=True)
class ImportResult:
    counts: ImportCounts
    errors: tuple[CellError, ...]
    imported: bool  # something was written: everything, or (partial) the good rows

    @property
    def refused(self) -> bool:
        """Anything refused: a cell, a row, or the whole file."""
        return bool(self.errors)


async def import_workbook(uow: Callable[[], UnitOfWork], data: bytes | Path, *, clock: Clock,
                          language: str, partial: bool = False, year: int | None = None,
                          limits: Limits | None = None, region_ids: frozenset[int] | None = None,
                          actor_id: int | None = None) -> ImportResult:
    """Import a workbook; `region_ids` limits what it may touch (a dispatcher's regions), and
    `year` is the year of the 年度计划投资 column (this year by default)."""
    t = translator(language)
    async with uow() as u:
        ref = await load_reference(u, region_ids)
    try:
        checked = await asyncio.to_thread(check_upload, data, t, limits or Limits(), ref,
                                          partial=partial)
    except Unreadable as exc:
        return _refused(t, exc)
    if (checked.errors and not partial) or not (checked.projects or checked.people
                                                or checked.roles or checked.implied_roles):
        return ImportResult(ImportCounts(), tuple(checked.errors), imported=False)
    try:
        async with uow() as u:
            counts = await u.imports.save(checked.batch(), year=year or local_today(clock).year,
                                          now=clock.now(), actor_id=actor_id)
            await u.commit()
        counts = replace(counts, assignments=checked.assignments)
    except IntegrityError as exc:  # another import wrote the same code or key meanwhile
        logger.warning("import refused by the database: %s", exc.orig)
        return ImportResult(ImportCounts(), (CellError(t("excel.workbook"), None, None,
                                                       t("excel.conflict")),), imported=False)
    logger.info("imported %s projects, %s people (%s refused cells)", counts.projects,
                counts.people, len(checked.errors))
    return ImportResult(counts, tuple(checked.errors), imported=True)


async def load_reference(uow: UnitOfWork, region_ids: frozenset[int] | None) -> Reference:
    regions: list[Region] = await uow.places.regions()
    units: list[Unit] = await uow.places.units()
    return Reference(
        places={"region": Places("region", regions), "unit": Places("unit", units)},
        people=await uow.imports.people_index(), projects=await uow.imports.project_index(),
        unit_regions={u.id: u.region_id for u in units}, scope=region_ids)


def check_upload(data: bytes | Path, t: Translator, limits: Limits, ref: Reference, *,
                 partial: bool) -> Checked:
    """Read and check every sheet (in a worker thread); raises `Unreadable` for a refused file."""
    workbook = read_workbook(read_upload(data, limits), t, limits)
    found = Checked(errors=list(workbook.errors))
    projects = workbook.sheets.get("projects")
    people = workbook.sheets.get("people")
    assignments = workbook.sheets.get("assignments")
    for sheet in (projects, people, assignments):
        if sheet is not None:
            found.errors += sheet.errors
    if found.errors and not partial:
        return found  # a header is wrong: its cells cannot be read reliably
    if projects is not None and not projects.errors:
        check_projects(projects, ref, t, workbook.epoch, found)
    if people is not None and not people.errors:
        check_people(people, ref, t, workbook.epoch, found)
    if assignments is not None and not assignments.errors:
        check_assignments(assignments, ref, t, workbook.epoch, found, partial=partial)
    if not found.rows and not found.errors:
        found.errors.append(CellError(t("excel.workbook"), None, None, t("excel.nothing")))
    return found


def _refused(t: Translator, exc: Unreadable) -> ImportResult:
    values = dict(exc.values)
    if "kind" in values:
        values["kind"] = t(f"excel.kind.{values['kind']}")
    message = t(exc.key, **values)
    return ImportResult(ImportCounts(), (CellError(t("excel.file"), None, None, message),),
                        imported=False)


def result_lines(t: Say, result: ImportResult, *, limit: int | None = None) -> list[str]:
    """What the clerk reads: the counts, or every refused cell (the first `limit` of them)."""
    c = result.counts
    lines = []
    if result.imported:
        lines.append(t("excel.imported", projects=c.projects, projects_new=c.projects_new,
                       projects_updated=c.projects_updated,
                       projects_unchanged=c.projects_unchanged, people=c.people,
                       people_new=c.people_new, people_updated=c.people_updated,
                       people_unchanged=c.people_unchanged, assignments=c.assignments))
    if result.errors:
        key = "excel.partly_refused" if result.imported else "excel.refused"
        lines.append(t(key, count=len(result.errors)))
        shown = result.errors if limit is None else result.errors[:limit]
        lines += [t("excel.error_line", ref=e.ref, message=e.message) for e in shown]
        if len(shown) < len(result.errors):
            lines.append(t("excel.more_errors", count=len(result.errors) - len(shown)))
    return lines
