"""``hamsa-bot db …`` and ``hamsa-bot keys …``: what an operator runs by hand. Errors name the setting."""

from __future__ import annotations

import sys

from bot.settings import Settings
from bot.store import database
from bot.store.database import DatabaseUnavailable, DatabaseUrlProblem
from bot.store.secrets import KeyProblem, generate_key
from bot.store.store import Store


def _fail(message: str) -> int:
    print(f"hamsa-bot: {message}", file=sys.stderr)
    return 1


def _keys(settings: Settings) -> str | None:
    return settings.encryption_keys.get_secret_value() if settings.encryption_keys else None


async def upgrade_database(settings: Settings) -> int:
    """Applies every pending migration (``serve`` does it too, at start-up)."""
    try:
        store = await Store.open(settings.database_url, _keys(settings))
    except (DatabaseUrlProblem, DatabaseUnavailable, KeyProblem) as error:
        return _fail(str(error))
    try:
        revision = await database.current_revision(store.engine)
    finally:
        await store.aclose()
    print(f"Database {database.describe(database.async_url(settings.database_url))} is at revision {revision}.")
    return 0


def generate_key_command() -> int:
    key = generate_key()
    print(key)
    print(
        "Put it first in ENCRYPTION_KEYS (comma-separated; the first encrypts, all decrypt), "
        "then run `hamsa-bot keys rotate`.",
        file=sys.stderr,
    )
    return 0


async def rotate_keys(settings: Settings) -> int:
    """Re-encrypts every stored secret with the first key of ENCRYPTION_KEYS."""
    try:
        store = await Store.open(settings.database_url, _keys(settings))
    except (DatabaseUrlProblem, DatabaseUnavailable, KeyProblem) as error:
        return _fail(str(error))
    try:
        count = await store.rotate_keys()
    except KeyProblem as error:
        return _fail(str(error))
    finally:
        await store.aclose()
    print(f"Re-encrypted {count} stored secret(s) with the first key of ENCRYPTION_KEYS.")
    print("Once every replica runs with the new list, the old keys can be removed from it.")
    return 0
