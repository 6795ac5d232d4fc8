"""Finding projects by what people type: a code, a part of the name, an alias.

Issue 6 replaces the linear scan with an index (pinyin, initials); the contract stays: exact
matches first, and the closest names when nothing matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from domain.model import ProjectSummary

SUGGESTION_CUTOFF = 45.0


@dataclass(frozen=True, slots=True)
class LookupResult:
    matches: tuple[ProjectSummary, ...]
    suggestions: tuple[ProjectSummary, ...] = ()


def _names(project: ProjectSummary) -> tuple[str, ...]:
    return (project.name, *project.aliases)


def find_projects(query: str, projects: Sequence[ProjectSummary], limit: int = 3) -> LookupResult:
    needle = query.strip()
    if not needle:
        return LookupResult(())
    folded = needle.casefold()
    by_code = [p for p in projects if p.code.casefold() == folded]
    if by_code:
        return LookupResult(tuple(by_code))
    exact = [p for p in projects if any(n == needle for n in _names(p))]
    if exact:
        return LookupResult(tuple(exact))
    partial = [p for p in projects
               if any(folded in n.casefold() for n in _names(p)) or folded in p.code.casefold()]
    if partial:
        return LookupResult(tuple(partial))
    choices = {i: " ".join(_names(p)) for i, p in enumerate(projects)}
    best = process.extract(needle, choices, scorer=fuzz.partial_ratio, limit=limit,
                           score_cutoff=SUGGESTION_CUTOFF)
    return LookupResult((), tuple(projects[key] for _, _, key in best))
