"""Calendar feeds: one secret feed token per user (its seed, and the SHA-256 the feed looks up)

Revision ID: i11_calendar
Revises: i11_sessions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i11_calendar"
down_revision: str | None = "i11_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_tokens",
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("seed", sa.LargeBinary(), nullable=False),
        sa.Column("lookup", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("lookup", name="uq_calendar_tokens_lookup"),
    )


def downgrade() -> None:
    op.drop_table("calendar_tokens")
