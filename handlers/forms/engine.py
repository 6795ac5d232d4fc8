"""One engine for every form: ask, validate, go back, summarise, confirm, submit.

Each event runs in one unit of work: the draft is read (locked where the database can), the
answer is taken, and the draft is written back before the reply goes out, so a restart between
two messages loses nothing. A bad answer changes nothing: the unit of work is not committed and
the same question is asked again with what was expected.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from domain.events import EventKind, Outgoing
from handlers.context import Context
from handlers.forms import render
from handlers.forms.photo_answers import PhotoIntake, take_photos
from handlers.forms.questions import (
    Invalid,
    Kind,
    Question,
    is_done,
    is_skip,
    read_text,
    read_yes_no,
)
from handlers.forms.spec import CONFIRM, FormSpec, Refusal, State, applicable
from storage.repositories.drafts import Draft, DraftKey
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

BUTTON_PREFIX = "f:"
BACK, CANCEL = "back", "cancel"
SKIP, DONE, KEEP, REDO, CLEAR = "~skip", "~done", "~keep", "~redo", "~clear"
OK, EDIT = "~ok", "~edit:"
YES, NO = "~y", "~n"
DEFAULT_TTL = timedelta(hours=24)


class _Stay(Exception):
    """Control flow: the event was taken (a photo, a toggle) and the form stays at its step."""

    def __init__(self, messages: list[Outgoing]) -> None:
        super().__init__()
        self.messages = messages


@dataclass(frozen=True, slots=True)
class Pressed:
    token: str
    step: str
    value: str


def parse_button(data: str) -> Pressed | None:
    if not data.startswith(BUTTON_PREFIX):
        return None
    token, _, rest = data[len(BUTTON_PREFIX):].partition(":")
    step, _, value = rest.partition(":")
    return Pressed(token, step, value)


@dataclass(frozen=True, slots=True)
class FormReply:
    """What the forms make of an event: the whole answer, or None to let a command answer,
    then `after` (the open question again, when a form is waiting)."""

    messages: list[Outgoing] | None
    after: list[Outgoing] = field(default_factory=list)


@dataclass(slots=True)
class Turn:
    """One event meeting one draft: who, in which transaction, which form, where it stands."""

    ctx: Context
    uow: UnitOfWork
    spec: FormSpec
    state: State
    pressed: str | None = None

    @property
    def typed(self) -> str | None:
        event = self.ctx.event
        return event.text if self.pressed is None and event.kind is EventKind.TEXT else None

    async def labels(self, question: Question) -> dict[str, str]:
        choices = await self.spec.choices(self.ctx, self.uow, question, self.state)
        t = self.ctx.t
        return {c.value: c.label if c.literal else t(c.label) for c in choices}

    async def prompt(self) -> list[Outgoing]:
        t, spec, state = self.ctx.t, self.spec, self.state
        if state.step == CONFIRM:
            rows = []
            for question in applicable(spec, state):
                labels = (await self.labels(question)
                          if question.kind in (Kind.CHOICE, Kind.MULTI) else {})
                rows.append((question, state.answers.get(question.key), labels))
            return [render.summary(t, spec, state, rows)]
        question = spec.question(state.step)
        return [render.question(t, spec, state, question, await self.labels(question))]


class Forms:
    """The forms of the bot by command name, run over drafts kept in the database."""

    def __init__(self, specs: Mapping[str, FormSpec], photos: PhotoIntake | None = None, *,
                 ttl: timedelta = DEFAULT_TTL) -> None:
        self._specs = specs
        self._photos = photos
        self._ttl = ttl

    def opens(self, command: str) -> bool:
        return command in self._specs

    @staticmethod
    def key(ctx: Context) -> DraftKey:
        return DraftKey(ctx.person.id, ctx.event.channel, ctx.event.chat_id)

    async def handle(self, ctx: Context) -> FormReply:
        """The reply when the event belongs to a form; otherwise what follows a command's."""
        event = ctx.event
        command = event.command if event.kind is EventKind.COMMAND else None
        async with ctx.uow() as uow:
            draft, notes = await self._load(ctx, uow)
            if command in self._specs:
                if draft is not None:
                    busy = Outgoing(text=ctx.t("form.busy", form=ctx.t(f"form.{draft.form}")))
                    return FormReply([*notes, busy, *await self._turn(ctx, uow, draft).prompt()])
                return FormReply(
                    [*notes, *await self._start(ctx, uow, event.command, event.args, {})])
            if draft is None:
                return FormReply(self._without_draft(ctx, notes))
            if command is not None and command not in (BACK, CANCEL):
                return FormReply(None, after=await self._turn(ctx, uow, draft).prompt())
            return FormReply([*notes, *await self._step(self._turn(ctx, uow, draft))])

    def _turn(self, ctx: Context, uow: UnitOfWork, draft: Draft) -> Turn:
        state = State(draft.form, draft.step, draft.token, dict(draft.answers),
                      dict(draft.context), draft.started_at)
        return Turn(ctx, uow, self._specs[draft.form], state)

    async def _load(self, ctx: Context, uow: UnitOfWork) -> tuple[Draft | None, list[Outgoing]]:
        draft = await uow.drafts.get(self.key(ctx))
        if draft is None or draft.expires_at > ctx.clock.now():
            return draft, []
        await uow.drafts.drop(self.key(ctx))
        await uow.commit()
        logger.info("form %s of person %s expired", draft.form, ctx.person.id)
        started = draft.started_at.astimezone(ctx.clock.zone).date()
        return None, [Outgoing(text=ctx.t("form.expired", form=ctx.t(f"form.{draft.form}"),
                                          started=ctx.t.short_date(started)))]

    def _without_draft(self, ctx: Context, notes: list[Outgoing]) -> list[Outgoing] | None:
        event = ctx.event
        if event.kind is EventKind.COMMAND and event.command in (BACK, CANCEL):
            return [*notes, Outgoing(text=ctx.t("form.none_open"))]
        if event.kind is EventKind.BUTTON and parse_button(event.button_data):
            return [*notes, Outgoing(text=ctx.t("form.stale_button"), refusal=True)]
        if event.kind is EventKind.PHOTO:
            return [*notes, Outgoing(text=ctx.t("form.photo_without_form"))]
        return notes or None

    async def _start(self, ctx: Context, uow: UnitOfWork, form: str, args: str,
                     preset: Mapping[str, Any]) -> list[Outgoing]:
        spec = self._specs[form]
        try:
            state = await spec.begin(ctx, uow, args, preset)
            for question in spec.questions:
                if question.key in state.answers:
                    await spec.answered(ctx, uow, question, state)
        except Refusal as refusal:
            return [Outgoing(text=ctx.t(refusal.key, **refusal.values), buttons=refusal.buttons)]
        state.token = secrets.token_hex(4)
        if "parent" in preset:
            state.context["parent"] = preset["parent"]
        turn = Turn(ctx, uow, spec, state)
        state.step = await self._next(turn, after=None) or CONFIRM
        await self._save(turn)
        logger.info("form %s started by person %s", form, ctx.person.id)
        return await turn.prompt()

    async def _step(self, turn: Turn) -> list[Outgoing]:
        event, state = turn.ctx.event, turn.state
        if event.kind is EventKind.COMMAND:
            return await (self._cancel(turn) if event.command == CANCEL else self._back(turn))
        if event.kind is EventKind.BUTTON:
            pressed = parse_button(event.button_data)
            if pressed is None or pressed.token != state.token or pressed.step != state.step:
                stale = Outgoing(text=turn.ctx.t("form.stale_button"), refusal=True)
                return [stale, *await turn.prompt()]
            turn.pressed = pressed.value
        try:
            if state.step == CONFIRM:
                return await self._confirm(turn)
            return await self._answer(turn)
        except Invalid as invalid:
            logger.info("form %s: answer to %s refused (%s)", state.form, state.step, invalid.key)
            refused = Outgoing(text=turn.ctx.t(invalid.key, **invalid.values))
            return [refused, *await turn.prompt()]
        except _Stay as stay:
            await self._save(turn)
            return stay.messages

    async def _answer(self, turn: Turn) -> list[Outgoing]:
        spec, state = turn.spec, turn.state
        question = spec.question(state.step)
        if await self._pending_confirmed(turn):
            value = state.context.pop("pending")
        else:
            value = await self._value(turn, question)
            if turn.pressed != KEEP and (warning := spec.check(question, value, state)):
                state.context["pending"] = value
                shown = render.value_text(turn.ctx.t, question, value,
                                          await turn.labels(question))
                raise _Stay([render.warning(turn.ctx.t, state, warning, shown)])
        state.answers[question.key] = value
        await spec.answered(turn.ctx, turn.uow, question, state)
        if (child := spec.subform(question, value)) is not None:
            return await self._open_child(turn, child)
        state.step = await self._next(turn, after=state.step) or CONFIRM
        if state.step == CONFIRM:
            state.context["review"] = True
        await self._save(turn)
        return await turn.prompt()

    async def _pending_confirmed(self, turn: Turn) -> bool:
        """Whether a doubtful answer waiting for confirmation is now confirmed.

        "No" asks the question again; a new answer replaces the doubtful one.
        """
        context = turn.state.context
        if "pending" not in context:
            return False
        typed = read_yes_no(turn.typed) if turn.typed is not None else None
        if turn.pressed == KEEP or typed is True:
            return True
        context.pop("pending")
        if turn.pressed == REDO or typed is False:
            raise _Stay(await turn.prompt())
        return False

    async def _value(self, turn: Turn, question: Question) -> Any:
        """The answer the event gives to `question`, or `Invalid`, or `_Stay` (photos)."""
        answers = turn.state.answers
        if turn.pressed == KEEP and question.key in answers:
            return answers[question.key]
        if question.kind is Kind.PHOTOS:
            return await self._photos_answer(turn, question)
        if turn.pressed == SKIP or (turn.typed is not None and is_skip(turn.typed)
                                    and question.kind is not Kind.YES_NO):
            if question.is_required(answers):
                raise Invalid("form.required")
            return None
        return await self._given(turn, question)

    async def _given(self, turn: Turn, question: Question) -> Any:
        event, pressed = turn.ctx.event, turn.pressed
        if question.kind is Kind.LOCATION:
            if event.location is None:
                raise Invalid("form.location_expected")
            return [event.location.lat, event.location.lon]
        if event.kind is not EventKind.TEXT and pressed is None:
            raise Invalid("form.photo_unexpected" if event.kind is EventKind.PHOTO
                          else "form.location_unexpected")
        if question.kind in (Kind.CHOICE, Kind.MULTI):
            return await self._choice_answer(turn, question)
        if pressed is not None:
            return _pressed_value(question, pressed, turn.ctx.today)
        return read_text(question, event.text, turn.ctx.today)

    async def _photos_answer(self, turn: Turn, question: Question) -> Any:
        ctx, state, pressed = turn.ctx, turn.state, turn.pressed
        have = state.answers.get(question.key) or []
        if ctx.event.kind is EventKind.PHOTO:
            if self._photos is None:
                raise Invalid("form.photos_unavailable")
            added = await take_photos(self._photos, turn.uow, question, state,
                                      ctx.event.attachments, person_id=ctx.person.id,
                                      now=ctx.clock.now())
            raise _Stay([render.photos_taken(ctx.t, state, question, added)])
        if pressed == CLEAR:
            state.answers.pop(question.key, None)
            raise _Stay(await turn.prompt())
        if pressed in (DONE, SKIP) or (turn.typed is not None
                                       and (is_done(turn.typed) or is_skip(turn.typed))):
            needed = question.photos_needed(state.answers)
            if len(have) < needed:
                raise Invalid("form.photos_need", min=needed, have=len(have))
            return list(have)
        raise Invalid("form.photos_expected")

    async def _choice_answer(self, turn: Turn, question: Question) -> Any:
        labels = await turn.labels(question)
        if question.kind is Kind.MULTI:
            return await _multi_answer(turn, question, labels)
        if turn.pressed is not None:
            if turn.pressed not in labels:
                raise Invalid("form.choice_expected")
            return turn.pressed
        return render.match_choice(turn.ctx.event.text, labels)

    async def _next(self, turn: Turn, after: str | None) -> str | None:
        """The next question to ask, answering on its own any that has a single choice.

        Going forward asks every question in turn; once the summary has been reached (or the
        answers came pre-filled from last time) only the unanswered ones are asked.
        """
        spec, state = turn.spec, turn.state
        questions = applicable(spec, state)
        keys = [q.key for q in questions]
        review = bool(state.context.get("review"))
        start = 0 if review or after not in keys else keys.index(after) + 1
        auto = state.context.setdefault("auto", [])
        for question in questions[start:]:
            if question.key in auto or (review and question.key in state.answers):
                continue
            if question.kind is Kind.CHOICE:
                choices = await spec.choices(turn.ctx, turn.uow, question, state)
                if len(choices) == 1:
                    state.answers[question.key] = choices[0].value
                    auto.append(question.key)
                    await spec.answered(turn.ctx, turn.uow, question, state)
                    continue
            return question.key
        return None

    async def _back(self, turn: Turn) -> list[Outgoing]:
        state = turn.state
        auto = set(state.context.get("auto", []))
        keys = [q.key for q in applicable(turn.spec, state) if q.key not in auto]
        index = keys.index(state.step) if state.step in keys else len(keys)
        state.context.pop("pending", None)
        if index == 0:
            return [Outgoing(text=turn.ctx.t("form.at_first")), *await turn.prompt()]
        state.step = keys[index - 1]
        state.context["review"] = False
        await self._save(turn)
        return await turn.prompt()

    async def _cancel(self, turn: Turn) -> list[Outgoing]:
        ctx, state = turn.ctx, turn.state
        cancelled = Outgoing(text=ctx.t("form.cancelled", form=ctx.t(f"form.{state.form}")))
        logger.info("form %s cancelled by person %s", state.form, ctx.person.id)
        return [cancelled, *await self._return_to_parent(turn)]

    async def _return_to_parent(self, turn: Turn, result: Mapping[str, Any] | None = None,
                                ) -> list[Outgoing]:
        """Close this form; a form that opened it takes over where it left off."""
        parent = turn.state.context.get("parent")
        if parent is None:
            await turn.uow.drafts.drop(self.key(turn.ctx))
            await turn.uow.commit()
            return []
        restored = State(parent["form"], parent["step"], parent["token"],
                         dict(parent["answers"]), dict(parent["context"]),
                         datetime.fromisoformat(parent["started_at"]))
        outer = Turn(turn.ctx, turn.uow, self._specs[restored.form], restored)
        if result is not None:
            outer.spec.child_done(restored, turn.state.form, result)
        await self._save(outer)
        return await outer.prompt()

    async def _confirm(self, turn: Turn) -> list[Outgoing]:
        ctx, spec, state, pressed = turn.ctx, turn.spec, turn.state, turn.pressed
        if pressed is not None and pressed.startswith(EDIT):
            key = pressed[len(EDIT):]
            if key not in {q.key for q in applicable(spec, state)}:
                raise Invalid("form.confirm_expected")
            state.step = key
            await self._save(turn)
            return await turn.prompt()
        if pressed == CANCEL or (turn.typed or "").strip().casefold() in ("取消", "cancel"):
            return await self._cancel(turn)
        if not (pressed == OK or (turn.typed is not None and read_yes_no(turn.typed))):
            raise Invalid("form.confirm_expected")
        if (missing := _incomplete(spec, state)) is not None:
            state.step = missing.key
            await self._save(turn)
            return [Outgoing(text=ctx.t("form.incomplete", label=ctx.t(missing.label))),
                    *await turn.prompt()]
        submitted = await spec.submit(ctx, turn.uow, state)
        logger.info("form %s submitted by person %s", state.form, ctx.person.id)
        return [*submitted.messages, *await self._return_to_parent(turn, submitted.result)]

    async def _open_child(self, turn: Turn, child: str) -> list[Outgoing]:
        """Open `child` on the same project; the parent waits inside the child's draft."""
        state = turn.state
        answers = {k: v for k, v in state.answers.items() if k != state.step}
        parent = {"form": state.form, "step": state.step, "token": state.token,
                  "answers": answers, "context": state.context,
                  "started_at": state.started_at.isoformat()}
        preset = {"project_id": state.context.get("project_id"), "parent": parent}
        return await self._start(turn.ctx, turn.uow, child, "", preset)

    async def _save(self, turn: Turn) -> None:
        now, state = turn.ctx.clock.now(), turn.state
        await turn.uow.drafts.put(self.key(turn.ctx), Draft(
            form=state.form, step=state.step, token=state.token, answers=state.answers,
            context=state.context, started_at=state.started_at, updated_at=now,
            expires_at=now + self._ttl))
        await turn.uow.commit()


def _incomplete(spec: FormSpec, state: State) -> Question | None:
    """The first question an edit left unanswered (a site now working needs its photo)."""
    for question in applicable(spec, state):
        value = state.answers.get(question.key)
        if question.kind is Kind.PHOTOS:
            if len(value or []) < question.photos_needed(state.answers):
                return question
        elif question.key not in state.answers or (value is None
                                                    and question.is_required(state.answers)):
            return question
    return None


def _pressed_value(question: Question, pressed: str, today: date) -> Any:
    if question.kind is Kind.YES_NO and pressed in (YES, NO):
        return pressed == YES
    if question.kind is Kind.DATE:
        return read_text(question, pressed, today)
    raise Invalid("form.stale_button")


async def _multi_answer(turn: Turn, question: Question, labels: dict[str, str]) -> Any:
    """Buttons toggle an option and `done` ends; typed text lists the options at once."""
    state, pressed = turn.state, turn.pressed
    chosen: list[str] = list(state.context.get("multi", {}).get(question.key, []))
    if pressed == DONE or (turn.typed is not None and is_done(turn.typed)):
        if not chosen and question.is_required(state.answers):
            raise Invalid("form.multi_need")
        state.context.pop("multi", None)
        return chosen
    if pressed is not None:
        if pressed not in labels:
            raise Invalid("form.choice_expected")
        chosen = [v for v in chosen if v != pressed] if pressed in chosen else [*chosen, pressed]
        state.context.setdefault("multi", {})[question.key] = chosen
        raise _Stay([render.question(turn.ctx.t, turn.spec, state, question, labels)])
    return render.match_choices(turn.ctx.event.text, labels)
