"""provisioning bookkeeping: plan anchor, create-in-flight flag, segment version

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("halakat", sa.Column("plan_after", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "halakat",
        sa.Column("create_pending", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "zoom_meetings", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )


def downgrade() -> None:
    op.drop_column("zoom_meetings", "version")
    op.drop_column("halakat", "create_pending")
    op.drop_column("halakat", "plan_after")
