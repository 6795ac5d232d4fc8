"""The lookup table on its own: what each way of typing a project finds, in which order, and
that the scope holds for matches and suggestions alike."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.model import Category, ProjectLevel, ProjectSummary, Stage
from domain.scope import ProjectScope, sees_project
from handlers.lookup import MAX_QUERY, LookupTable, find_projects, fold, spell
from storage.repositories.projects import IndexEntry

ME = 7


def entry(pid: int, code: str, name: str, *aliases: str, region: int = 1, unit: int = 10,
          lead: int | None = None, liaisons: frozenset[int] = frozenset()) -> IndexEntry:
    return IndexEntry(pid, code, name, aliases, region, unit, lead, liaisons)


ENTRIES = [
    entry(1, "HB-001", "汉滨区毛绒文创总部产业园建设项目", "毛绒园", "毛绒文创产业园",
          liaisons=frozenset({ME})),
    entry(2, "HB-002", "汉滨区数字经济产业园", liaisons=frozenset({ME})),
    entry(3, "HB-003", "汉滨区年出栏10万头生猪养殖项目", unit=11),
    entry(4, "HB-012", "重庆银行长安支行装修工程", lead=ME),
    entry(5, "XY-001", "旬阳市富硒食品产业园", region=2, unit=12),
    entry(6, "XY-002", "旬阳市毛绒玩具产业园", region=2, unit=12),
]
TABLE = LookupTable.build(ENTRIES)
EVERYONE = None
HANBIN = ProjectScope(ME + 1, frozenset({1}), frozenset())
LIAISON = ProjectScope(ME, frozenset(), frozenset())


def found(query: str, scope: ProjectScope | None = EVERYONE) -> tuple[int, ...]:
    return TABLE.search(query, scope).matches


def suggested(query: str, scope: ProjectScope | None = EVERYONE) -> tuple[int, ...]:
    hits = TABLE.search(query, scope)
    assert hits.matches == ()
    return hits.suggestions


def test_fold_makes_full_width_case_and_punctuation_irrelevant() -> None:
    assert fold("ＨＢ－００１") == fold("hb-001") == fold(" HB 001 ") == "hb001"
    assert fold("毛绒 园。") == "毛绒园"
    assert fold("（二期）") == "二期"


def test_spelling_has_full_pinyin_syllables_and_initials() -> None:
    spelling = spell(fold("毛绒文创产业园"))
    assert spelling.pinyin == "maorongwenchuangchanyeyuan"
    assert spelling.starts == (0, 3, 7, 10, 16, 20, 22)
    assert spelling.initials == "mrwccyy"


def test_spelling_reads_heteronyms_in_context_and_keeps_digits_and_letters() -> None:
    assert spell(fold("重庆银行长安")).pinyin == "chongqingyinhangchangan"
    assert spell(fold("重点项目")).initials == "zdxm"
    assert spell(fold("年出栏10万头")).initials == "ncl10wt"
    assert spell(fold("5G基站")).pinyin == "5gjizhan"


def test_a_code_is_found_however_it_is_typed() -> None:
    for query in ("HB-001", "hb-001", "hb001", "ＨＢ－００１", " HB 001 "):
        assert found(query) == (1,)


def test_an_exact_name_or_alias_wins_over_names_that_contain_it() -> None:
    assert found("毛绒园") == (1,)
    assert found("汉滨区数字经济产业园") == (2,)


def test_part_of_a_name_or_alias_finds_every_project_containing_it() -> None:
    assert set(found("毛绒")) == {1, 6}
    assert found("生猪") == (3,)
    assert found("10万头") == (3,)


def test_prefix_matches_come_first_then_shorter_names() -> None:
    # 毛绒园 and 毛绒文创产业园 start with 毛绒; 旬阳市毛绒玩具产业园 only contains it
    assert found("毛绒") == (1, 6)
    # every 汉滨区 name starts with it: the shortest first, then by code
    assert found("汉滨区") == (2, 1, 3)
    assert found("产业园") == (1, 2, 5, 6)


def test_full_pinyin_finds_names_from_the_start_of_a_syllable() -> None:
    assert found("maorong") == (1, 6)
    assert found("mao rong wen chuang") == (1,)
    assert found("shuzijingji") == (2,)
    assert found("chongqing") == (4,)
    assert found("aorong") == ()  # inside 毛 (mao): not a way anybody types 毛绒


def test_initials_find_names() -> None:
    assert found("mrwc") == (1,)
    assert found("szjj") == (2,)
    assert found("cqyh") == (4,)
    assert found("MRWC") == (1,)


def test_part_of_a_code_finds_those_codes() -> None:
    assert found("hb01") == (4,)
    assert set(found("xy00")) == {5, 6}


def test_typos_get_the_closest_names_as_suggestions() -> None:
    assert suggested("毛绒文创产业圆")[0] == 1
    assert suggested("数子经济产业园")[0] == 2
    assert suggested("maorogn")[0] in (1, 6)
    assert suggested("shuzijinji")[0] == 2


def test_a_suggestion_goes_to_the_project_sharing_the_distinctive_part() -> None:
    # every …产业园 scores alike on partial_ratio; 毛绒 decides
    assert suggested("毛绒产业园区")[:2] in ((1, 6), (6, 1))


def test_nonsense_finds_nothing_and_suggests_nothing() -> None:
    for query in ("xyzqwv", "今天天气", "zzzz", "", "   ", "。。。"):
        hits = TABLE.search(query, EVERYONE)
        assert hits.matches == () and hits.suggestions == (), query


def test_only_the_start_of_a_long_query_is_looked_at() -> None:
    assert TABLE.search("项目" * 1000 + "毛绒", EVERYONE) == TABLE.search("项目" * 32, EVERYONE)
    assert found("hb012" + "x" * 5000) == found("hb012" + "x" * (MAX_QUERY - 5))


def test_scope_limits_matches_and_suggestions() -> None:
    assert found("毛绒", LIAISON) == (1,)
    assert found("毛绒", HANBIN) == (1,)
    assert found("XY-001", HANBIN) == ()
    assert found("旬阳", HANBIN) == ()
    assert found("产业园", LIAISON) == (1, 2)
    assert found("cqyh", LIAISON) == (4,)  # led by the liaison
    assert TABLE.search("旬阳市富硒食品产业圆", HANBIN).suggestions == ()


def test_the_same_typo_suggests_only_what_the_asker_may_see() -> None:
    assert 5 in suggested("富硒食品产业圆")
    assert 5 not in TABLE.search("富硒食品产业圆", LIAISON).suggestions


def summary(e: IndexEntry) -> ProjectSummary:
    return ProjectSummary(e.id, e.code, e.name, e.aliases, "汉滨区", "工信局", Stage.CONSTRUCTION,
                          ProjectLevel.COUNTY, Category.INDUSTRIAL, "", Decimal(1000), None, None,
                          None, None, None, None, (), None)


def test_find_projects_matches_within_given_projects() -> None:
    projects = [summary(e) for e in ENTRIES[:3]]
    assert [p.code for p in find_projects("mrwc", projects).matches] == ["HB-001"]
    assert [p.code for p in find_projects("hb002", projects).matches] == ["HB-002"]
    assert find_projects("毛绒产业园区", projects).suggestions[0].code == "HB-001"


names = st.sampled_from(["毛绒", "产业园", "汉滨区", "数字", "旬阳", "富硒", "食品", "项目",
                         "工程", "生猪", "银行", "长安", "园区", "建设"])
codes = st.builds(lambda p, n: f"{p}-{n:03d}", st.sampled_from(["HB", "XY", "ZY"]),
                  st.integers(1, 30))
entries = st.lists(
    st.builds(lambda code, parts, alias, region, unit, lead, liaisons: (
        code, "".join(parts), alias, region, unit, lead, liaisons),
        codes, st.lists(names, min_size=1, max_size=4), st.one_of(st.none(), names),
        st.integers(1, 3), st.integers(10, 12), st.one_of(st.none(), st.integers(1, 4)),
        st.frozensets(st.integers(1, 4), max_size=2)),
    max_size=12, unique_by=lambda e: e[0])
scopes = st.builds(ProjectScope, st.integers(1, 4), st.frozensets(st.integers(1, 3)),
                   st.frozensets(st.integers(10, 12)))
typed = st.sampled_from(["mr", "maorong", "cyy", "hb0", "毛戎", "chanyeyuan", "xy", "szjj"])
queries = st.one_of(names, codes, typed, st.text(max_size=8))


@settings(max_examples=150, deadline=None)
@given(entries, scopes, queries)
def test_nothing_outside_the_scope_is_ever_matched_or_suggested(
        rows: list[tuple[str, str, str | None, int, int, int | None, frozenset[int]]],
        scope: ProjectScope, query: str) -> None:
    projects = [IndexEntry(i, code, name, (alias,) if alias else (), region, unit, lead, liaisons)
                for i, (code, name, alias, region, unit, lead, liaisons) in enumerate(rows, 1)]
    visible = [p for p in projects
               if sees_project(scope, region_id=p.region_id, unit_id=p.unit_id,
                               lead_leader_id=p.lead_leader_id, liaison_ids=p.liaison_ids)]
    hits = LookupTable.build(projects).search(query, scope)
    allowed = {p.id for p in visible}
    assert set(hits.matches) <= allowed
    assert set(hits.suggestions) <= allowed
    # What matches is exactly what a table of the visible projects alone would match.
    assert hits.matches == LookupTable.build(visible).search(query, None).matches
