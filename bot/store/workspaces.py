"""What the app keeps per workspace besides Slack's installation: its Hamsa connection and its settings.

A workspace is what one installation serves: a team, or a whole Enterprise Grid organisation for an
org-wide install. Every row of ours carries its ``workspace_id``; :meth:`WorkspaceData.forget` deletes
them all, with Slack's installation rows, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.schema import Tables


@dataclass(frozen=True, slots=True)
class WorkspaceKey:
    """Which installation serves a request: by team, or by organisation for an org-wide install."""

    enterprise_id: str | None
    team_id: str | None

    @classmethod
    def of(cls, enterprise_id: str | None, team_id: str | None, *, org_install: bool = False) -> WorkspaceKey:
        return cls(enterprise_id or None, None if org_install else (team_id or None))

    @classmethod
    def parse(cls, workspace_id: str) -> WorkspaceKey:
        """The key of an ``id`` as stored (``E…/T…``, ``-/T…``, ``E…/-``)."""
        enterprise, _, team = workspace_id.partition("/")
        return cls(None if enterprise in ("", "-") else enterprise, None if team in ("", "-") else team)

    @property
    def id(self) -> str:
        """``E…/T…``, ``-/T…`` for a team outside any organisation, ``E…/-`` for an org-wide install."""
        return f"{self.enterprise_id or '-'}/{self.team_id or '-'}"

    @property
    def is_org_install(self) -> bool:
        return self.team_id is None


@dataclass(frozen=True, slots=True)
class HamsaConnection:
    """A workspace's Hamsa account. ``api_key`` never appears in repr (or anywhere else)."""

    api_key: str = field(repr=False)
    api_url: str
    region: str
    key_last4: str
    connected_by: str
    connected_at: datetime


@dataclass(frozen=True, slots=True)
class MutedChannel:
    """A channel where someone ran ``/hamsa mute``, and who."""

    channel_id: str
    muted_by: str
    muted_at: datetime


def last4(api_key: str) -> str:
    return api_key[-4:]


class WorkspaceData:
    """Reads and writes a workspace's rows."""

    def __init__(self, engine: AsyncEngine, tables: Tables, client_id: str | None = None) -> None:
        self.engine = engine
        self.tables = tables
        self.client_id = client_id

    async def connection(self, workspace: WorkspaceKey) -> HamsaConnection | None:
        table = self.tables.hamsa_connections
        async with self.engine.connect() as db:
            row = (await db.execute(select(table).where(table.c.workspace_id == workspace.id))).mappings().first()
        if row is None:
            return None
        return HamsaConnection(
            api_key=row["api_key"],
            api_url=row["api_url"],
            region=row["region"],
            key_last4=row["key_last4"],
            connected_by=row["connected_by"],
            connected_at=_aware(row["connected_at"]),
        )

    async def connect(
        self, workspace: WorkspaceKey, *, api_key: str, api_url: str, region: str, user_id: str
    ) -> HamsaConnection:
        connection = HamsaConnection(
            api_key=api_key,
            api_url=api_url,
            region=region,
            key_last4=last4(api_key),
            connected_by=user_id,
            connected_at=datetime.now(UTC),
        )
        table = self.tables.hamsa_connections
        values = {
            "api_key": api_key,
            "api_url": api_url,
            "region": region,
            "key_last4": connection.key_last4,
            "connected_by": user_id,
            "connected_at": connection.connected_at,
        }
        async with self.engine.begin() as db:
            await db.execute(delete(table).where(table.c.workspace_id == workspace.id))
            await db.execute(table.insert().values(workspace_id=workspace.id, **values))
        return connection

    async def disconnect(self, workspace: WorkspaceKey) -> None:
        table = self.tables.hamsa_connections
        async with self.engine.begin() as db:
            await db.execute(delete(table).where(table.c.workspace_id == workspace.id))

    async def settings(self, workspace: WorkspaceKey) -> dict[str, Any] | None:
        table = self.tables.workspace_settings
        async with self.engine.connect() as db:
            query = select(table.c.settings).where(table.c.workspace_id == workspace.id)
            value = (await db.execute(query)).scalar_one_or_none()
        return value if isinstance(value, dict) else None

    async def save_settings(self, workspace: WorkspaceKey, settings: dict[str, Any], *, user_id: str) -> None:
        table = self.tables.workspace_settings
        async with self.engine.begin() as db:
            await db.execute(delete(table).where(table.c.workspace_id == workspace.id))
            await db.execute(
                table.insert().values(
                    workspace_id=workspace.id, settings=settings, updated_by=user_id, updated_at=datetime.now(UTC)
                )
            )

    async def muted_channels(self, workspace: WorkspaceKey) -> frozenset[str]:
        table = self.tables.muted_channels
        async with self.engine.connect() as db:
            rows = await db.execute(select(table.c.channel_id).where(table.c.workspace_id == workspace.id))
            return frozenset(rows.scalars())

    async def muted_channel(self, workspace: WorkspaceKey, channel_id: str) -> MutedChannel | None:
        table = self.tables.muted_channels
        match = and_(table.c.workspace_id == workspace.id, table.c.channel_id == channel_id)
        async with self.engine.connect() as db:
            row = (await db.execute(select(table).where(match))).mappings().first()
        if row is None:
            return None
        return MutedChannel(row["channel_id"], row["muted_by"], _aware(row["muted_at"]))

    async def mute(self, workspace: WorkspaceKey, channel_id: str, *, user_id: str) -> None:
        """Mutes the channel (again: who muted it last is kept)."""
        table = self.tables.muted_channels
        match = and_(table.c.workspace_id == workspace.id, table.c.channel_id == channel_id)
        async with self.engine.begin() as db:
            await db.execute(delete(table).where(match))
            await db.execute(
                table.insert().values(
                    workspace_id=workspace.id, channel_id=channel_id, muted_by=user_id, muted_at=datetime.now(UTC)
                )
            )

    async def unmute(self, workspace: WorkspaceKey, channel_id: str) -> None:
        table = self.tables.muted_channels
        async with self.engine.begin() as db:
            await db.execute(
                delete(table).where(table.c.workspace_id == workspace.id, table.c.channel_id == channel_id)
            )

    async def forget(self, workspace: WorkspaceKey) -> None:
        """Delete everything the app holds for this workspace, Slack's installation included."""
        tables = self.tables
        async with self.engine.begin() as db:
            for table in tables.workspace_tables():
                await db.execute(delete(table).where(table.c.workspace_id == workspace.id))
            for table in (tables.installations, tables.bots):
                match = and_(table.c.enterprise_id == workspace.enterprise_id, table.c.team_id == workspace.team_id)
                if self.client_id is not None:
                    match = and_(match, table.c.client_id == self.client_id)
                await db.execute(delete(table).where(match))


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
