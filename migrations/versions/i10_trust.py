"""trust model: teacher approval, token revocation, unique Zoom links, host-credential audit, no start URL at rest

Revision ID: i10_trust
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i10_trust"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("approved", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("users", sa.Column("tokens_valid_after", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ux_users_zoom_user_id_lower", "users", [sa.text("lower(zoom_user_id)")], unique=True
    )
    op.create_table(
        "revoked_logins",
        sa.Column("login_id", sa.String(length=64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_revoked_logins_expires_at", "revoked_logins", ["expires_at"])
    op.create_table(
        "host_credential_audit",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("halaka_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.BigInteger(), nullable=False),
        sa.Column("credential", sa.String(length=32), nullable=False),
    )
    op.create_index("ix_host_credential_audit_halaka", "host_credential_audit", ["halaka_id", "at"])
    # start links carry the host's ZAK and expire after two hours: fetched from Zoom on demand, never stored
    op.drop_column("zoom_meetings", "start_url")


def downgrade() -> None:
    op.add_column("zoom_meetings", sa.Column("start_url", sa.Text(), nullable=True))
    op.drop_index("ix_host_credential_audit_halaka", table_name="host_credential_audit")
    op.drop_table("host_credential_audit")
    op.drop_index("ix_revoked_logins_expires_at", table_name="revoked_logins")
    op.drop_table("revoked_logins")
    op.drop_index("ux_users_zoom_user_id_lower", table_name="users")
    op.drop_column("users", "tokens_valid_after")
    op.drop_column("users", "approved")
