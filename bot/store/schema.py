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
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
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

    def sealed_columns(self) -> list[tuple[Table, list[Column[Any]]]]:
        """Every table with secret columns, and those columns (for key rotation)."""
        found = []
        for table in self.metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, Sealed)]
            if columns:
                found.append((table, columns))
        return found
