"""Configuration from the environment (FIELDBOT_*) and an optional TOML file.

Precedence, highest first: explicit arguments, environment variables, the TOML file named by
FIELDBOT_CONFIG (or --config), the defaults below. Secrets are `SecretStr` so they never print.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from datetime import date, time
from pathlib import Path
from tomllib import TOMLDecodeError
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.wecom.settings import WeComSettings
from domain.problems import Deadlines
from domain.quiet import Quiet
from domain.workdays import WorkCalendar

Language = Literal["zh-CN", "en"]

_config_file: ContextVar[Path | None] = ContextVar("fieldbot_config_file", default=None)


class TelegramLimits(BaseModel):
    """Telegram's flood limits (Bot FAQ; undocumented and changing, hence configurable)."""

    overall_per_second: int = Field(default=30, gt=0)
    per_chat_per_second: int = Field(default=1, gt=0)
    per_group_per_minute: int = Field(default=20, gt=0)


class TelegramSettings(BaseModel):
    token: SecretStr | None = None
    api_base: str | None = None  # another Bot API server, e.g. a local one
    bot_username: str | None = None  # for invite links made offline; else asked with getMe
    webhook_url: str | None = None  # the public https address the reverse proxy forwards
    webhook_secret: SecretStr | None = None  # checked in X-Telegram-Bot-Api-Secret-Token
    listen_host: str = "127.0.0.1"  # where the webhook server listens, behind the proxy
    listen_port: int = Field(default=8081, gt=0, lt=65536)
    album_wait_seconds: float = Field(default=0.8, gt=0)  # quiet time that closes an album
    poll_timeout: int = Field(default=25, ge=0, le=50)
    limits: TelegramLimits = TelegramLimits()


class OutboxSettings(BaseModel):
    concurrency: int = Field(default=64, gt=0)  # sends in flight at once
    max_attempts: int = Field(default=8, gt=0)  # for server errors and time-outs
    idle_poll_seconds: float = Field(default=2.0, gt=0)  # looks for work written elsewhere


class RhythmSettings(BaseModel):
    """When each rhythm runs: crontab lines (minute hour day month weekday) in `timezone`.

    Weekdays by name (mon,thu): APScheduler counts numbers from Monday = 0, unlike cron.
    """

    enabled: bool = True
    grace_hours: float = Field(default=6, ge=0)  # a run missed while down is caught up within
    liaison_reminder: str = "0 16,19 * * *"
    leader_unreported: str = "0 21 * * *"
    daily_summary: str = "30 21 * * *"
    visit_reminder: str = "0 9 * * mon,thu"
    weekly_digest: str = "0 17 * * fri"
    ten_day_check: str = "0 17 10,20,last * *"
    monthly_review: str = "0 9 1 * *"
    quarterly_review: str = "0 9 1 1,4,7,10 *"
    problem_escalation: str = "30 8 * * *"  # overdue problems climb one level of the ladder
    quiet_start: str = "22:00"  # a person's quiet hours unless they set their own
    quiet_end: str = "07:30"

    @field_validator("liaison_reminder", "leader_unreported", "daily_summary", "visit_reminder",
                     "weekly_digest", "ten_day_check", "monthly_review", "quarterly_review",
                     "problem_escalation")
    @classmethod
    def _crontab(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"not a crontab line ({exc}): {value!r}") from exc
        return value

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"not a time of day like 22:00: {value!r}") from exc
        return value


class LetterSettings(BaseModel):
    """The thresholds of the three letters (SPEC: "The three letters")."""

    reminder_days_before_start: int = Field(default=30, gt=0)  # 提醒函
    assignment_days_overdue: int = Field(default=15, gt=0)  # 交办函
    supervision_lag_points: int = Field(default=20, gt=0)  # 督办函: behind plan by
    supervision_silent_days: int = Field(default=5, gt=0)  # 督办函: no report for
    supervision_problem_level: int = Field(default=3, ge=1, le=5)  # 督办函: a problem at


class ProblemSettings(BaseModel):
    """How long a unit has for a problem before it climbs a level (SPEC: "Problems")."""

    deadline_days: int = Field(default=7, gt=0)
    urgent_deadline_days: int = Field(default=3, gt=0)


class CalendarSettings(BaseModel):
    """Corrections to the official holiday calendar, e.g. next year's before the package has it."""

    extra_holidays: list[date] = []
    extra_workdays: list[date] = []


class DigestSettings(BaseModel):
    font: Path | None = None  # a CJK font for charts; found among the installed fonts if unset


class FormSettings(BaseModel):
    draft_hours: float = Field(default=24, gt=0)  # an unfinished form is dropped after this


class PhotoSettings(BaseModel):
    max_megapixels: float = Field(default=100, gt=0)  # larger images are refused undecoded
    max_megabytes: float = Field(default=40, gt=0)
    long_edge: int = Field(default=2560, ge=320)  # the normalised copy
    thumb_edge: int = Field(default=320, ge=64)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIELDBOT_", env_nested_delimiter="__",
                                      extra="forbid")

    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite in data_dir
    timezone: str = "Asia/Shanghai"
    language: Language = "zh-CN"
    telegram: TelegramSettings = TelegramSettings()
    wecom: WeComSettings = WeComSettings()
    forms: FormSettings = FormSettings()
    photos: PhotoSettings = PhotoSettings()
    outbox: OutboxSettings = OutboxSettings()
    rhythms: RhythmSettings = RhythmSettings()
    letters: LetterSettings = LetterSettings()
    problems: ProblemSettings = ProblemSettings()
    calendar: CalendarSettings = CalendarSettings()
    digests: DigestSettings = DigestSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def model_post_init(self, context: Any, /) -> None:
        if not self.database_url:
            path = (self.data_dir / "fieldbot.sqlite3").resolve()
            self.database_url = f"sqlite:///{path}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def work_calendar(self) -> WorkCalendar:
        return WorkCalendar(extra_holidays=self.calendar.extra_holidays,
                            extra_workdays=self.calendar.extra_workdays)

    def problem_deadlines(self) -> Deadlines:
        return Deadlines(self.problems.deadline_days, self.problems.urgent_deadline_days)

    def default_quiet(self) -> Quiet:
        """Everyone's quiet hours unless they set their own (`/quiet`)."""
        return Quiet(time.fromisoformat(self.rhythms.quiet_start),
                     time.fromisoformat(self.rhythms.quiet_end))

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file.get()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


class ConfigError(Exception):
    """The configuration cannot be used; the message is for the operator."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from `config_file` (else the file FIELDBOT_CONFIG names) and the environment."""
    if config_file is None and (named := os.environ.get("FIELDBOT_CONFIG")):
        config_file = Path(named)
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"configuration file not found: {config_file}")
    token = _config_file.set(config_file)
    try:
        return Settings(**overrides)
    except (ValidationError, TOMLDecodeError) as exc:
        raise ConfigError(f"invalid configuration: {_describe(exc)}") from exc
    finally:
        _config_file.reset(token)


def _describe(exc: ValidationError | TOMLDecodeError) -> str:
    if isinstance(exc, TOMLDecodeError):
        return str(exc)
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                     for err in exc.errors())
