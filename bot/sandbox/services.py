"""The real PostgreSQL and Redis on this machine, for tests and benchmarks: reachability and fresh databases.

A developer's machine may have neither, so tests that need them are skipped, saying why; CI sets
``HAMSA_REQUIRE_SERVICES=1`` (``.ci/run`` does) and then an unreachable service fails the run instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import redis.asyncio as redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("HAMSA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HAMSA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = "HAMSA_REQUIRE_SERVICES"


def services_required() -> bool:
    return os.environ.get(REQUIRE_SERVICES, "").strip().lower() in ("1", "true", "yes")


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def postgres_problem(url: str = POSTGRES_URL, timeout: float = 2.0) -> str | None:
    """Why PostgreSQL can't be used for tests, or None when it answers."""
    try:
        connection = await asyncio.wait_for(asyncpg.connect(_asyncpg_dsn(url)), timeout)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        shown = make_url(url).render_as_string(hide_password=True)
        return f"PostgreSQL is not reachable at {shown} ({type(error).__name__}); set HAMSA_TEST_POSTGRES_URL"
    await connection.close()
    return None


async def redis_problem(url: str = REDIS_URL, timeout: float = 2.0) -> str | None:
    """Why Redis can't be used for tests, or None when it answers."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        return f"Redis is not reachable at {url} ({type(error).__name__}); set HAMSA_TEST_REDIS_URL"
    finally:
        await client.aclose()
    return None


def redis_prefix() -> str:
    """A key prefix of its own for one test (or one benchmark): nothing it writes meets another's."""
    return f"hamsa-test-{secrets.token_hex(6)}"


async def forget_redis_prefix(prefix: str, url: str = REDIS_URL) -> None:
    """Deletes every key a test wrote under ``prefix``."""
    client = redis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@asynccontextmanager
async def fresh_postgres_database(url: str = POSTGRES_URL) -> AsyncIterator[str]:
    """A new, empty database on the server of ``url``, dropped afterwards; yields its URL."""
    name = f"hamsa_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
