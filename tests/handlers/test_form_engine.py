"""The engine on a form of its own: the question kinds no field form uses yet (multi-choice)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import translator
from domain.clock import FixedClock
from domain.events import Outgoing
from handlers.context import Context
from handlers.forms.engine import Forms
from handlers.forms.questions import Choice, Kind, Question
from handlers.forms.spec import FormSpec, State, Submitted
from handlers.router import Router
from storage.uow import UnitOfWork, UnitOfWorkFactory
from tests.handlers.phone import Phone, draft_of
from tests.world import World

SUBMITTED: list[dict[str, Any]] = []


class Inspection(FormSpec):
    """Which utilities were checked (several), and when."""

    name = "report"  # opened by /report, so the catalogue has its title
    questions = (
        Question("category", Kind.MULTI, choices=(
            Choice("land", "problem.land"), Choice("funds", "problem.funds"),
            Choice("utilities", "problem.utilities"))),
        Question("visit_date", Kind.DATE),
    )

    async def begin(self, ctx: Context, uow: UnitOfWork, args: str,
                    preset: Mapping[str, Any]) -> State:
        return State(self.name, "", "", {}, {}, ctx.clock.now())

    async def submit(self, ctx: Context, uow: UnitOfWork, state: State) -> Submitted:
        SUBMITTED.append(dict(state.answers))
        return Submitted([Outgoing(text="ok")])


async def test_multi_choice_by_buttons_and_by_typing(
        uow: UnitOfWorkFactory, clock: FixedClock, world: World, engine: AsyncEngine) -> None:
    async with uow() as u:
        await u.people.bind_identity(world.liaison, "test", "1001", clock.now())
        await u.commit()
    phone = Phone(Router(uow, clock, translator, "zh-CN",
                         forms=Forms({"report": Inspection()})), "1001")
    await phone.say("/report")
    assert "请至少选择一项" in await phone.press("完成")
    await phone.press("用地")
    await phone.press("资金")
    await phone.press("✓ 用地")  # pressed again: off
    assert [b.label for b in phone.buttons][:3] == ["用地", "✓ 资金", "水电气讯"]
    draft = await draft_of(engine, world.liaison)
    assert draft is not None and draft["context"]["multi"] == {"category": ["funds"]}
    await phone.press("完成")
    await phone.say("/back")
    await phone.say("用地、水电气讯")  # typed: both at once
    await phone.say("11月20日")
    assert "用地、水电气讯" in phone.text and "2026年11月20日" in phone.text
    await phone.press("确认提交")
    assert SUBMITTED[-1] == {"category": ["land", "utilities"],
                             "visit_date": date(2026, 11, 20).isoformat()}
