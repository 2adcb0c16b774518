"""The durable store, opened once per process: engine, migrations, keys, and its parts."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import Text, inspect, select, type_coerce
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store import database
from bot.store.installations import SealedInstallationStore
from bot.store.schema import OAUTH_STATES, Tables
from bot.store.secrets import ENCRYPTION_KEYS, KeyProblem, MissingKeys, SecretBox, parse_keys
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

        Raises :class:`~bot.store.secrets.KeyProblem` (wrong, malformed or missing keys),
        :class:`~bot.store.database.DatabaseUrlProblem` or :class:`~bot.store.database.DatabaseUnavailable`
        (unreachable, or refusing the app); each names its setting.
        """
        keys = parse_keys(encryption_keys)
        box = SecretBox(keys) if keys else None
        tables = Tables(box)
        problem = database.sqlite_file_problem(database_url)
        if problem is not None:
            raise database.unavailable(database_url, problem)
        engine = database.create_engine(database_url)
        try:
            await database.upgrade(engine)
            await _check_keys(engine, tables)
        except (OSError, DBAPIError) as error:
            await engine.dispose()
            raise database.unavailable(database_url, error) from error
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


@dataclass(frozen=True)
class StoreReport:
    """What ``hamsa-bot check`` learns of the database, without writing to it."""

    exists: bool  # False: no database there yet (``serve`` creates it)
    revision: str | None  # the schema's migration; None: no tables yet
    head: str | None  # the newest migration, which ``serve`` brings it to
    keys_checked: bool  # ENCRYPTION_KEYS decrypted the stored check value
    key_problem: str | None  # why ENCRYPTION_KEYS would stop start-up, in the words start-up uses


async def inspect_store(database_url: str, encryption_keys: str | None) -> StoreReport:
    """Checks DATABASE_URL and ENCRYPTION_KEYS against the database, only reading (a SQLite file read-only).

    Raises :class:`~bot.store.database.DatabaseUrlProblem` or :class:`~bot.store.database.DatabaseUnavailable`
    as :meth:`Store.open` does; a problem with the keys is reported instead.
    """
    head = database.head_revision()
    missing = database.sqlite_file_problem(database_url)
    if missing is not None:
        raise database.unavailable(database_url, missing)
    problem: KeyProblem | None = None
    try:
        keys = parse_keys(encryption_keys)
        tables = Tables(SecretBox(keys) if keys else None)
    except KeyProblem as malformed:
        problem, tables = malformed, Tables()
    engine = database.create_engine(database_url, read_only=True)
    if engine is None:
        return StoreReport(False, None, head, keys_checked=False, key_problem=None if problem is None else str(problem))
    checked = False
    try:
        async with engine.connect() as db:
            revision = await db.run_sync(database.current_revision_of)
            found = await db.run_sync(lambda sync: inspect(sync).has_table(tables.key_check.name))
            if found and problem is None:
                try:
                    checked = await _compare_keys(db, tables)
                except KeyProblem as refused:
                    problem = refused
    except (OSError, DBAPIError) as error:
        raise database.unavailable(database_url, error) from error
    finally:
        await engine.dispose()
    return StoreReport(
        True, revision, head, keys_checked=checked, key_problem=None if problem is None else str(problem)
    )


async def _compare_keys(db: AsyncConnection, tables: Tables) -> bool:
    """Whether the keys decrypt the stored check value (False: none is stored); raises when they can't."""
    stored = (await db.execute(select(type_coerce(tables.key_check.c.sealed, Text)))).scalar_one_or_none()
    if stored is None:
        return False
    if tables.sealed.box is None:
        raise MissingKeys(f"{ENCRYPTION_KEYS} is not set, but the database holds secrets encrypted with it.")
    tables.sealed.box.decrypt(stored)  # raises WrongKeys
    return True


async def _check_keys(engine: AsyncEngine, tables: Tables) -> None:
    """A wrong key must stop start-up, not fail the first request that reads a secret."""
    try:
        async with engine.begin() as db:
            if not await _compare_keys(db, tables) and tables.sealed.box is not None:
                await db.execute(tables.key_check.insert().values(id=1, sealed=database.KEY_CHECK_TEXT))
    except IntegrityError:
        # Another replica starting on the new database wrote its check first: compare with that one.
        async with engine.begin() as db:
            await _compare_keys(db, tables)
