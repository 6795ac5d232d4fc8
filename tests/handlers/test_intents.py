"""Plain sentences as commands: which sentences mean what, which mean nothing, and how the
router answers them (a form waiting for text keeps it; groups ignore it)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import translator
from domain.clock import FixedClock
from domain.events import ChatKind, Incoming
from handlers.intents import MAX_TEXT, Intent, match_intent
from handlers.router import Router
from storage.uow import UnitOfWorkFactory
from tests.handlers.phone import CHANNEL, Phone, draft_of
from tests.world import World

MEANT = {
    # status: the name is what is left once the question is taken off
    "毛绒文创产业园进度怎么样": Intent("status", "毛绒文创产业园"),
    "毛绒园现在到哪一步了": Intent("status", "毛绒园"),
    "查一下HB-001": Intent("status", "HB-001"),
    "数字经济产业园情况": Intent("status", "数字经济产业园"),
    "数字经济产业园最近怎么样": Intent("status", "数字经济产业园"),
    "毛绒园的形象进度是多少": Intent("status", "毛绒园"),
    "毛绒园开工了吗": Intent("status", "毛绒园"),
    "毛绒园建得怎么样了": Intent("status", "毛绒园"),
    "毛绒园有什么问题": Intent("status", "毛绒园"),
    "看看生猪养殖项目": Intent("status", "生猪养殖"),
    "mrwc进度": Intent("status", "mrwc"),
    "HB-001": Intent("status", "HB-001"),
    # overdue
    "今天谁没报": Intent("overdue"),
    "哪些项目还没填报": Intent("overdue"),
    "谁还没报日报": Intent("overdue"),
    "今天还有谁没交日报": Intent("overdue"),
    "未报清单": Intent("overdue"),
    # my
    "我的项目": Intent("my"),
    "我负责哪些项目": Intent("my"),
    "我包抓的项目有哪些": Intent("my"),
    # problems
    "我的问题": Intent("problems", "mine"),
    "还有哪些问题没解决": Intent("problems", "open"),
    "未解决的问题": Intent("problems", "open"),
    "问题清单": Intent("problems", "open"),
    "我们单位的问题": Intent("problems", "unit"),
    "本单位问题清单": Intent("problems", "unit"),
    # letters
    "督办函": Intent("letters"),
    "我的函件": Intent("letters"),
    "有没有要签收的函": Intent("letters", "open"),
    "待签收的函件": Intent("letters", "open"),
    # ranking
    "本月排名": Intent("ranking", "month"),
    "上个月排名情况": Intent("ranking", "month"),
    "这个季度排名怎么样": Intent("ranking", "quarter"),
    "排名": Intent("ranking"),
    # digest
    "周报": Intent("digest"),
    "今天的汇总": Intent("digest"),
    "看看日报汇总": Intent("digest"),
    "今天报了多少": Intent("digest"),
    # help
    "怎么用": Intent("help"),
    "帮助": Intent("help"),
    "你能做什么": Intent("help"),
    # report (the daily report form)
    "我要填报": Intent("report"),
    "填日报": Intent("report"),
    "帮我填一下今天的日报": Intent("report"),
}
MEANT_NOTHING = [
    "好的", "收到", "谢谢", "35", "是", "你好", "辛苦了", "哈哈", "嗯嗯", "在吗", "ok", "？",
    "今天天气怎么样", "你最近怎么样", "我已经到工地了", "我今天没报",
    "我有个问题想问一下", "问你个问题", "没问题", "问题不大", "这个问题怎么处理", "这不是问题",
    "项目进度怎么样",  # which project? not a name
    "明天上午九点在三楼会议室召开全县重点项目推进会，请各单位主要负责人准时参加，不要迟到，谢谢大家",
    "看看", "查",
]


@pytest.mark.parametrize(("text", "intent"), MEANT.items())
def test_a_sentence_means_a_command(text: str, intent: Intent) -> None:
    assert match_intent(text) == intent


@pytest.mark.parametrize("text", MEANT_NOTHING)
def test_chatter_means_no_command(text: str) -> None:
    assert match_intent(text) is None


@pytest.mark.parametrize("text", ["毛绒园进度怎么样", "今天谁没报", "本月排名", "查一下HB-001"])
def test_width_punctuation_spaces_and_politeness_do_not_matter(text: str) -> None:
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    for variant in (f"请{text}？", f"帮我{text}。", f"  {text} ", f"麻烦{text}吧", wide,
                    f"请问，{text}呢？", f"{text}，谢谢"):
        assert match_intent(variant) == match_intent(text), variant


def test_the_status_rule_keeps_no_question_words_in_the_name() -> None:
    for ending in ("进度怎么样", "进展如何", "现在到哪一步了", "建得怎么样了", "的情况",
                   "目前进度"):
        assert match_intent(f"毛绒文创产业园{ending}") == Intent("status", "毛绒文创产业园")


@given(st.text(max_size=3 * MAX_TEXT))
def test_any_text_gives_a_known_command_or_none(text: str) -> None:
    intent = match_intent(text)
    assert intent is None or intent.command in {
        "status", "overdue", "my", "problems", "letters", "ranking", "digest", "help", "report"}


def test_a_long_message_is_not_a_command() -> None:
    assert match_intent("毛绒园进度怎么样" + "，" + "大家辛苦了" * 10) is None


@pytest.fixture
async def outsider(uow: UnitOfWorkFactory, people: World, clock: FixedClock) -> Phone:
    """孙强, the 旬阳 liaison (1005)."""
    async with uow() as u:
        await u.people.bind_identity(people.outsider_liaison, "test", "1005", clock.now())
        await u.commit()
    return Phone(Router(uow, clock, translator, "zh-CN"), "1005")


async def test_a_dispatcher_asking_in_a_sentence_gets_the_card(router: Router,
                                                               people: World) -> None:
    text = await Phone(router, "1003").say("毛绒文创产业园进度怎么样")
    assert "【汉滨区毛绒文创总部产业园建设项目】HB-001" in text


async def test_the_same_sentence_from_another_county_finds_nothing(outsider: Phone) -> None:
    text = await outsider.say("毛绒文创产业园进度怎么样")
    assert text == "没有找到与“毛绒文创产业园”相符的项目。"
    assert outsider.buttons == []


async def test_a_sentence_answers_as_the_command_would(router: Router, people: World) -> None:
    liu = Phone(router, "1003")
    for sentence, command in (("今天谁没报", "/overdue"), ("我的项目", "/my"), ("帮助", "/help"),
                              ("请帮我查一下ＨＢ－００２。", "/status HB-002")):
        assert await liu.say(sentence) == await liu.say(command), sentence


async def test_a_sentence_opens_the_daily_report(wang: Phone) -> None:
    assert "请选择项目" in await wang.say("我要填报")
    assert "现场状态" in await wang.press("毛绒")


async def test_text_typed_while_a_form_waits_is_the_answer_not_a_command(
        wang: Phone, people: World, engine: AsyncEngine) -> None:
    await wang.say("/report")
    await wang.press("毛绒")
    await wang.press("施工中")
    assert "完成了哪些工作" in await wang.say("45")
    assert "施工人数" in await wang.say("今天谁没报")
    draft = await draft_of(engine, people.liaison)
    assert draft is not None and draft["answers"]["work"] == "今天谁没报"


async def test_a_sentence_for_a_command_this_bot_lacks_is_not_understood(
        uow: UnitOfWorkFactory, clock: FixedClock, people: World) -> None:
    without_forms = Phone(Router(uow, clock, translator, "zh-CN"), "1001")
    assert "我还不太明白“我要填报”" in await without_forms.say("我要填报")


async def test_chatter_is_not_understood(router: Router, people: World) -> None:
    assert "/help" in await Phone(router, "1003").say("好的收到")


async def test_sentences_in_a_group_are_ignored(router: Router, people: World) -> None:
    for text in ("今天谁没报", "毛绒文创产业园进度怎么样"):
        event = Incoming.from_text(CHANNEL, "-500", "1003", text)
        assert await router.handle(Incoming(CHANNEL, "-500", "1003", event.kind,
                                            chat_kind=ChatKind.GROUP, text=event.text)) == []
