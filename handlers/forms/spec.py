"""What a form is: its questions in order, and the few hooks where it differs from the others.

The engine (`handlers.forms.engine`) asks, validates, goes back, summarises and confirms the
same way for every form; a form only says which projects it offers, what it checks against
earlier values, and what submitting writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.events import Button, Outgoing
from handlers.context import Context, Texts
from handlers.forms.questions import Choice, Question
from storage.uow import UnitOfWork

CONFIRM = "confirm"


class Refusal(Exception):
    """The form cannot start (or go on) for this person: `key` says why."""

    def __init__(self, key: str, buttons: tuple[tuple[Button, ...], ...] = (),
                 **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.buttons = buttons
        self.values = values


@dataclass(slots=True)
class State:
    """The working copy of a draft while one event is handled."""

    form: str
    step: str
    token: str
    answers: dict[str, Any]
    context: dict[str, Any]
    started_at: datetime

    def answered(self, key: str) -> bool:
        return key in self.answers


@dataclass(frozen=True, slots=True)
class Warning:
    """An answer that may be a slip (lower than last time): asked to confirm, not refused."""

    key: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Submitted:
    messages: list[Outgoing]
    result: Mapping[str, Any] = field(default_factory=dict)


class FormSpec:
    name: str = ""
    questions: tuple[Question, ...] = ()

    def question(self, key: str) -> Question:
        for question in self.questions:
            if question.key == key:
                return question
        raise KeyError(key)

    async def begin(self, ctx: Context, uow: UnitOfWork, args: str,
                    preset: Mapping[str, Any]) -> State:
        """A new state for this person, or `Refusal`."""
        raise NotImplementedError

    async def choices(self, ctx: Context, uow: UnitOfWork, question: Question,
                      state: State) -> tuple[Choice, ...]:
        return question.choices

    async def answered(self, ctx: Context, uow: UnitOfWork, question: Question,
                       state: State) -> None:
        """Called after an answer is taken (the project chosen loads what the form needs)."""

    def check(self, question: Question, value: Any, state: State) -> Warning | None:
        return None

    def subform(self, question: Question, value: Any) -> str | None:
        """The form an answer opens before this one goes on (a problem inside a report)."""
        return None

    def child_done(self, state: State, child: str, result: Mapping[str, Any]) -> None:
        """A form this one opened was submitted; `result` is what it reported back."""

    def prompt_values(self, t: Texts, state: State) -> dict[str, object]:
        return {}

    async def submit(self, ctx: Context, uow: UnitOfWork, state: State) -> Submitted:
        raise NotImplementedError


def applicable(spec: FormSpec, state: State) -> list[Question]:
    return [q for q in spec.questions if q.when(state.answers)]
