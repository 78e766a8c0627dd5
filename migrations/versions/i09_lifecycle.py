"""lifecycle: a fingerprint of the Zoom fields each segment was last given (only changed ones are PATCHed)

Revision ID: i09_lifecycle
Revises: i10_trust
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i09_lifecycle"
down_revision: str | None = "i10_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("zoom_meetings", sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("zoom_meetings", "fingerprint")
