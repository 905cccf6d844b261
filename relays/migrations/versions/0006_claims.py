"""senders' heartbeats, so that a dead sender's claims are taken back in seconds

A delivery claimed by a sender carries its name (``deliveries.claimed_by``). Each running sender
beats in ``sender_beats`` every second; when a beat is a few seconds stale, another instance
hands that sender's claimed rows back at once instead of waiting for the claim's lease.
``ix_deliveries_claimed_by`` finds them; ``ix_deliveries_claim`` gives due rows in sending order,
so a claim stops at its limit instead of sorting thousands of rows.

Revision ID: 0006_claims
Revises: 0005_machines
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_claims"
down_revision = "0005_machines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sender_beats",
        sa.Column("worker", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(200), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_deliveries_claimed_by", "deliveries", ["claimed_by"])
    op.create_index("ix_deliveries_claim", "deliveries", ["status", "due_at", "event_seq", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_claim", table_name="deliveries")
    op.drop_index("ix_deliveries_claimed_by", table_name="deliveries")
    op.drop_table("sender_beats")
