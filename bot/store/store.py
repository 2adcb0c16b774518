"""The durable store, opened once per process: engine, migrations, keys, and its parts."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import Text, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import database
from bot.store.installations import SealedInstallationStore
from bot.store.schema import OAUTH_STATES, Tables
from bot.store.secrets import ENCRYPTION_KEYS, MissingKeys, SecretBox, parse_keys
from bot.store.workspaces import WorkspaceData


@dataclass
class Store:
    engine: AsyncEngine
    tables: Tables
    box: SecretBox | None
    workspaces: WorkspaceData

    @classmethod
    async def open(cls, database_url: str, encryption_keys: str | None, *, client_id: str | None = None) -> Store:
        """Connects, migrates to the newest schema and checks the keys against what is stored.

        Raises :class:`~bot.store.secrets.KeyProblem` (wrong, malformed or missing keys) or
        :class:`~bot.store.database.DatabaseUrlProblem`; both name the setting.
        """
        keys = parse_keys(encryption_keys)
        box = SecretBox(keys) if keys else None
        tables = Tables(box)
        engine = database.create_engine(database_url)
        try:
            await database.upgrade(engine)
            await _check_keys(engine, tables)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine=engine, tables=tables, box=box, workspaces=WorkspaceData(engine, tables, client_id))

    def installation_store(self, client_id: str) -> SealedInstallationStore:
        return SealedInstallationStore(client_id, self.engine, self.tables)

    def oauth_state_store(self, expiration_seconds: int) -> AsyncSQLAlchemyOAuthStateStore:
        return AsyncSQLAlchemyOAuthStateStore(expiration_seconds, self.engine, table_name=OAUTH_STATES)

    async def rotate_keys(self) -> int:
        """Re-encrypts every stored secret with the first key; returns how many values were rewritten."""
        box = self._require_box()
        rewritten = 0
        async with self.engine.begin() as db:
            for table, columns in self.tables.sealed_columns():
                key = list(table.primary_key.columns)
                raw = [type_coerce(column, Text).label(column.name) for column in columns]
                rows = (await db.execute(select(*key, *raw))).mappings().all()
                for row in rows:
                    values = {c.name: type_coerce(box.rotate(row[c.name]), Text) for c in columns if row[c.name]}
                    if not values:
                        continue
                    match = [column == row[column.name] for column in key]
                    await db.execute(table.update().where(*match).values(values))
                    rewritten += len(values)
            # A keyed hash beside a secret is made with the first key, so the look-up finds it with that key alone.
            for table, secret, digest in self.tables.keyed_hashes():
                key = list(table.primary_key.columns)
                for row in (await db.execute(select(*key, secret))).mappings().all():
                    match = [column == row[column.name] for column in key]
                    await db.execute(
                        table.update().where(*match).values({digest.name: box.keyed_hash(row[secret.name])})
                    )
        return rewritten

    def _require_box(self) -> SecretBox:
        if self.box is None:
            raise MissingKeys(f"{ENCRYPTION_KEYS} is not set.")
        return self.box

    async def aclose(self) -> None:
        await self.engine.dispose()


async def _check_keys(engine: AsyncEngine, tables: Tables) -> None:
    """A wrong key must stop start-up, not fail the first request that reads a secret."""
    async with engine.begin() as db:
        stored = (await db.execute(select(type_coerce(tables.key_check.c.sealed, Text)))).scalar_one_or_none()
        if tables.sealed.box is None:
            if stored is not None:
                raise MissingKeys(f"{ENCRYPTION_KEYS} is not set, but the database holds secrets encrypted with it.")
            return
        if stored is None:
            await db.execute(tables.key_check.insert().values(id=1, sealed=database.KEY_CHECK_TEXT))
        else:
            tables.sealed.box.decrypt(stored)  # raises WrongKeys
