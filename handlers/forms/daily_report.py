"""`/report`: the daily report (日报), the form a liaison fills every day.

Most days barely differ from yesterday, so when an earlier report exists the site-status
question offers "same as last time except …": every answer is filled in from that report and
only the photos (new every day) are asked before the summary, where anything can be changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain.events import Outgoing
from domain.model import ProjectSummary, SiteStatus
from handlers.context import Context, Texts
from handlers.forms.projects import PROJECT, ProjectForm
from handlers.forms.questions import Answers, Choice, Kind, Question, Unit
from handlers.forms.spec import State, Submitted, Warning
from storage.repositories.attachments import AttachedPhoto
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWork

SAME = "~same"
MAX_WORKERS = Decimal(100_000)
MAX_INVESTMENT = Decimal(100_000_000)  # 万元: a trillion yuan, beyond any county project


def working(answers: Answers) -> bool:
    return answers.get("status") == SiteStatus.WORKING.value


def stopped(answers: Answers) -> bool:
    return answers.get("status") == SiteStatus.STOPPED.value


def photos_needed(answers: Answers) -> int:
    return 1 if working(answers) else 0


STATUSES = tuple(Choice(s.value, f"site.{s.value}") for s in SiteStatus)


class DailyReport(ProjectForm):
    name = "report"
    questions = (
        PROJECT,
        Question("status", Kind.CHOICE, choices=STATUSES),
        Question("stop_reason", Kind.TEXT, when=stopped, min_length=2, max_length=200),
        Question("progress", Kind.NUMBER, unit=Unit.PERCENT, maximum=Decimal(100)),
        Question("work", Kind.TEXT, required=working, min_length=2, max_length=1000),
        Question("workers", Kind.NUMBER, unit=Unit.COUNT, when=working, maximum=MAX_WORKERS),
        Question("ytd", Kind.NUMBER, unit=Unit.MONEY_WAN, required=False,
                 maximum=MAX_INVESTMENT),
        Question("photos", Kind.PHOTOS, min_photos=photos_needed, max_photos=9),
        Question("location", Kind.LOCATION, required=False),
        Question("any_problem", Kind.YES_NO),
    )

    async def projects(self, ctx: Context, uow: UnitOfWork) -> list[ProjectSummary]:
        """Only the projects the person is liaison for: a report is theirs to file."""
        return await uow.projects.of_liaison(ctx.person.id, ctx.today.year)

    async def choices(self, ctx: Context, uow: UnitOfWork, question: Question,
                      state: State) -> tuple[Choice, ...]:
        if question.key == "status" and "last" in state.context:
            return (Choice(SAME, "report.same_as_last"), *STATUSES)
        return await super().choices(ctx, uow, question, state)

    async def answered(self, ctx: Context, uow: UnitOfWork, question: Question,
                       state: State) -> None:
        if question.key == "project":
            await super().answered(ctx, uow, question, state)
            last = await uow.reports.last_before(state.context["project_id"], ctx.today)
            state.context.pop("last", None)
            if last is not None:
                state.context["last"] = {
                    "date": last.report_date.isoformat(), "today": last.report_date == ctx.today,
                    "version": last.version, "status": last.site_status.value,
                    "stop_reason": last.stop_reason, "progress": str(last.progress_pct),
                    "work": last.work_done or None, "workers": last.workers,
                    "ytd": None if last.ytd_investment is None else str(last.ytd_investment)}
        elif question.key == "status" and state.answers["status"] == SAME:
            last = state.context["last"]
            for key in ("status", "stop_reason", "progress", "work", "ytd"):
                state.answers[key] = last[key]
            if last["status"] == SiteStatus.WORKING.value:
                state.answers["workers"] = last["workers"]
            state.context["review"] = True

    def check(self, question: Question, value: Any, state: State) -> Warning | None:
        last = state.context.get("last")
        if last is None or value is None or question.key not in ("progress", "ytd"):
            return None
        before = last[question.key]
        if before is not None and Decimal(value) < Decimal(before):
            return Warning(f"report.{question.key}_lower", {"before": before})
        return None

    def subform(self, question: Question, value: Any) -> str | None:
        return "problem" if question.key == "any_problem" and value is True else None

    def child_done(self, state: State, child: str, result: Mapping[str, Any]) -> None:
        state.context.setdefault("problems", []).append(result["problem_id"])
        state.context.setdefault("notes", []).append(result["note"])

    def prompt_values(self, t: Texts, state: State) -> dict[str, object]:
        last = state.context.get("last")
        if last is None:
            return {"last": ""}
        shown = {"progress": last["progress"], "ytd": last["ytd"] or "—",
                 "date": last["date"][5:], "filed": len(state.context.get("problems", []))}
        if last["today"]:
            return {"last": t("report.amends_today", version=last["version"]), **shown}
        return {"last": t("report.last_values", **shown), **shown}

    async def submit(self, ctx: Context, uow: UnitOfWork, state: State) -> Submitted:
        a = state.answers
        location = a.get("location")
        report = ReportInput(
            project_id=int(a["project"]), report_date=ctx.today, reporter_id=ctx.person.id,
            site_status=SiteStatus(a["status"]), progress_pct=Decimal(a["progress"]),
            work_done=a.get("work") or "", workers=int(a.get("workers") or 0) if working(a) else 0,
            ytd_investment=None if a.get("ytd") is None else Decimal(a["ytd"]),
            stop_reason=a.get("stop_reason") if stopped(a) else None,
            lat=location[0] if location else None, lon=location[1] if location else None,
            photos=[AttachedPhoto(p["id"], tuple(p["flags"])) for p in a.get("photos") or []])
        report_id, version = await uow.reports.save(report, ctx.clock.now())
        await uow.problems.link_report(state.context.get("problems", []), report_id)
        key = "report.saved" if version == 1 else "report.amended"
        return Submitted([Outgoing(text=ctx.t(key, project=state.context["project_name"],
                                              date=ctx.t.short_date(ctx.today), version=version))],
                         {"report_id": report_id})
