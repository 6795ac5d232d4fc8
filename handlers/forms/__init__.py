"""Conversational forms: the daily report, problems, visits and problem updates."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.forms.daily_report import DailyReport
from handlers.forms.problem import ProblemForm
from handlers.forms.problem_reopen import ReopenForm
from handlers.forms.problem_update import ProblemUpdateForm
from handlers.forms.spec import FormSpec
from handlers.forms.visit import VisitForm


def field_forms() -> Mapping[str, FormSpec]:
    """The forms by the command that opens them."""
    forms: list[FormSpec] = [DailyReport(), ProblemForm(), VisitForm(), ProblemUpdateForm(),
                             ReopenForm()]
    return {form.name: form for form in forms}
