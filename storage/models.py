"""The ORM tables for the whole domain of SPEC.md.

Repositories are the only code that touches these classes; everything else sees the dataclasses
of `domain.model`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from domain.model import (
    Category,
    LetterKind,
    Light,
    OutboxState,
    ProblemCategory,
    ProblemState,
    ProjectLevel,
    RegionLevel,
    RoleKind,
    SiteStatus,
    Stage,
)
from storage.types import ScaledDecimal, UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WAN = ScaledDecimal(4)  # 万元, exact to the yuan
PERCENT = ScaledDecimal(1)  # 0.0–100.0


def _enum(cls: type[enum.StrEnum]) -> Enum:
    """A portable enum column: VARCHAR holding the member's value."""
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class Region(Base):
    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[RegionLevel] = mapped_column(_enum(RegionLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    language: Mapped[str | None] = mapped_column(String(8))
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00"; None = the default
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    roles: Mapped[list[RoleGrant]] = relationship(lazy="raise", order_by="RoleGrant.id")


class RoleGrant(Base):
    """A role with its scope: a region (and everything below it) or a unit."""

    __tablename__ = "roles"
    __table_args__ = (
        UniqueConstraint("person_id", "kind", "region_id", "unit_id"),
        CheckConstraint("region_id IS NOT NULL OR unit_id IS NOT NULL", name="scoped"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RoleKind] = mapped_column(_enum(RoleKind))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))


class ChatIdentity(Base):
    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]


class Invite(Base):
    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identities.id"))


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    level: Mapped[ProjectLevel] = mapped_column(_enum(ProjectLevel))
    chain: Mapped[str] = mapped_column(String(64), default="")
    category: Mapped[Category] = mapped_column(_enum(Category))
    stage: Mapped[Stage] = mapped_column(_enum(Stage))
    total_investment: Mapped[Decimal] = mapped_column(WAN)
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[int] = mapped_column(Integer, default=1000)
    lead_leader_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    works_rest_days: Mapped[bool] = mapped_column(Boolean, default=True)
    light: Mapped[Light | None] = mapped_column(_enum(Light))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProjectPlan(Base):
    """The year's planned investment and its quarterly shares (cumulative % by quarter end)."""

    __tablename__ = "project_plans"
    __table_args__ = (UniqueConstraint("project_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    annual_plan: Mapped[Decimal] = mapped_column(WAN)
    q1_pct: Mapped[int] = mapped_column(Integer, default=20)
    q2_pct: Mapped[int] = mapped_column(Integer, default=50)
    q3_pct: Mapped[int] = mapped_column(Integer, default=80)
    q4_pct: Mapped[int] = mapped_column(Integer, default=100)


class ProjectAlias(Base):
    __tablename__ = "project_aliases"
    __table_args__ = (UniqueConstraint("project_id", "alias"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(100), index=True)


class ProjectLiaison(Base):
    __tablename__ = "project_liaisons"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True)


class GroupChat(Base):
    __tablename__ = "group_chats"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(128), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    bind_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    bound_at: Mapped[datetime | None]
    bound_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    webhook_kind: Mapped[str | None] = mapped_column(String(16))  # wecom_robot / dingtalk / feishu
    webhook_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("group_chat_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_chat_id: Mapped[int] = mapped_column(ForeignKey("group_chats.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # daily_summary, weekly_digest, ten_day, …


class Photo(Base):
    """An image kept once by the SHA-256 of its original bytes."""

    __tablename__ = "photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    original_path: Mapped[str] = mapped_column(String(255))
    normalised_path: Mapped[str] = mapped_column(String(255))
    thumbnail_path: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None]
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]


class DailyReport(Base):
    """The current version of one project's report for one day.

    Every version, this one included, is kept in report_versions.
    """

    __tablename__ = "daily_reports"
    __table_args__ = (UniqueConstraint("project_id", "report_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    report_date: Mapped[date] = mapped_column(Date, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    site_status: Mapped[SiteStatus] = mapped_column(_enum(SiteStatus))
    stop_reason: Mapped[str | None] = mapped_column(Text)
    progress_pct: Mapped[Decimal] = mapped_column(PERCENT)
    work_done: Mapped[str] = mapped_column(Text, default="")
    workers: Mapped[int] = mapped_column(Integer, default=0)
    ytd_investment: Mapped[Decimal | None] = mapped_column(WAN)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReportVersion(Base):
    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("report_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("daily_reports.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Problem(Base):
    __tablename__ = "problems"
    __table_args__ = (UniqueConstraint("year", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # P-2026-0042
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    category: Mapped[ProblemCategory] = mapped_column(_enum(ProblemCategory))
    description: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[ProblemState] = mapped_column(_enum(ProblemState), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)  # L1..L5 of the escalation ladder
    reporter_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    assignee_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    deadline: Mapped[date] = mapped_column(Date)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("daily_reports.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class ProblemEvent(Base):
    __tablename__ = "problem_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(24))  # created, assigned, progress, resolved, …
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    from_state: Mapped[ProblemState | None] = mapped_column(_enum(ProblemState))
    to_state: Mapped[ProblemState | None] = mapped_column(_enum(ProblemState))
    level: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class Visit(Base):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    visit_date: Mapped[date] = mapped_column(Date)
    met: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    problems_raised: Mapped[str] = mapped_column(Text, default="")
    solved_on_spot: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class PhotoAttachment(Base):
    """A photo attached to exactly one report, problem, problem event or visit."""

    __tablename__ = "photo_attachments"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN report_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN problem_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN problem_event_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN visit_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_owner",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("daily_reports.id", ondelete="CASCADE"), index=True)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"))
    problem_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("problem_events.id", ondelete="CASCADE"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    flags: Mapped[str] = mapped_column(String(64), default="")  # reused, old, far


class Letter(Base):
    """One of the three letters, numbered per region and year (〔2026〕第12号)."""

    __tablename__ = "letters"
    __table_args__ = (
        UniqueConstraint("region_id", "year", "seq"),
        UniqueConstraint("project_id", "kind", "cause"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[LetterKind] = mapped_column(_enum(LetterKind))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    cause: Mapped[str] = mapped_column(String(64))  # e.g. "lag:2026-11-2" or "start_overdue"
    period: Mapped[str] = mapped_column(String(16))  # the ten-day period that issued it
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    closed_at: Mapped[datetime | None]


class Counter(Base):
    """Gap-free numbering (problem numbers, letter numbers) by name and year."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(48), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class OutboxMessage(Base):
    """A message to deliver, written in the transaction of the change that caused it.

    (kind, period, recipient, subject) is unique, so a rhythm that runs twice writes it once.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "period", "recipient", "subject"),
        Index("ix_outbox_due", "state", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(48))  # "person:12" or "group:3"
    subject: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]]
    state: Mapped[OutboxState] = mapped_column(_enum(OutboxState), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class InboundReceipt(Base):
    """An update already handled, so one delivered again after a crash is not handled twice.

    Written in the transaction of the first change the update caused (see `storage.uow`).
    """

    __tablename__ = "inbound_receipts"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class RhythmRun(Base):
    """One due time of one rhythm, run or skipped: written with the messages the run queued."""

    __tablename__ = "rhythm_runs"
    rhythm: Mapped[str] = mapped_column(String(32), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))  # ran, skipped
    messages: Mapped[int] = mapped_column(Integer, default=0)
    ran_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")


class FormDraft(Base):
    """An unfinished form, one per person and chat, kept across restarts."""

    __tablename__ = "form_drafts"
    __table_args__ = (UniqueConstraint("person_id", "channel", "chat_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    form: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(48))
    token: Mapped[str] = mapped_column(String(16))  # in button data: a stale button is refused
    answers: Mapped[dict[str, Any]]
    context: Mapped[dict[str, Any]]  # the project, earlier values, a pending confirmation
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, for Core statements run with many rows (no ORM work per row)."""
    return cast(Table, model.__table__)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
