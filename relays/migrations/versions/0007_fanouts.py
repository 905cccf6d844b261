"""fan-outs still being written: the subscribers an event's delivery rows are not yet written for

A fan-out to thousands is recorded in steps so that the first messages go out while the rest of
its rows are written: the recording transaction writes the event, the rows of its first
subscribers and, per (event, purpose), the ids of the subscribers still owed a row
(``fanouts``); each later step writes the rows of the next subscribers and shortens that list in
one transaction. A process that dies between steps leaves the list, and the next one finishes it.

Revision ID: 0007_fanouts
Revises: 0006_claims
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_fanouts"
down_revision = "0006_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fanouts",
        sa.Column("event_id", sa.String(128), sa.ForeignKey("events.id"), primary_key=True),
        sa.Column("purpose", sa.String(32), primary_key=True),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("subscriber_ids", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fanouts")
