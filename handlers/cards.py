"""How a project reads in a chat: one line for lists, a card for `/status`."""

from __future__ import annotations

from domain.model import ProjectStatus, ProjectSummary, ReportView
from domain.progress import completion_pct
from handlers.context import Texts


def light_badge(t: Texts, project: ProjectSummary) -> str:
    return t(f"light.{project.light.value}") if project.light else ""


def report_brief(t: Texts, report: ReportView | None) -> str:
    if report is None:
        return t("report.none")
    return t("report.brief", date=t.short_date(report.report_date),
             status=t(f"site.{report.site_status.value}"),
             progress=t.number(report.progress_pct))


def project_line(t: Texts, index: int, project: ProjectSummary, report: ReportView | None) -> str:
    return t("project.line", index=index, name=project.name, code=project.code,
             stage=t(f"stage.{project.stage.value}"), light=light_badge(t, project),
             last=report_brief(t, report))


def status_card(t: Texts, status: ProjectStatus) -> str:
    p, report = status.project, status.last_report
    lines = [
        t("status.title", name=p.name, code=p.code),
        t("status.stage", stage=t(f"stage.{p.stage.value}"), light=light_badge(t, p),
          region=p.region_name),
        t("status.people", unit=p.unit_name, leader=p.lead_leader_name or t("status.nobody"),
          liaisons=t("format.list_separator").join(p.liaison_names) or t("status.nobody")),
        t("status.investment", total=t.number(p.total_investment)),
    ]
    if p.annual_plan:
        ytd = report.ytd_investment if report else None
        rate = completion_pct(ytd, p.annual_plan) if ytd is not None else None
        lines.append(t("status.plan", plan=t.number(p.annual_plan),
                       ytd=t.number(ytd) if ytd is not None else "—",
                       rate=t.number(rate) if rate is not None else "—"))
    if p.planned_start or p.planned_end:
        lines.append(t("status.dates",
                       start=t.full_date(p.planned_start) if p.planned_start else "—",
                       end=t.full_date(p.planned_end) if p.planned_end else "—"))
    if report is None:
        lines.append(t("status.no_report"))
    else:
        lines.append(t("status.report", date=t.short_date(report.report_date),
                       reporter=report.reporter_name,
                       status=t(f"site.{report.site_status.value}"),
                       progress=t.number(report.progress_pct), workers=report.workers,
                       photos=report.photo_count))
        if report.stop_reason:
            lines.append(t("status.stop_reason", reason=report.stop_reason))
        if report.work_done:
            lines.append(t("status.work_done", text=report.work_done))
    if status.open_problems:
        lines.append(t("status.problems", count=len(status.open_problems)))
        lines.extend(t("status.problem", number=pr.number,
                       category=t(f"problem.{pr.category.value}"), level=pr.level,
                       text=pr.description[:60], deadline=t.short_date(pr.deadline))
                     for pr in status.open_problems[:5])
    else:
        lines.append(t("status.no_problems"))
    if status.last_visit:
        v = status.last_visit
        lines.append(t("status.visit", date=t.short_date(v.visit_date), leader=v.leader_name,
                       notes=v.notes[:60]))
    else:
        lines.append(t("status.no_visit"))
    return "\n".join(lines)
