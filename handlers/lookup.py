"""Finding projects by what people type: a code, part of a name or an alias, the pinyin of
either or its initials ("mrwc" for 毛绒文创), or a near miss.

The lookup table holds every active project with its names prepared once for matching; a
process keeps one (`ProjectIndex`) and rebuilds it only when the database's stamp changes, so
another bot instance's edit is seen too. The scope is applied in memory with the same rule as
the SQL filter (`domain.scope.sees_project`): what a person may not see is never matched nor
suggested, and reads exactly like a name that does not exist.

Order of matching: the exact code; an exact name or alias; a substring of a name, an alias,
their pinyin (starting on a syllable) or initials, or the code (prefix matches and shorter
names first); else the closest names by rapidfuzz, as "did you mean" suggestions.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import re
import unicodedata
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from domain.model import ProjectSummary
from domain.scope import ProjectScope, sees_project
from storage.repositories.projects import IndexEntry, IndexStamp
from storage.uow import UnitOfWork

MAX_QUERY = 64
"""Characters of a query that are looked at: a pasted page is cut, not searched."""
SUGGESTIONS = 3
HAN_CUTOFF, LATIN_CUTOFF = 60.0, 72.0
"""Least rapidfuzz partial_ratio for a suggestion: letters need more, random ones agree often."""
FUZZY_POOL, MIN_SHARED = 64, 0.5
"""Projects sharing the most characters (or letter trigrams) with a query that rapidfuzz scores,
and the least share of the query's characters they must have."""
COMMON_FLOOR, COMMON_SHARE = 50, 0.1
"""A character in over max(50, 10 % of the projects) (项, 目, 建 …) does not pick candidates."""
SCOPE_CACHE = 256
RANK_BITS = 24  # positions and key lengths below 16 million
OWNER = (1 << RANK_BITS) - 1
SEP = "\n"  # `fold` keeps no whitespace, so a key never contains it
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
HAN_OR_NOT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\u3400-\u9fff\uf900-\ufaff]+")
NOT_ALNUM = re.compile(r"[\W_]+")  # \w is str.isalnum() and "_"
NOT_HAN_3 = re.compile(r"[^\u3400-\u9fff\uf900-\ufaff]{3,}")


def fold(text: str) -> str:
    """Full-width to half-width, case folded, letters, digits and characters only:
    "ＨＢ－００１" and "hb001", "毛绒 园。" and "毛绒园" are the same key."""
    return NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True, slots=True)
class Spelling:
    """How a folded name can be typed: in full pinyin without tones, and by its initials.

    `starts` are the separators of the syllables in `pinyin` ("mao rong yuan" is "maorongyuan"
    with starts 0, 3, 7): a pinyin query must begin on one, so "aorong" does not find 毛绒.
    A run that is not Chinese ("10", "hb") stays as it is in both forms. Heteronyms take
    pypinyin's reading in context (重庆 chongqing, 银行 yinhang).
    """

    pinyin: str
    starts: tuple[int, ...]
    initials: str


def spell(folded: str) -> Spelling:
    """pypinyin's dictionaries take about 55 MB and 0.2 s to load: they are imported here, so
    only a process that builds a lookup table pays for them."""
    from pypinyin import lazy_pinyin  # noqa: PLC0415 - heavy, loaded on first use (see above)

    syllables: list[str] = []
    initials: list[str] = []
    for run in HAN_OR_NOT.findall(folded):
        if HAN.match(run):
            readings = [s for s in lazy_pinyin(run) if s]
            syllables += readings
            initials += [s[0] for s in readings]
        else:
            syllables.append(run)
            initials.append(run)
    starts, at = [], 0
    for syllable in syllables:
        starts.append(at)
        at += len(syllable)
    return Spelling("".join(syllables), tuple(starts), "".join(initials))


@dataclass(frozen=True, slots=True)
class Hits:
    """Project ids, best first: those that match, or else the closest ("did you mean")."""

    matches: tuple[int, ...]
    suggestions: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class LookupResult:
    matches: tuple[ProjectSummary, ...]
    suggestions: tuple[ProjectSummary, ...] = ()
    more: int = 0
    """Matches found beyond `matches` (only the first few are loaded)."""


class _Column:
    """Keys of one kind (names, pinyin, initials, codes) joined into one text, so a substring
    is found at C speed in one scan rather than by a Python loop over every project.

    With `syllables` (each key's syllable starts), a hit must begin on a syllable.
    """

    def __init__(self, keys: Sequence[tuple[int, str]],
                 syllables: Sequence[tuple[int, ...]] | None = None) -> None:
        self.owners = [owner for owner, _ in keys]
        self.lengths = [len(key) for _, key in keys]
        self.starts: list[int] = []
        at = 0
        for length in self.lengths:
            self.starts.append(at)
            at += length + len(SEP)
        self.text = SEP.join(key for _, key in keys)
        self.boundaries: bytes | None = None
        if syllables is not None:
            marks = bytearray(len(self.text) + 1)
            for start, offsets in zip(self.starts, syllables, strict=True):
                for offset in offsets:
                    marks[start + offset] = 1
            self.boundaries = bytes(marks)
        self.ranks = [length << RANK_BITS | owner
                      for length, owner in zip(self.lengths, self.owners, strict=True)]

    def find(self, needle: str) -> list[int]:
        """Every occurrence as one number that sorts best first: (not at the start of its key,
        the key's length, its owner) packed into an int. A query found in thousands of names
        ("项目") costs a few milliseconds this way, not tens, as no tuple is made per hit."""
        found = _occurrences(self.text, needle)
        if self.boundaries is not None:
            found = [at for at in found if self.boundaries[at]]
        keys = [bisect_right(self.starts, at) - 1 for at in found]
        return [(at != self.starts[i]) << (2 * RANK_BITS) | self.ranks[i]
                for at, i in zip(found, keys, strict=True)]


def _occurrences(text: str, needle: str) -> list[int]:
    """Where `needle` starts in `text`, overlaps included ("aa" twice in "aaa")."""
    if any(needle[:k] == needle[-k:] for k in range(1, len(needle))):
        found: list[int] = []
        at = text.find(needle)
        while at >= 0:
            found.append(at)
            at = text.find(needle, at + 1)
        return found
    # No occurrence can overlap another: the regex engine's scan is several times faster.
    return [match.start() for match in re.finditer(re.escape(needle), text)]


def _grams(key: str) -> set[str]:
    """What picks fuzzy candidates: each Chinese character, and letter/digit trigrams."""
    found = set(HAN.findall(key))
    for run in NOT_HAN_3.findall(key):
        found.update(run[i:i + 3] for i in range(len(run) - 2))
    return found


def _postings(keys: Sequence[Sequence[str]]) -> tuple[dict[str, list[int]], frozenset[str]]:
    """Which projects have each character or trigram, leaving out the common ones (which are
    returned apart: a query's common grams neither pick nor count)."""
    postings: dict[str, list[int]] = defaultdict(list)
    for pos, own in enumerate(keys):
        for gram in set().union(*map(_grams, own)):
            postings[gram].append(pos)
    often = max(COMMON_FLOOR, int(len(keys) * COMMON_SHARE))
    common = frozenset(g for g, p in postings.items() if len(p) > often)
    return {g: p for g, p in postings.items() if len(p) <= often}, common


class LookupTable:
    """Every active project's keys, prepared once; `search` only reads it (thread-safe to build
    in a worker thread, then swapped in whole). Positions (`pos`) are indexes into `entries`."""

    def __init__(self, entries: Sequence[IndexEntry], names: Sequence[Sequence[str]],
                 spellings: Mapping[str, Spelling]) -> None:
        """`names[pos]`: the folded name and aliases of `entries[pos]`, each once."""
        self.entries = entries
        self.ids = [e.id for e in entries]
        self.spellings = spellings
        self.han_keys = names
        self.pinyin_keys = [[spellings[key].pinyin for key in own] for own in names]
        self.code_keys = [[fold(e.code)] for e in entries]
        self.codes = {own[0]: pos for pos, own in enumerate(self.code_keys)}
        self.exact: dict[str, list[int]] = defaultdict(list)
        flat = [(pos, key) for pos, own in enumerate(names) for key in own]
        for pos, key in flat:
            self.exact[key].append(pos)
        self.columns = (
            _Column(flat),
            _Column([(pos, spellings[key].pinyin) for pos, key in flat],
                    syllables=[spellings[key].starts for _, key in flat]),
            _Column([(pos, spellings[key].initials) for pos, key in flat]),
            _Column([(pos, own[0]) for pos, own in enumerate(self.code_keys)]))
        self.postings, self.common = _postings(
            [[*han, *pinyin, *code] for han, pinyin, code in zip(
                names, self.pinyin_keys, self.code_keys, strict=True)])
        self._scopes: dict[ProjectScope, frozenset[int] | None] = {}

    @classmethod
    def build(cls, entries: Sequence[IndexEntry],
              known: Mapping[str, Spelling] | None = None) -> LookupTable:
        """The table for `entries`; spellings in `known` (the last table's) are reused, so a
        rebuild only asks pypinyin about new names."""
        known = known or {}
        names = [tuple(dict.fromkeys(k for k in map(fold, (e.name, *e.aliases)) if k))
                 for e in entries]
        spellings = {key: known[key] if key in known else spell(key)
                     for own in names for key in own}
        return cls(entries, names, spellings)

    def search(self, query: str, scope: ProjectScope | None, *,
               limit: int = SUGGESTIONS) -> Hits:
        """What `query` finds among the projects `scope` may see (all of them for None)."""
        needle = fold(query[:MAX_QUERY])
        if not needle:
            return Hits(())
        visible = self._visible(scope)

        def seen(pos: int) -> bool:
            return visible is None or pos in visible

        code = self.codes.get(needle)
        if code is not None and seen(code):
            return Hits((self.ids[code],))
        exact = [pos for pos in self.exact.get(needle, ()) if seen(pos)]
        if exact:
            return Hits(tuple(self.ids[pos] for pos in exact))
        ranked = [rank for column in self.columns for rank in column.find(needle)]
        if visible is not None:
            ranked = [rank for rank in ranked if rank & OWNER in visible]
        if ranked:
            ranked.sort()
            return Hits(tuple(map(self.ids.__getitem__, dict.fromkeys(map(OWNER.__and__,
                                                                         ranked)))))
        return Hits((), tuple(self.ids[pos] for pos in self._closest(needle, visible, limit)))

    def _visible(self, scope: ProjectScope | None) -> frozenset[int] | None:
        """Positions the scope may see, None for all; kept per scope while this table lives."""
        if scope is None:
            return None
        if scope not in self._scopes:
            if len(self._scopes) >= SCOPE_CACHE:
                self._scopes.clear()
            found = frozenset(
                pos for pos, e in enumerate(self.entries)
                if sees_project(scope, region_id=e.region_id, unit_id=e.unit_id,
                                lead_leader_id=e.lead_leader_id, liaison_ids=e.liaison_ids))
            self._scopes[scope] = None if len(found) == len(self.entries) else found
        return self._scopes[scope]

    def _candidates(self, needle: str, visible: frozenset[int] | None) -> Counter[int]:
        """The projects with at least half of the query's characters (or letter trigrams) that
        are not common, with how many they share; the `FUZZY_POOL` sharing most. A typo keeps
        most of a name; sharing only "产业园" is no reason to suggest a project."""
        grams = _grams(needle) - self.common
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(self.postings.get(gram, ()))
        least = max(1, math.ceil(MIN_SHARED * len(grams)))
        pool = {pos: n for pos, n in shared.items()
                if n >= least and (visible is None or pos in visible)}
        return Counter({pos: pool[pos]
                        for pos in heapq.nlargest(FUZZY_POOL, pool, key=pool.__getitem__)})

    def _closest(self, needle: str, visible: frozenset[int] | None, limit: int) -> list[int]:
        """By rapidfuzz over the candidates: partial_ratio against their names (for Chinese) or
        pinyin (for letters), the whole ratio against their codes ("hb0001" is close to
        "hb001", "hb001" is not close to "xy001"). Ties go to the project sharing more
        characters, then the shorter name: "毛绒产业园区" scores alike against every …产业园,
        but shares 毛绒 with one."""
        han = bool(HAN.search(needle))
        latin = bool(HAN.sub("", needle))
        shared = self._candidates(needle, visible)
        scored: list[tuple[float, int, str, int]] = []
        for scorer, keys in ((fuzz.partial_ratio, self.han_keys if han else None),
                             (fuzz.partial_ratio, self.pinyin_keys if latin else None),
                             (fuzz.ratio, self.code_keys if latin else None)):
            if keys is None:
                continue
            owners = [pos for pos in shared for _ in keys[pos]]
            choices = [key for pos in shared for key in keys[pos]]
            for key, score, i in process.extract(needle, choices, scorer=scorer, limit=None,
                                                 score_cutoff=HAN_CUTOFF if han else LATIN_CUTOFF):
                scored.append((-round(score, 1), -shared[owners[i]], key, owners[i]))
        ranked = sorted(scored, key=lambda s: (s[0], s[1], len(s[2]), s[3]))
        return list(dict.fromkeys(pos for *_, pos in ranked))[:limit]


class ProjectIndex:
    """The lookup table of one process, shared by every chat and refreshed when the stamp in
    the database (`ProjectsRepository.index_stamp`) changes: checked each query, rebuilt rarely.

    The stamp is read before the entries, so a change committed in between makes the next
    query rebuild again rather than keep a table older than its stamp.
    """

    def __init__(self) -> None:
        self._table = LookupTable.build([])
        self._stamp: IndexStamp | None = None
        self._lock = asyncio.Lock()
        self.builds = 0

    async def table(self, uow: UnitOfWork) -> LookupTable:
        stamp = await uow.projects.index_stamp()
        if stamp != self._stamp:
            async with self._lock:
                if stamp != self._stamp:
                    entries = await uow.projects.index_entries()
                    # Spelling thousands of names takes a while: off the event loop.
                    self._table = await asyncio.to_thread(
                        LookupTable.build, entries, self._table.spellings)
                    self._stamp = stamp
                    self.builds += 1
        return self._table

    async def lookup(self, uow: UnitOfWork, query: str, scope: ProjectScope, year: int, *,
                     shown: int) -> LookupResult:
        """The first `shown` matches (or suggestions) as summaries, read in one query."""
        hits = (await self.table(uow)).search(query, scope)
        wanted = [*hits.matches[:shown], *hits.suggestions[:shown]]
        found = ({p.id: p for p in await uow.projects.visible_by_ids(scope, wanted, year)}
                 if wanted else {})
        return LookupResult(tuple(found[i] for i in hits.matches[:shown] if i in found),
                            tuple(found[i] for i in hits.suggestions[:shown] if i in found),
                            more=max(0, len(hits.matches) - shown))


def find_projects(query: str, projects: Sequence[ProjectSummary],
                  limit: int = SUGGESTIONS) -> LookupResult:
    """The same matching over a few projects already chosen (a form's own projects)."""
    entries = [IndexEntry(p.id, p.code, p.name, p.aliases, 0, 0, None, frozenset())
               for p in projects]
    hits = LookupTable.build(entries).search(query, None, limit=limit)
    by_id = {p.id: p for p in projects}
    return LookupResult(tuple(by_id[i] for i in hits.matches),
                        tuple(by_id[i] for i in hits.suggestions))
