"""Plain Chinese sentences that mean a command: "毛绒文创产业园进度怎么样" is
`/status 毛绒文创产业园`, "今天谁没报" is `/overdue`, "我要填报" opens the daily report.

Rules, not a model. Each rule is a whole-sentence pattern, so a sentence that merely contains a
keyword ("我有个问题想问一下") is not taken for a command; the text is normalised first:
full-width to half-width, spaces and punctuation dropped, politeness in front ("请", "帮我",
"麻烦") and particles at the end ("吗", "呢", "吧") taken off. No project name is in the rules:
the status rule takes the question off the sentence ("进度怎么样", "到哪一步了", "情况") and
leaves the rest to the lookup index.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

MAX_TEXT = 40
"""Longer texts are messages to people, not questions to the bot."""
MAX_NAME = 30


def _any(words: str) -> str:
    """"a b c" → "(?:a|b|c)", longer alternatives first."""
    return "(?:" + "|".join(sorted(words.split(), key=len, reverse=True)) + ")"


ASK = _any("查一下 查一查 查查 查询 查看 查 看一下 看一看 看看 看 了解一下 问一下 问问 告诉我 "
           "说说 显示 列出 打开") + "?"
HOW = _any("怎么样 如何 咋样 怎样 有哪些 有什么 是什么 有多少 多少") + "?了?"
POLITE = re.compile("^" + _any("请问 请 帮我 帮忙 麻烦你 麻烦您 麻烦 劳驾 你好 您好 喂 我想要 "
                               "我想 我要 给我 能不能 能否 可不可以 可以"))
PARTICLES = re.compile(_any("吗 呢 吧 啊 呀 哈 嘛 哦 啦 谢谢 谢了 多谢") + "$")
PUNCTUATION = re.compile(r"[\s,，。.!！?？~～、;；:：…\"“”'‘’`·]+")


@dataclass(frozen=True, slots=True)
class Intent:
    """A command as if typed: `command` without its slash, `args` after it."""

    command: str
    args: str = ""


def normalise(text: str) -> str:
    """"  请帮我查一下ＨＢ－００１。" → "查一下HB-001"."""
    text = PUNCTUATION.sub("", unicodedata.normalize("NFKC", text))
    while True:
        shorter = PARTICLES.sub("", POLITE.sub("", text))
        if shorter == text:
            return text
        text = shorter


Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], Intent]]


def _rule(pattern: str, command: str, args: str = "") -> Rule:
    return re.compile(f"{ASK}(?:{pattern}){HOW}"), lambda _: Intent(command, args)


def _ranking(match: re.Match[str]) -> Intent:
    period = match["period"] or ""
    return Intent("ranking", "quarter" if "季" in period else "month" if "月" in period else "")


TODAY = _any("今天的? 今日的?") + "?"
NOT_REPORTED = (_any("没有 没 未") + _any("填报 上报 报送 提交 填写 填 报 交 写") + TODAY
                + _any("日报 进度") + "?")
WHO = _any("谁 哪些人 哪些项目 哪个项目 哪几个项目 哪些 哪个 几个项目 多少个项目 多少项目 多少人")
UNSOLVED = _any("未解决 没解决 还没解决 待解决 尚未解决 未销号 未办结 没办结 在办")
LETTER = _any("函件 函 督办函 交办函 提醒函 三函")
PERIOD = _any("本月 这个月 这月 当月 上月 上个月 月度 "
              "本季 本季度 这个季度 这季度 上季度 上个季度 季度")
RULES: tuple[Rule, ...] = (
    _rule(_any("帮助 使用帮助 使用说明 说明 说明书 用法 怎么用 如何使用 怎么使用 怎样使用 "
               "这个怎么用 你能做什么 能做什么 你会什么 可以做什么 有什么功能 有哪些功能 "
               "功能列表 功能 命令列表 命令 指令 菜单 help"), "help"),
    _rule(_any("今天 今日 昨天") + "?还?有?" + WHO + "还?" + NOT_REPORTED, "overdue"),
    _rule(TODAY + _any("未报 没报 漏报 缺报 未填报 未上报") + "(?:日报)?的?"
          + _any("项目 人员") + "?" + _any("清单 名单 情况 列表"), "overdue"),
    _rule("(?:我的项目|我" + _any("负责 联系 包抓 牵头 分管 管理 管 跟踪") + "的?(?:哪些|几个)?项目"
          + "|我有(?:哪些|几个)项目)" + _any("列表 清单") + "?(?:的?(?:进度|进展|情况))?", "my"),
    _rule(_any("我的 我提的 我报的 我反映的 我上报的 我登记的 交给我的") + "问题(?:清单|列表)?",
          "problems", "mine"),
    _rule(_any("我们 我 本 咱们 咱") + "?(?:单位|部门)的?问题(?:清单|列表)?", "problems", "unit"),
    _rule("(?:现在|目前)?还?有?" + _any("哪些 什么 多少 几个") + "问题还?(?:没有?|未)"
          + _any("解决 办结 销号 处理 落实"), "problems", "open"),
    _rule("(?:所有|全部)?的?" + UNSOLVED + "的?问题(?:清单|列表)?", "problems", "open"),
    _rule("问题(?:清单|列表|台账)", "problems", "open"),
    _rule(_any("有没有 有无 还有 是否有") + "?" + _any("要 需要 待 未 没 没有 还没") + "签收的?"
          + LETTER + "?", "letters", "open"),
    _rule("(?:有没有|有无)?" + _any("我的 我们的 本单位的 单位的 单位") + "?" + LETTER
          + "(?:清单|列表)?", "letters"),
    (re.compile(ASK + f"(?P<period>{PERIOD})?的?" + _any("排名 排行 排行榜 排位 名次") + "(?:情况)?"
                + HOW), _ranking),
    _rule(_any("今天的 今天 今日的 今日 本周的 本周 这周的 这周 这一周的 上周的 每日 每周") + "?"
          + _any("日报汇总 汇总情况 汇总 周报 简报 小结"), "digest"),
    _rule(_any("今天 今日") + _any("报了 填报了 交了") + "多少", "digest"),
    _rule(_any("我来 要 现在 开始 马上 去") + "?" + _any("填报 填写 填 写 报 提交 上报 交")
          + "(?:一下)?" + TODAY + _any("日报 进度"), "report"),
    _rule("(?:我来|现在|开始)?填报(?:日报)?|日报填报", "report"),
)

# The status question around a project name. Strong endings ask about progress whatever the
# name; weak ones ("情况", "怎么样") only follow something that reads like a project.
HOW_FAR = _any("怎么样 如何 咋样 怎样 到哪了 到哪儿了 到哪里了 多少 是多少")
STRONG = ("(?:形象)?(?:进度|进展)(?:情况)?" + HOW_FAR + "?了?"
          "|" + _any("到 干到 建到 进展到 推进到 做到 走到")
          + _any("哪一步 哪步 哪儿 哪里 哪 什么程度 什么阶段 啥程度 哪个阶段") + "了?"
          "|" + _any("开工 完工 竣工 投产 动工") + "了(?:没有?)?"
          "|" + _any("建 干 弄 搞 推进 做") + "得?" + _any("怎么样 如何 咋样") + "了?")
WEAK = (_any("情况 现状 状态 近况 最新情况 最新进展") + _any("怎么样 如何 咋样") + "?了?"
        "|" + _any("怎么样 如何 咋样 怎样") + "了?"
        "|有?(?:什么|哪些)?问题")
WHEN = _any("现在 目前 最近 眼下 当前 今天") + "?"
ASKED = re.compile(ASK + "(?P<name>.+?)" + WHEN + f"的?(?:(?P<strong>{STRONG})|(?P<weak>{WEAK}))")
LOOK_UP = re.compile(_any("查一下 查一查 查查 查询 查看 查 看一下 看看 了解一下") + "(?P<name>.+)")
CODE = re.compile(r"[A-Za-z]{1,6}-?\d{1,6}")
PROJECT_WORDS = re.compile(_any("项目 工程 园 厂 中心 基地 学 医院 路 桥 站 场 馆 楼 管网 小区 "
                                "市场 仓 港 城 一期 二期 三期 改造 建设 [A-Za-z]"))
NOT_A_NAME = re.compile("^" + _any("我 你 您 他 她 它 咱 大家 这 那 今天 明天 昨天 天气 身体 谁 哪 "
                                   "什么 怎么"))
AROUND = re.compile("^(?:的|一下|那个|这个)+|(?:的|这个项目|项目)+$")
GENERIC = frozenset({"项目", "工程", "整体", "总体", "全部", "所有"})


def _project_name(raw: str, *, strict: bool) -> str | None:
    """The name part, or None when it cannot be one (a pronoun, too long, or, for `strict`,
    nothing that reads like a project)."""
    name = AROUND.sub("", raw) or raw
    if len(name) < 2 or len(name) > MAX_NAME or NOT_A_NAME.match(name):
        return None
    if name in GENERIC:
        return None
    if strict and not PROJECT_WORDS.search(name):
        return None
    return name


def _status(text: str) -> Intent | None:
    if CODE.fullmatch(text):
        return Intent("status", text)
    if (asked := ASKED.fullmatch(text)) is not None:
        name = _project_name(asked["name"], strict=asked["weak"] is not None)
        return None if name is None else Intent("status", name)
    if (looked := LOOK_UP.fullmatch(text)) is not None:
        name = _project_name(looked["name"], strict=False)
        return None if name is None else Intent("status", name)
    return None


def match_intent(text: str) -> Intent | None:
    """The command a sentence asks for, or None when it is not a question to the bot."""
    normal = normalise(text[:4 * MAX_TEXT])
    if not normal or len(normal) > MAX_TEXT:
        return None
    for pattern, intent in RULES:
        if (found := pattern.fullmatch(normal)) is not None:
            return intent(found)
    return _status(normal)
