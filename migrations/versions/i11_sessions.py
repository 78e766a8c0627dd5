"""Single-session changes (issue 11): cancelled, moved, restored and extra sessions, and the standalone
Zoom meetings that hold restored and extra sessions (rows of zoom_meetings linked to their change).

Occurrences deleted in Zoom's portal were recorded as `cancelled` meeting instances (issue 15); they
become session changes here, the one record of a cancelled session.

Revision ID: i11_sessions
Revises: i15_webhooks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i11_sessions"
down_revision: str | None = "i15_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    op.create_table(
        "session_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("halaka_id", sa.Integer(), sa.ForeignKey("halakat.id", ondelete="CASCADE"), nullable=False),
        sa.Column("occurrence_id", sa.String(32)),
        _ts("planned_start"),
        _ts("start_utc", nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("occurrence_deleted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("dropped", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("reason", sa.Text()),
        sa.Column("source", sa.String(16), nullable=False, server_default="platform"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("applied_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("create_pending", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("tries", sa.Integer(), nullable=False, server_default="0"),
        _ts("due_at"),
        sa.Column("error", sa.Text()),
        _ts("changed_at", nullable=False, server_default=sa.func.now()),
        _ts("created_at", nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_session_changes_halaka_start", "session_changes", ["halaka_id", "start_utc"])
    op.create_index(
        "uq_session_changes_occurrence",
        "session_changes",
        ["halaka_id", "occurrence_id"],
        unique=True,
        postgresql_where=sa.text("occurrence_id IS NOT NULL"),
    )
    op.create_index(
        "ix_session_changes_due",
        "session_changes",
        ["due_at"],
        postgresql_where=sa.text("applied_version < version"),
    )
    op.add_column(
        "zoom_meetings",
        sa.Column(
            "session_change_id", sa.Integer(), sa.ForeignKey("session_changes.id", ondelete="CASCADE"), unique=True
        ),
    )
    op.execute(
        """
        INSERT INTO session_changes (halaka_id, occurrence_id, planned_start, start_utc, duration, cancelled,
            occurrence_deleted, reason, source, version, applied_version)
        SELECT i.halaka_id, (floor(extract(epoch FROM i.scheduled_start) * 1000))::bigint::text,
            i.scheduled_start, i.scheduled_start, h.duration, true, true, i.reason, 'zoom', 1, 1
        FROM meeting_instances i JOIN halakat h ON h.id = i.halaka_id
        WHERE i.status = 'cancelled' AND i.uuid IS NULL
        ON CONFLICT DO NOTHING
        """
    )
    op.execute("DELETE FROM meeting_instances WHERE status = 'cancelled' AND uuid IS NULL")


def downgrade() -> None:
    op.drop_column("zoom_meetings", "session_change_id")
    op.drop_table("session_changes")
