"""Following calls: webhook secrets and deliveries, the outbox, live previews, subscriptions and alerts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_secrets",
        sa.Column("workspace_id", sa.String(80), primary_key=True),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("workspace_id", sa.String(80), primary_key=True),
        sa.Column("last_at", sa.Float, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("done_at", sa.Float),
        sa.Column("last_error", sa.String(200)),
    )
    op.create_index("ix_outbox_next_attempt_at", "outbox", ["next_attempt_at"])
    op.create_table(
        "live_previews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(80), nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("place", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("url", sa.Text),
        sa.Column("response_url", sa.Text),
        sa.Column("uses_left", sa.Integer),
        sa.Column("look", sa.JSON, nullable=False),
        sa.Column("shown", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.UniqueConstraint("workspace_id", "place", "channel_id", "message_ts", "url", name="live_previews_place"),
    )
    op.create_index("ix_live_previews_conversation_id", "live_previews", ["conversation_id"])
    op.create_index("ix_live_previews_expires_at", "live_previews", ["expires_at"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(80), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("statuses", sa.JSON, nullable=False),
        sa.Column("agent", sa.String(200)),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_reason", sa.String(64)),
    )
    op.create_index("ix_subscriptions_workspace_id", "subscriptions", ["workspace_id"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(80), nullable=False),
        sa.Column("subscription_id", sa.Integer, nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("posting_until", sa.Float),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(32)),
        sa.Column("resolved_by", sa.String(32)),
        sa.Column("resolved_at", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("subscription_id", "conversation_id", name="alerts_once_per_rule_and_call"),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_index("ix_subscriptions_workspace_id", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_live_previews_expires_at", table_name="live_previews")
    op.drop_index("ix_live_previews_conversation_id", table_name="live_previews")
    op.drop_table("live_previews")
    op.drop_index("ix_outbox_next_attempt_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_secrets")
