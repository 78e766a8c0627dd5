"""ORM models. The schema is only ever changed by an Alembic migration (migrations/); a test compares the
two (`tests/integration/test_schema_matches_models.py`).

Each vocabulary has one form, a `StrEnum` (`Role`, `ZoomStatus`, `InstanceStatus`, and `Frequency` in
`shared.zoom.recurrence`), stored as its plain string values; a halaka's seven schedule columns are one
`Schedule` (`Halaka.schedule`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time  # noqa: F401  # date, time: Schedule's fields, resolved here

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, composite, mapped_column, relationship

from shared.zoom.recurrence import Frequency, Schedule


class Base(DeclarativeBase):
    pass


class Role(enum.StrEnum):
    student = "student"
    teacher = "teacher"
    admin = "admin"


class ZoomStatus(enum.StrEnum):
    pending = "pending"
    provisioning = "provisioning"
    ready = "ready"
    updating = "updating"
    failed = "failed"
    deleting = "deleting"


def _str_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """An enum column stored as its plain string values (VARCHAR(16), no CHECK, no PostgreSQL type), as the
    columns were before they were typed: Python reads and writes the enum, the database keeps its strings."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("ux_users_zoom_user_id_lower", text("lower(zoom_user_id)"), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_str_enum(Role), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    zoom_user_id: Mapped[str | None] = mapped_column(String(320), index=True)
    approved: Mapped[bool] = mapped_column(default=True, server_default=true())
    # tokens of logins before this instant are revoked (logout-all, deactivation)
    tokens_valid_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Halaka(Base):
    __tablename__ = "halakat"
    __table_args__ = (Index("ix_halakat_status_due", "zoom_status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The seven schedule columns, read and written only as one `Schedule` (the composite's order is the
    # dataclass's field order); SQL may still name the columns (`halakat.start_date`, …).
    schedule: Mapped[Schedule] = composite(
        mapped_column("frequency", _str_enum(Frequency)),
        mapped_column("days", ARRAY(String(9), as_tuple=True)),
        mapped_column("start_time", Time),
        mapped_column("duration", Integer),
        mapped_column("start_date", Date),
        mapped_column("end_date", Date),
        mapped_column("timezone", String(64)),
    )

    zoom_status: Mapped[ZoomStatus] = mapped_column(_str_enum(ZoomStatus), default=ZoomStatus.pending)
    zoom_error: Mapped[str | None] = mapped_column(Text)
    zoom_host: Mapped[str | None] = mapped_column(String(320))
    provisioning_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    schedule_version: Mapped[int] = mapped_column(Integer, default=1)
    applied_version: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    plan_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    create_pending: Mapped[bool] = mapped_column(default=False)
    status_changed_at: Mapped[datetime] = _now()
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    teacher: Mapped[User] = relationship(lazy="joined")
    meetings: Mapped[list[ZoomMeeting]] = relationship(
        back_populates="halaka",
        order_by="ZoomMeeting.segment_index",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def segments(self) -> list[ZoomMeeting]:
        """The Zoom recurring meetings of the plan, in order (not the standalone meetings of single
        sessions, which are rows of `meetings` too, so that every lookup by meeting number finds them)."""
        return [m for m in self.meetings if m.session_change_id is None]


class ZoomMeeting(Base):
    """One Zoom recurring meeting: a segment of at most 50 sessions of a halaka; or, with
    `session_change_id`, the standalone scheduled meeting (type 2) of one restored or extra session,
    whose `segment_index` is minus its change's id (the segments are 0, 1, …)."""

    __tablename__ = "zoom_meetings"
    __table_args__ = (UniqueConstraint("halaka_id", "segment_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    halaka_id: Mapped[int] = mapped_column(ForeignKey("halakat.id", ondelete="CASCADE"))
    segment_index: Mapped[int] = mapped_column(Integer)
    meeting_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    password: Mapped[str | None] = mapped_column(String(32))
    join_url: Mapped[str | None] = mapped_column(Text)
    first_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    occurrence_count: Mapped[int] = mapped_column(Integer)
    occurrence_ids: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # digest of the Zoom fields last sent
    session_change_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_changes.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = _now()

    halaka: Mapped[Halaka] = relationship(back_populates="meetings")

    @property
    def standalone(self) -> bool:
        return self.session_change_id is not None


class SessionChange(Base):
    """What the platform (or Zoom's portal) changed about one session: the one record of a cancelled,
    moved, restored or extra session (shared.sessions).

    A planned session is named by `occurrence_id` (Zoom's id of its occurrence, the planned start in ms)
    and `planned_start`; an extra session has neither. `start_utc`/`duration` are where the session is
    now. `occurrence_deleted`: the planned occurrence is (or is to be) deleted on Zoom — a cancelled
    session, or a restored one, which then lives in a standalone meeting (Zoom cannot undelete).
    `version` rises on every change (the feed's SEQUENCE); the worker brings Zoom to it and records
    `applied_version`. `dropped`: a schedule edit removed it (its standalone meeting is deleted, then
    the row)."""

    __tablename__ = "session_changes"
    __table_args__ = (
        Index("ix_session_changes_halaka_start", "halaka_id", "start_utc"),
        Index(
            "uq_session_changes_occurrence",
            "halaka_id",
            "occurrence_id",
            unique=True,
            postgresql_where=text("occurrence_id IS NOT NULL"),
        ),
        Index("ix_session_changes_due", "due_at", postgresql_where=text("applied_version < version")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    halaka_id: Mapped[int] = mapped_column(ForeignKey("halakat.id", ondelete="CASCADE"))
    occurrence_id: Mapped[str | None] = mapped_column(String(32))
    planned_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    start_utc: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(default=False, server_default=false())
    occurrence_deleted: Mapped[bool] = mapped_column(default=False, server_default=false())
    dropped: Mapped[bool] = mapped_column(default=False, server_default=false())
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="platform", server_default="platform")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    applied_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    create_pending: Mapped[bool] = mapped_column(default=False, server_default=false())
    tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = _now()
    created_at: Mapped[datetime] = _now()


class Enrollment(Base):
    __tablename__ = "enrollments"

    halaka_id: Mapped[int] = mapped_column(ForeignKey("halakat.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = _now()


class RevokedLogin(Base):
    """A login (its access and refresh tokens share `login_id`) revoked until its refresh token expires."""

    __tablename__ = "revoked_logins"

    login_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class HostCredentialAudit(Base):
    """Who was handed a host credential (a start link) for which meeting, and when; never the link."""

    __tablename__ = "host_credential_audit"
    __table_args__ = (Index("ix_host_credential_audit_halaka", "halaka_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = _now()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    halaka_id: Mapped[int] = mapped_column(Integer)
    meeting_id: Mapped[int] = mapped_column(BigInteger)
    credential: Mapped[str] = mapped_column(String(32))


# --- Zoom webhooks, meeting instances and attendance (issue 15) ---


class WebhookEvent(Base):
    """A verified Zoom webhook delivery, stored raw before anything else happens (deduplicated by body)."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_unprocessed", "enqueued_at", postgresql_where=text("processed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = _now()
    enqueued_at: Mapped[datetime] = _now()
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tries: Mapped[int] = mapped_column(Integer, default=0)  # processing runs (replays included)
    outcome: Mapped[str | None] = mapped_column(Text)


class InstanceStatus(enum.StrEnum):
    live = "live"
    ended = "ended"
    cancelled = "cancelled"


class MeetingInstance(Base):
    """What Zoom reported about one scheduled session: an instance that ran (live/ended, with Zoom's
    per-instance uuid and the actual times), or an occurrence deleted in Zoom (cancelled, no uuid)."""

    __tablename__ = "meeting_instances"
    __table_args__ = (
        Index(
            "uq_meeting_instances_cancelled",
            "halaka_id",
            "scheduled_start",
            unique=True,
            postgresql_where=text("uuid IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    halaka_id: Mapped[int] = mapped_column(ForeignKey("halakat.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(BigInteger)
    scheduled_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    uuid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[InstanceStatus] = mapped_column(_str_enum(InstanceStatus))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)


class AttendanceInterval(Base):
    """One stretch of a participant in a meeting instance; rejoins are separate rows, merged when read."""

    __tablename__ = "attendance_intervals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_instances.id", ondelete="CASCADE"), index=True
    )
    identity: Mapped[str] = mapped_column(String(220))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    participant_uuid: Mapped[str | None] = mapped_column(String(64))
    joined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- calendar feeds (issue 11) ---


class CalendarToken(Base):
    """A user's secret feed URL: `seed` (random) makes the token with a server key
    (`shared.feed_token`), `lookup` is the SHA-256 of the token, the only thing the feed looks up."""

    __tablename__ = "calendar_tokens"
    __table_args__ = (UniqueConstraint("lookup", name="uq_calendar_tokens_lookup"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    seed: Mapped[bytes] = mapped_column(LargeBinary)
    lookup: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _now()
