"""alerts remember what their messages announced and which level they stated; sources their newest date

An alert whose end names one of its téléservices is narrowed, but its message still names both:
``announced_*`` keep that message from widening it again. ``stated_level``/``level_at`` tell a
requalification from an old message still on the page. ``sources.high_water`` tells a stale copy.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("announced_services", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("announced_modes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("stated_level", sa.String(16), nullable=True))
        batch.add_column(sa.Column("level_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("old_ends", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("aliases", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("bips", sa.JSON(), nullable=True))
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("high_water", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("high_water")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("bips")
        batch.drop_column("aliases")
        batch.drop_column("old_ends")
        batch.drop_column("level_at")
        batch.drop_column("stated_level")
        batch.drop_column("announced_modes")
        batch.drop_column("announced_services")
