"""webhook subscribers' signing secrets, in a table of their own

A webhook subscriber signs with one secret (Standard Webhooks, ``whsec_…``), shown once when it
is created. It lives apart from ``subscribers`` so that listing or exporting subscribers can
never show it.

Revision ID: 0005_machines
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_machines"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_secrets",
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey("subscribers.id"), primary_key=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_secrets")
