"""The durable store, on the embedded SQLite file and on the real PostgreSQL: schema, secrets, forgetting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from alembic import command
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Text, func, inspect, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store import database
from bot.store import store as store_module
from bot.store.installations import CACHE_SECONDS, SealedInstallationStore
from bot.store.schema import SLACK_SECRET_COLUMNS, Tables
from bot.store.secrets import MalformedKey, MissingKeys, SecretBox, WrongKeys, generate_key
from bot.store.store import Store
from bot.store.workspaces import WorkspaceKey

CLIENT_ID = "1111.2222"
BOT_TOKEN = "xoxb-distinctive-bot-token-5f1e0c"
REFRESH_TOKEN = "xoxe-1-distinctive-refresh-token-9ab3"
HAMSA_KEY = "hamsa-distinctive-api-key-77d2e9"
SECRETS = (BOT_TOKEN, REFRESH_TOKEN, HAMSA_KEY)
TEAM = WorkspaceKey.of(None, "T0TEAM")
OTHER = WorkspaceKey.of(None, "T0OTHER")
ORG = WorkspaceKey.of("E0ORG", "T0MEMBER", org_install=True)


def installation(workspace: WorkspaceKey, *, bot_token: str = BOT_TOKEN) -> Installation:
    return Installation(
        app_id="A0HAMSA",
        enterprise_id=workspace.enterprise_id,
        team_id=workspace.team_id,
        team_name="Support",
        bot_token=bot_token,
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_scopes="commands,chat:write",
        bot_refresh_token=REFRESH_TOKEN,
        bot_token_expires_in=43200,
        user_id="U0INSTALLER",
        is_enterprise_install=workspace.is_org_install,
    )


FILLED = (
    "slack_installations",
    "slack_bots",
    "hamsa_connections",
    "workspace_settings",
    "muted_channels",
    "webhook_secrets",
    "webhook_deliveries",
    "outbox",
    "live_previews",
    "subscriptions",
    "alerts",
)


async def fill(store: Store, workspace: WorkspaceKey) -> None:
    """A row of this workspace in every table that holds a workspace's data."""
    await store.installation_store(CLIENT_ID).async_save(installation(workspace))
    tables, now, wid = store.tables, time.time(), workspace.id
    rows = {
        tables.webhook_secrets: {
            "secret": "hsk_x" + wid,
            "secret_hash": "h" + wid,
            "created_by": "U0A",
            "created_at": datetime.now(UTC),
        },
        tables.webhook_deliveries: {"last_at": now},
        tables.outbox: {
            "kind": "call",
            "dedupe_key": "k" + wid,
            "payload": {},
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
        tables.live_previews: {
            "conversation_id": "c",
            "place": "message",
            "channel_id": "C1",
            "message_ts": "1.2",
            "look": {},
            "shown": "x",
            "created_at": now,
            "expires_at": now + 60,
        },
        tables.subscriptions: {
            "channel_id": "C1",
            "statuses": ["FAILED"],
            "created_by": "U0A",
            "created_at": datetime.now(UTC),
        },
        tables.alerts: {
            "subscription_id": 1,
            "conversation_id": "c" + wid,
            "channel_id": "C1",
            "state": "open",
            "created_at": now,
        },
    }
    async with store.engine.begin() as db:
        for table, values in rows.items():
            await db.execute(table.insert().values(workspace_id=wid, **values))
    await store.workspaces.connect(
        workspace, api_key=HAMSA_KEY, api_url="https://api.tryhamsa.com", region="eu", user_id="U0A"
    )
    await store.workspaces.save_settings(workspace, {"link_domains": ["calls.example.com"]}, user_id="U0A")
    await store.workspaces.mute(workspace, "C0NOISY", user_id="U0A")


async def test_migrations_create_every_table_the_code_uses(database_url: str) -> None:
    store = await Store.open(database_url, generate_key())
    try:
        async with store.engine.connect() as db:
            names = await db.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            for table in store.tables.metadata.sorted_tables:
                columns = await db.run_sync(
                    lambda sync, t=table: {c["name"] for c in inspect(sync).get_columns(t.name)}
                )
                assert columns == set(table.c.keys()), table.name
        assert names >= set(store.tables.metadata.tables)
        assert await database.current_revision(store.engine) == database.head_revision()
    finally:
        await store.aclose()


def test_slack_tables_are_slack_sdks_own_columns() -> None:
    """If a slack_sdk upgrade changes its tables, a migration is owed: this fails until one is written."""
    ours = Tables()
    theirs = MetaData()
    expected = {
        "slack_installations": SQLAlchemyInstallationStore.build_installations_table(theirs, "slack_installations"),
        "slack_bots": SQLAlchemyInstallationStore.build_bots_table(theirs, "slack_bots"),
        "slack_oauth_states": SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, "slack_oauth_states"),
    }
    for name, table in expected.items():
        assert list(ours.metadata.tables[name].c.keys()) == list(table.c.keys())


async def test_no_secret_is_stored_in_clear_and_each_reads_back(
    database_url: str, database_bytes: Callable[[str], Awaitable[bytes]]
) -> None:
    store = await Store.open(database_url, generate_key(), client_id=CLIENT_ID)
    try:
        await fill(store, TEAM)
        found = await store.installation_store(CLIENT_ID).async_find_installation(enterprise_id=None, team_id="T0TEAM")
        connection = await store.workspaces.connection(TEAM)
    finally:
        await store.aclose()
    assert found is not None and connection is not None
    assert (found.bot_token, found.bot_refresh_token, connection.api_key) == SECRETS
    assert HAMSA_KEY not in repr(connection)
    stored = await database_bytes(database_url)
    assert b"Support" in stored  # the scan does see the data
    for secret in SECRETS:
        assert secret.encode() not in stored


async def test_rotation_re_encrypts_everything_with_the_first_key(database_url: str) -> None:
    old, new = generate_key(), generate_key()
    store = await Store.open(database_url, old, client_id=CLIENT_ID)
    await fill(store, TEAM)
    await store.aclose()

    store = await Store.open(database_url, f"{new},{old}", client_id=CLIENT_ID)
    rewritten = await store.rotate_keys()
    await store.aclose()
    # two tokens in each of Slack's two tables, the Hamsa key, the webhook secret, and the key check
    assert rewritten == 7

    store = await Store.open(database_url, new, client_id=CLIENT_ID)
    try:
        found = await store.installation_store(CLIENT_ID).async_find_bot(enterprise_id=None, team_id="T0TEAM")
        connection = await store.workspaces.connection(TEAM)
        async with store.engine.connect() as db:
            raw = (await db.execute(select(type_coerce(store.tables.hamsa_connections.c.api_key, Text)))).scalar_one()
            digest = (await db.execute(select(store.tables.webhook_secrets.c.secret_hash))).scalar_one()
    finally:
        await store.aclose()
    assert found is not None and found.bot_token == BOT_TOKEN
    assert connection is not None and connection.api_key == HAMSA_KEY
    assert SecretBox([new]).decrypt(raw) == HAMSA_KEY
    # the webhook secret's keyed hash is redone with the new key, so look-ups find it with that key alone
    assert digest == SecretBox([new]).keyed_hash("hsk_x" + TEAM.id)
    with pytest.raises(WrongKeys):
        SecretBox([old]).decrypt(raw)


async def test_a_wrong_or_missing_key_stops_the_store_from_opening(database_url: str) -> None:
    store = await Store.open(database_url, generate_key(), client_id=CLIENT_ID)
    await fill(store, TEAM)
    await store.aclose()

    with pytest.raises(WrongKeys, match="ENCRYPTION_KEYS"):
        await Store.open(database_url, generate_key())
    with pytest.raises(MissingKeys, match="ENCRYPTION_KEYS"):
        await Store.open(database_url, None)
    with pytest.raises(MalformedKey, match="ENCRYPTION_KEYS: key number 2") as refused:
        await Store.open(database_url, f"{generate_key()},not-a-key")
    assert "not-a-key" not in str(refused.value)


async def test_forget_deletes_every_row_of_one_workspace_and_nothing_else(database_url: str) -> None:
    store = await Store.open(database_url, generate_key(), client_id=CLIENT_ID)
    try:
        for workspace in (TEAM, OTHER, ORG):
            await fill(store, workspace)
        await store.workspaces.forget(TEAM)
        await store.workspaces.forget(ORG)
        remaining: dict[str, list[tuple[str | None, str | None]]] = {}
        async with store.engine.connect() as db:
            for table in store.tables.metadata.sorted_tables:
                if "workspace_id" in table.c:
                    rows = (await db.execute(select(table.c.workspace_id))).scalars().all()
                    remaining[table.name] = [tuple(r.split("/")) for r in rows]  # type: ignore[misc]
                elif "team_id" in table.c:
                    rows = (await db.execute(select(table.c.enterprise_id, table.c.team_id))).all()
                    remaining[table.name] = [(e, t) for e, t in rows]
        store_for_bolt = store.installation_store(CLIENT_ID)
        assert await store_for_bolt.async_find_installation(enterprise_id=None, team_id="T0TEAM") is None
        assert (
            await store_for_bolt.async_find_installation(
                enterprise_id="E0ORG", team_id=None, is_enterprise_install=True
            )
            is None
        )
    finally:
        await store.aclose()
    # every table that holds a workspace's data holds only the other workspace's rows
    assert {name: rows for name, rows in remaining.items() if name in FILLED} == {
        name: ([(None, "T0OTHER")] if name.startswith("slack_") else [("-", "T0OTHER")]) for name in FILLED
    }
    assert set(remaining) == set(FILLED), "a table holding workspace data is not filled by this test"


async def test_an_org_wide_install_is_stored_and_found_by_its_organisation(database_url: str) -> None:
    store = await Store.open(database_url, generate_key(), client_id=CLIENT_ID)
    try:
        await fill(store, ORG)
        installations = store.installation_store(CLIENT_ID)
        found = await installations.async_find_installation(
            enterprise_id="E0ORG", team_id="T0ANYTEAM", is_enterprise_install=True
        )
        assert found is not None and found.is_enterprise_install and found.team_id is None
        assert ORG.id == "E0ORG/-"
    finally:
        await store.aclose()


async def test_found_installations_are_cached_until_a_write(database_url: str) -> None:
    store = await Store.open(database_url, generate_key(), client_id=CLIENT_ID)
    installations = store.installation_store(CLIENT_ID)
    try:
        await installations.async_save(installation(TEAM))
        first = await installations.async_find_installation(enterprise_id=None, team_id="T0TEAM")
        assert first is not None
        first.bot_token = "changed by the caller"  # Bolt edits what it gets; the cache must not see it
        async with store.engine.begin() as db:  # a change behind the cache's back, as another replica makes
            await db.execute(store.tables.installations.update().values(team_name="Renamed"))
        cached = await installations.async_find_installation(enterprise_id=None, team_id="T0TEAM")
        assert cached is not None and cached.team_name == "Support" and cached.bot_token == BOT_TOKEN
        await installations.async_save(installation(TEAM, bot_token="xoxb-new-token"))
        fresh = await installations.async_find_installation(enterprise_id=None, team_id="T0TEAM")
        assert fresh is not None and fresh.bot_token == "xoxb-new-token"
    finally:
        await store.aclose()


async def test_muted_channels_are_kept_per_workspace_with_who_muted_them_last(database_url: str) -> None:
    store = await Store.open(database_url, None)
    data = store.workspaces
    try:
        await data.mute(TEAM, "C0NOISY", user_id="U0A")
        await data.mute(TEAM, "C0NOISY", user_id="U0B")  # again: one row, the last who muted it
        await data.mute(TEAM, "C0TRIAGE", user_id="U0A")
        await data.mute(OTHER, "C0OTHERS", user_id="U0C")
        assert await data.muted_channels(TEAM) == {"C0NOISY", "C0TRIAGE"}
        muted = await data.muted_channel(TEAM, "C0NOISY")
        assert muted is not None and muted.muted_by == "U0B" and muted.muted_at.tzinfo is not None
        assert await data.muted_channel(OTHER, "C0NOISY") is None

        await data.unmute(TEAM, "C0NOISY")
        await data.unmute(TEAM, "C0NEVERMUTED")
        assert await data.muted_channels(TEAM) == {"C0TRIAGE"}
        assert await data.muted_channels(OTHER) == {"C0OTHERS"}
    finally:
        await store.aclose()


async def test_a_database_of_the_first_schema_is_upgraded_with_its_rows_kept(database_url: str) -> None:
    engine = database.create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(database._alembic_config(sync), "0001"))
        store = await Store.open(database_url, None)
        await store.workspaces.save_settings(TEAM, {"shared_channels": "full"}, user_id="U0A")
        await store.aclose()
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.downgrade(database._alembic_config(sync), "0001"))
            await connection.run_sync(lambda sync: command.upgrade(database._alembic_config(sync), "head"))
    finally:
        await engine.dispose()
    store = await Store.open(database_url, None)
    try:
        assert await store.workspaces.settings(TEAM) == {"shared_channels": "full"}
        assert await store.workspaces.muted_channels(TEAM) == frozenset()
        assert await database.current_revision(store.engine) == database.head_revision()
    finally:
        await store.aclose()


async def test_a_users_missing_installation_is_remembered_a_workspaces_is_not(database_url: str) -> None:
    """Bolt asks, on each request from someone other than the installer, for that person's own installation."""
    store = await Store.open(database_url, generate_key(), client_id=CLIENT_ID)
    now = [0.0]
    installations = SealedInstallationStore(CLIENT_ID, store.engine, store.tables, timer=lambda: now[0])
    another_replica = store.installation_store(CLIENT_ID)
    someone = Installation(**{**installation(TEAM).to_dict_for_copying(), "user_id": "U0SOMEONE"})
    try:
        assert await installations.async_find_installation(enterprise_id=None, team_id="T0TEAM") is None
        assert (
            await installations.async_find_installation(enterprise_id=None, team_id="T0TEAM", user_id="U0SOMEONE")
            is None
        )
        await another_replica.async_save(someone)

        assert await installations.async_find_installation(enterprise_id=None, team_id="T0TEAM") is not None
        assert (
            await installations.async_find_installation(enterprise_id=None, team_id="T0TEAM", user_id="U0SOMEONE")
            is None
        )
        now[0] += CACHE_SECONDS + 1
        found = await installations.async_find_installation(enterprise_id=None, team_id="T0TEAM", user_id="U0SOMEONE")
        assert found is not None and found.user_id == "U0SOMEONE"
    finally:
        await store.aclose()


async def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    stores = await asyncio.gather(*(Store.open(postgres_url, None) for _ in range(3)))
    try:
        async with stores[0].engine.connect() as db:
            count = (await db.execute(select(func.count()).select_from(stores[0].tables.hamsa_connections))).scalar()
        assert count == 0
        assert await database.current_revision(stores[0].engine) == database.head_revision()
    finally:
        for store in stores:
            await store.aclose()


@pytest.mark.parametrize(
    ("raw", "driver"),
    [
        ("sqlite:///hamsa-bot.db", "sqlite+aiosqlite"),
        ("sqlite:////var/lib/hamsa/bot.db", "sqlite+aiosqlite"),
        ("postgresql://bot:pw@db.internal:5432/hamsa", "postgresql+asyncpg"),
        ("postgres://bot@db/hamsa", "postgresql+asyncpg"),
    ],
)
def test_database_urls_get_their_async_driver(raw: str, driver: str) -> None:
    assert database.async_url(raw).drivername == driver


@pytest.mark.parametrize("raw", ["mysql://root@localhost/db", "not a url", ""])
def test_unusable_database_urls_are_named_without_the_password(raw: str) -> None:
    with pytest.raises(database.DatabaseUrlProblem, match="DATABASE_URL"):
        database.async_url(raw)


def test_the_secret_columns_of_slacks_tables_are_sealed() -> None:
    tables = Tables()
    sealed = {table.name: [c.name for c in columns] for table, columns in tables.sealed_columns()}
    for name, columns in SLACK_SECRET_COLUMNS.items():
        assert sealed[name] == list(columns)


def all_find_no_key_check(monkeypatch: pytest.MonkeyPatch, replicas: int) -> None:
    """The race of replicas starting together: each looks for the key check before any has written it."""
    together = asyncio.Barrier(replicas)
    first_looks = iter(range(replicas))
    compare = store_module._compare_keys

    async def looking_together(db: AsyncConnection, tables: Tables) -> bool:
        if next(first_looks, None) is not None:
            await together.wait()
        return await compare(db, tables)

    monkeypatch.setattr(store_module, "_compare_keys", looking_together)


async def test_replicas_starting_at_once_on_a_new_postgres_database_migrate_it_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key()
    all_find_no_key_check(monkeypatch, 4)
    stores = await asyncio.gather(*(Store.open(postgres_url, key) for _ in range(4)))
    try:
        async with stores[0].engine.connect() as connection:
            assert await connection.run_sync(database.current_revision_of) == database.head_revision()
    finally:
        for store in stores:
            await store.aclose()


async def test_replicas_starting_at_once_with_different_keys_stop_all_but_the_first(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    all_find_no_key_check(monkeypatch, 4)
    opened = await asyncio.gather(*(Store.open(postgres_url, generate_key()) for _ in range(4)), return_exceptions=True)
    stores = [each for each in opened if isinstance(each, Store)]
    for store in stores:
        await store.aclose()
    assert len(stores) == 1
    assert all(isinstance(each, WrongKeys) for each in opened if not isinstance(each, Store))
