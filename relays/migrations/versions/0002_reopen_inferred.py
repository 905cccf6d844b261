"""alerts remember an inferred end, so an alert that comes back is reopened

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("inferred_close", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("reopened", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("reopened")
        batch.drop_column("inferred_close")
