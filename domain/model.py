"""Plain data the rooms pass to each other.

Repositories return these dataclasses, never ORM rows, so handlers and rhythms can be tested
with fakes and cannot trigger lazy loads by accident.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from domain.quiet import Quiet


class RegionLevel(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWN = "town"


class RoleKind(enum.StrEnum):
    LIAISON = "liaison"
    LEADER = "leader"
    UNIT = "unit"
    DISPATCHER = "dispatcher"
    VIEWER = "viewer"


class ProjectLevel(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


class Category(enum.StrEnum):
    INDUSTRIAL = "industrial"
    INFRASTRUCTURE = "infrastructure"
    PUBLIC_SERVICE = "public_service"


class Stage(enum.StrEnum):
    RESERVE = "reserve"
    PRELIMINARY = "preliminary"
    CONSTRUCTION = "construction"
    PRODUCTION = "production"


class SiteStatus(enum.StrEnum):
    WORKING = "working"
    STOPPED = "stopped"
    NOT_STARTED = "not_started"


class ProblemCategory(enum.StrEnum):
    LAND = "land"
    DEMOLITION = "demolition"
    APPROVALS = "approvals"
    FUNDS = "funds"
    UTILITIES = "utilities"
    ENVIRONMENT_SAFETY = "environment_safety"
    LABOUR = "labour"
    OTHER = "other"


class ProblemState(enum.StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class LetterKind(enum.StrEnum):
    REMINDER = "reminder"  # 提醒函
    ASSIGNMENT = "assignment"  # 交办函
    SUPERVISION = "supervision"  # 督办函


class Light(enum.StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender until `next_attempt_at` (its lease)
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Region:
    id: int
    code: str
    name: str
    level: RegionLevel
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    code: str
    name: str
    region_id: int


@dataclass(frozen=True, slots=True)
class Role:
    kind: RoleKind
    region_id: int | None
    unit_id: int | None


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    key: str
    name: str
    title: str
    unit_id: int | None
    language: str | None
    roles: tuple[Role, ...] = ()
    reachable: bool = True  # False once a channel said the person blocked the bot
    quiet: Quiet | None = None  # their own quiet hours; None: the configured default

    def has_role(self, kind: RoleKind) -> bool:
        return any(role.kind is kind for role in self.roles)


@dataclass(frozen=True, slots=True)
class ChatIdentity:
    channel: str
    external_id: str
    person_id: int


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    """A project with what `/my` and `/status` show of it."""

    id: int
    code: str
    name: str
    aliases: tuple[str, ...]
    region_name: str
    unit_name: str
    stage: Stage
    level: ProjectLevel
    category: Category
    chain: str
    total_investment: Decimal
    annual_plan: Decimal | None
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    lead_leader_name: str | None
    liaison_names: tuple[str, ...]
    light: Light | None


@dataclass(frozen=True, slots=True)
class ReportView:
    project_id: int
    report_date: date
    version: int
    reporter_name: str
    site_status: SiteStatus
    stop_reason: str | None
    progress_pct: Decimal
    work_done: str
    workers: int
    ytd_investment: Decimal | None
    photo_count: int
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class ProblemView:
    id: int
    number: str
    project_id: int
    category: ProblemCategory
    description: str
    urgent: bool
    state: ProblemState
    level: int
    deadline: date
    created_at: datetime
    reporter_id: int | None = None
    assignee_unit_id: int | None = None


@dataclass(frozen=True, slots=True)
class ProblemEventView:
    """One step in a problem's history: filed, progress, resolved, escalated, closed, …"""

    kind: str
    actor_name: str | None
    to_state: ProblemState | None
    level: int | None
    note: str
    at: datetime


@dataclass(frozen=True, slots=True)
class VisitView:
    project_id: int
    leader_name: str
    visit_date: date
    notes: str


@dataclass(frozen=True, slots=True)
class ProjectStatus:
    """Everything `/status` answers about one project."""

    project: ProjectSummary
    last_report: ReportView | None
    open_problems: tuple[ProblemView, ...] = field(default_factory=tuple)
    last_visit: VisitView | None = None
