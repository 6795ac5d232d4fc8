"""How a form reads in a chat: one question per message, buttons where choices exist, and the
summary with a button to change each answer before confirming."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from domain.events import Button, Outgoing
from handlers.context import Texts
from handlers.forms.questions import Invalid, Kind, Question, Unit
from handlers.forms.spec import CONFIRM, FormSpec, State, Warning, applicable

ROW = 2
TYPED = frozenset({Kind.NUMBER, Kind.TEXT, Kind.DATE})
SUMMARY_TEXT = 40


def data(state: State, value: str) -> str:
    """Button data: the draft's token and step guard against a press on an old message."""
    return f"f:{state.token}:{state.step}:{value}"


def header(t: Texts, spec: FormSpec, state: State) -> str:
    keys = [q.key for q in applicable(spec, state) if q.key not in state.context.get("auto", [])]
    form = t(f"form.{state.form}")
    if project := state.context.get("project_name"):
        form = t("form.title", form=form, project=project)
    if state.step == CONFIRM or state.step not in keys:
        return t("form.header_summary", form=form)
    return t("form.header", form=form, n=keys.index(state.step) + 1, total=len(keys))


def _rows(buttons: Sequence[Button], width: int = ROW) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i:i + width]) for i in range(0, len(buttons), width))


def question(t: Texts, spec: FormSpec, state: State, q: Question,
             labels: Mapping[str, str]) -> Outgoing:
    lines = [header(t, spec, state), t(q.prompt, **spec.prompt_values(t, state))]
    buttons: list[Button] = []
    wide: list[Button] = []
    if q.kind is Kind.CHOICE:
        buttons = [Button(label, data(state, value)) for value, label in labels.items()]
    elif q.kind is Kind.MULTI:
        chosen = state.context.get("multi", {}).get(q.key, [])
        buttons = [Button(("✓ " if value in chosen else "") + label, data(state, value))
                   for value, label in labels.items()]
        wide.append(Button(t("form.button.done"), data(state, "~done")))
    elif q.kind is Kind.YES_NO:
        buttons = [Button(t("form.button.yes"), data(state, "~y")),
                   Button(t("form.button.no"), data(state, "~n"))]
    elif q.kind is Kind.DATE:
        buttons = [Button(t("form.button.today"), data(state, "今天")),
                   Button(t("form.button.yesterday"), data(state, "昨天"))]
    elif q.kind is Kind.PHOTOS:
        have = len(state.answers.get(q.key) or [])
        needed = q.photos_needed(state.answers)
        rule = "form.photos_rule" if needed else "form.photos_rule_optional"
        lines.append(t(rule, min=needed, max=q.max_photos, have=have))
        wide.append(Button(t("form.button.done"), data(state, "~done")))
        if have:
            wide.append(Button(t("form.button.clear_photos"), data(state, "~clear")))
    if q.key in state.answers and q.kind is not Kind.PHOTOS:
        lines.append(t("form.current", value=value_text(t, q, state.answers[q.key], labels)))
        wide.append(Button(t("form.button.keep"), data(state, "~keep")))
    if not q.is_required(state.answers) and q.kind is not Kind.PHOTOS:
        wide.append(Button(t("form.button.skip"), data(state, "~skip")))
    lines.append(t("form.navigation"))
    width = 1 if q.key == "project" else ROW
    return Outgoing(text="\n".join(lines), buttons=_rows(buttons, width) + _rows(wide),
                    expects_text=q.kind in TYPED)


def warning(t: Texts, state: State, found: Warning, shown: str) -> Outgoing:
    return Outgoing(text=t(found.key, value=shown, **found.values), buttons=(
        (Button(t("form.button.confirm_value", value=shown), data(state, "~keep")),),
        (Button(t("form.button.redo"), data(state, "~redo")),)))


def photos_taken(t: Texts, state: State, q: Question, added: list[dict[str, Any]]) -> Outgoing:
    have = len(state.answers.get(q.key) or [])
    lines = [t("form.photos_taken", count=len(added), have=have, max=q.max_photos)]
    for flag in sorted({f for photo in added for f in photo["flags"]}):
        lines.append(t(f"form.photo_flag.{flag}"))
    buttons = (Button(t("form.button.done"), data(state, "~done")),)
    return Outgoing(text="\n".join(lines), buttons=(buttons,))


def summary(t: Texts, spec: FormSpec, state: State,
            rows: Sequence[tuple[Question, Any, Mapping[str, str]]]) -> Outgoing:
    lines = [header(t, spec, state)]
    edits: list[Button] = []
    auto = state.context.get("auto", [])
    for q, value, labels in rows:
        lines.append(t("form.summary_line", label=t(q.label),
                       value=value_text(t, q, value, labels, short=True)))
        if q.key not in auto:
            edits.append(Button(t("form.button.edit", label=t(q.label)),
                                data(state, f"~edit:{q.key}")))
    lines.extend(t("form.summary_extra", text=extra) for extra in state.context.get("notes", []))
    lines.append(t("form.summary_confirm"))
    return Outgoing(text="\n".join(lines), buttons=(
        (Button(t("form.button.submit"), data(state, "~ok")),), *_rows(edits, 3),
        (Button(t("form.button.cancel"), data(state, "cancel")),)))


def _photos_text(t: Texts, value: list[dict[str, Any]]) -> str:
    flagged = sum(1 for photo in value if photo["flags"])
    return t("form.value.photos", count=len(value)) + (
        t("form.value.photos_flagged", count=flagged) if flagged else "")


_SHOWN: dict[Kind, Callable[[Texts, Question, Any, Mapping[str, str]], str]] = {
    Kind.CHOICE: lambda t, q, v, labels: labels.get(v, str(v)),
    Kind.MULTI: lambda t, q, v, labels: t("format.list_separator").join(
        labels.get(x, x) for x in v),
    Kind.YES_NO: lambda t, q, v, labels: t("form.button.yes") if v else t("form.button.no"),
    Kind.NUMBER: lambda t, q, v, labels: t(f"form.value.{q.unit or Unit.COUNT}",
                                           value=t.number(Decimal(v))),
    Kind.DATE: lambda t, q, v, labels: t.full_date(date.fromisoformat(v)),
    Kind.PHOTOS: lambda t, q, v, labels: _photos_text(t, v),
    Kind.LOCATION: lambda t, q, v, labels: t("form.value.location", lat=f"{v[0]:.5f}",
                                             lon=f"{v[1]:.5f}"),
}


def value_text(t: Texts, q: Question, value: Any, labels: Mapping[str, str], *,
               short: bool = False) -> str:
    if value is None or value == []:
        return t("form.value.none")
    if (shown := _SHOWN.get(q.kind)) is not None:
        return shown(t, q, value, labels)
    text = str(value)
    return text if not short or len(text) <= SUMMARY_TEXT else text[:SUMMARY_TEXT] + "…"


def match_choice(text: str, labels: Mapping[str, str]) -> str:
    """The option a typed reply names: its label or value, or a unique part of a label."""
    needle = text.strip().casefold()
    if not needle:
        raise Invalid("form.choice_expected")
    for value, label in labels.items():
        if needle in (label.casefold(), value.casefold()):
            return value
    partial = [value for value, label in labels.items() if needle in label.casefold()]
    if len(partial) == 1:
        return partial[0]
    raise Invalid("form.choice_ambiguous" if partial else "form.choice_expected")


def match_choices(text: str, labels: Mapping[str, str]) -> list[str]:
    parts = [p for p in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(",")
             if p.strip()]
    if not parts:
        raise Invalid("form.choice_expected")
    return list(dict.fromkeys(match_choice(part, labels) for part in parts))
