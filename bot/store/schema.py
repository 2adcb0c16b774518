"""The store's tables, as SQLAlchemy Core sees them; the Alembic migrations in ``migrations/`` create them.

Secret columns have the :class:`Sealed` type: they are encrypted on the way into the database and
decrypted on the way out, so no code path can write one in clear. Slack's installation tables are
slack_sdk's own definitions with their token columns swapped for sealed ones.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

from bot.store.secrets import ENCRYPTION_KEYS, MissingKeys, SecretBox

INSTALLATIONS = "slack_installations"
BOTS = "slack_bots"
OAUTH_STATES = "slack_oauth_states"
# Everything slack_sdk keeps in clear that grants access: tokens, and the incoming webhook URL.
SLACK_SECRET_COLUMNS = {
    INSTALLATIONS: ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token", "incoming_webhook_url"),
    BOTS: ("bot_token", "bot_refresh_token"),
}
WORKSPACE_ID = 80  # "E…/T…": Slack IDs are at most 32 characters each
CHANNEL_ID = 32


class Sealed(TypeDecorator[str]):
    """Text encrypted at rest with the app's keys (ENCRYPTION_KEYS)."""

    impl = Text
    cache_ok = True

    def __init__(self, box: SecretBox | None) -> None:
        super().__init__()
        self.box = box

    def _box(self) -> SecretBox:
        if self.box is None:
            raise MissingKeys(f"{ENCRYPTION_KEYS} is not set, so the app cannot store secrets.")
        return self.box

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self._box().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self._box().decrypt(value)


def workspace_column(**options: Any) -> Column[str]:
    return Column("workspace_id", String(WORKSPACE_ID), nullable=False, **options)


class Tables:
    """Every table, bound to one SecretBox (None: secrets can't be written or read)."""

    def __init__(self, box: SecretBox | None = None) -> None:
        self.metadata = MetaData()
        self.sealed = Sealed(box)
        self.installations = self._slack_table(SQLAlchemyInstallationStore.build_installations_table, INSTALLATIONS)
        self.bots = self._slack_table(SQLAlchemyInstallationStore.build_bots_table, BOTS)
        self.oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(self.metadata, OAUTH_STATES)
        self.hamsa_connections = Table(
            "hamsa_connections",
            self.metadata,
            workspace_column(primary_key=True),
            Column("api_key", self.sealed, nullable=False),
            Column("key_last4", String(4), nullable=False),
            Column("api_url", String(200), nullable=False),
            Column("region", String(16), nullable=False),
            Column("connected_by", String(32), nullable=False),
            Column("connected_at", DateTime(timezone=True), nullable=False),
        )
        self.workspace_settings = Table(
            "workspace_settings",
            self.metadata,
            workspace_column(primary_key=True),
            Column("settings", JSON, nullable=False),
            Column("updated_by", String(32), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
        )
        # Channels where someone ran `/hamsa mute`: their links are not unfurled.
        self.muted_channels = Table(
            "muted_channels",
            self.metadata,
            workspace_column(primary_key=True),
            Column("channel_id", String(CHANNEL_ID), primary_key=True),
            Column("muted_by", String(32), nullable=False),
            Column("muted_at", DateTime(timezone=True), nullable=False),
        )
        # ---- following calls (webhooks, the outbox, live previews, subscriptions, alerts) ----
        # Times a worker compares (due, leased, expired) are epoch seconds: the same on every database.
        self.webhook_secrets = Table(
            "webhook_secrets",
            self.metadata,
            workspace_column(primary_key=True),
            Column("secret", self.sealed, nullable=False),
            # A keyed hash of the secret, to find the workspace a webhook comes from (see SecretBox.keyed_hash).
            Column("secret_hash", String(64), nullable=False, unique=True),
            Column("created_by", String(32), nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
        )
        # When each workspace's last webhook came: a workspace that sends none has its live calls polled.
        self.webhook_deliveries = Table(
            "webhook_deliveries",
            self.metadata,
            workspace_column(primary_key=True),
            Column("last_at", Float, nullable=False),
        )
        self.outbox = Table(
            "outbox",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            workspace_column(),
            Column("kind", String(32), nullable=False),
            Column("dedupe_key", String(200), nullable=False, unique=True),
            Column("payload", JSON, nullable=False),
            Column("attempts", Integer, nullable=False),
            Column("next_attempt_at", Float, nullable=False, index=True),
            Column("lease_owner", String(64)),
            Column("lease_until", Float),
            Column("created_at", Float, nullable=False),
            Column("done_at", Float),
            Column("last_error", String(200)),
        )
        self.live_previews = Table(
            "live_previews",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            workspace_column(),
            Column("conversation_id", String(36), nullable=False, index=True),
            Column("place", String(16), nullable=False),  # unfurl, message, alert or response_url
            Column("channel_id", String(32)),
            Column("message_ts", String(32)),
            Column("url", Text),  # an unfurl's link, exactly as the event gave it
            Column("response_url", self.sealed),  # a capability to post: sealed like a token
            Column("uses_left", Integer),
            Column("look", JSON, nullable=False),  # how the place shows the call (bot.following.looks.Look)
            Column("shown", String(64), nullable=False),  # fingerprint of what the place shows now
            Column("created_at", Float, nullable=False),
            Column("expires_at", Float, nullable=False, index=True),
            UniqueConstraint("workspace_id", "place", "channel_id", "message_ts", "url", name="live_previews_place"),
        )
        self.subscriptions = Table(
            "subscriptions",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            workspace_column(index=True),
            Column("channel_id", String(32), nullable=False),
            Column("statuses", JSON, nullable=False),
            Column("agent", String(200)),  # an agent's ID or name; None for every agent
            Column("created_by", String(32), nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("disabled_reason", String(64)),
        )
        self.alerts = Table(
            "alerts",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            workspace_column(),
            Column("subscription_id", Integer, nullable=False),
            Column("conversation_id", String(36), nullable=False),
            Column("channel_id", String(32), nullable=False),
            Column("message_ts", String(32)),
            Column("posting_until", Float),  # a worker is posting it: others leave it alone till then
            Column("state", String(16), nullable=False),  # open, taken or resolved
            Column("owner", String(32)),
            Column("resolved_by", String(32)),
            Column("resolved_at", Float),
            Column("created_at", Float, nullable=False),
            UniqueConstraint("subscription_id", "conversation_id", name="alerts_once_per_rule_and_call"),
        )
        # A value sealed with the current keys, so that start-up can tell a wrong key before any request.
        self.key_check = Table(
            "key_check",
            self.metadata,
            Column("id", Integer, primary_key=True),
            Column("sealed", self.sealed, nullable=False),
        )

    def _slack_table(self, build: Any, name: str) -> Table:
        table: Table = build(self.metadata, name)
        for column in SLACK_SECRET_COLUMNS[name]:
            table.c[column].type = self.sealed
        return table

    def workspace_tables(self) -> list[Table]:
        """Our tables that hold a workspace's data, each with a ``workspace_id`` column."""
        return [t for t in self.metadata.sorted_tables if "workspace_id" in t.c]

    def keyed_hashes(self) -> list[tuple[Table, Column[Any], Column[Any]]]:
        """Columns holding a keyed hash of a sealed secret beside it: (table, secret, hash). Rotation redoes them."""
        return [(self.webhook_secrets, self.webhook_secrets.c.secret, self.webhook_secrets.c.secret_hash)]

    def sealed_columns(self) -> list[tuple[Table, list[Column[Any]]]]:
        """Every table with secret columns, and those columns (for key rotation)."""
        found = []
        for table in self.metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, Sealed)]
            if columns:
                found.append((table, columns))
        return found
