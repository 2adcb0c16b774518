"""Muted channels: where someone ran `/hamsa mute`, links are not unfurled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "muted_channels",
        sa.Column("workspace_id", sa.String(80), primary_key=True),
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("muted_by", sa.String(32), nullable=False),
        sa.Column("muted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("muted_channels")
