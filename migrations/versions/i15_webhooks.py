"""Zoom webhooks: stored events, meeting instances (live/ended/cancelled) and attendance intervals

Revision ID: i15_webhooks
Revises: i09_lifecycle
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i15_webhooks"
down_revision: str | None = "i09_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("dedup_key", sa.String(64), nullable=False, unique=True),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        _ts("received_at", nullable=False, server_default=sa.func.now()),
        _ts("enqueued_at", nullable=False, server_default=sa.func.now()),
        _ts("processed_at"),
        sa.Column("tries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("outcome", sa.Text()),
    )
    op.create_index(
        "ix_webhook_events_unprocessed",
        "webhook_events",
        ["enqueued_at"],
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.create_table(
        "meeting_instances",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("halaka_id", sa.Integer(), sa.ForeignKey("halakat.id", ondelete="CASCADE"), nullable=False),
        sa.Column("meeting_id", sa.BigInteger(), nullable=False),
        _ts("scheduled_start", nullable=False),
        sa.Column("uuid", sa.String(64), unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("started_at"),
        _ts("ended_at"),
        sa.Column("reason", sa.Text()),
    )
    op.create_index("ix_meeting_instances_halaka_id", "meeting_instances", ["halaka_id"])
    op.create_index(
        "uq_meeting_instances_cancelled",
        "meeting_instances",
        ["halaka_id", "scheduled_start"],
        unique=True,
        postgresql_where=sa.text("uuid IS NULL"),
    )
    op.create_table(
        "attendance_intervals",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "instance_id",
            sa.Integer(),
            sa.ForeignKey("meeting_instances.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("identity", sa.String(220), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("participant_uuid", sa.String(64)),
        _ts("joined_at"),
        _ts("left_at"),
    )
    op.create_index("ix_attendance_intervals_instance_id", "attendance_intervals", ["instance_id"])


def downgrade() -> None:
    op.drop_table("attendance_intervals")
    op.drop_table("meeting_instances")
    op.drop_table("webhook_events")
