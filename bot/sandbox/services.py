"""The real PostgreSQL, Redis and Chromium on this machine, for tests and benchmarks: reachability, fresh databases.

A developer's machine may have neither, so tests that need them are skipped, saying why; CI sets
``HAMSA_REQUIRE_SERVICES=1`` (``.ci/run`` does) and then an unreachable service fails the run instead.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import redis.asyncio as redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("HAMSA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HAMSA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = "HAMSA_REQUIRE_SERVICES"
# Debian's own Chromium, driven by Playwright's Python package: Playwright's browser downloads are never used.
CHROMIUM = os.environ.get("HAMSA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Nothing but the pages a test opens: no update checks, sync or other calls out of the machine.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


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


def pg_dump_problem() -> str | None:
    """Why a PostgreSQL database can't be dumped for a scan, or None when it can."""
    if shutil.which("pg_dump") is None:
        return "pg_dump is not installed (Debian/Ubuntu: apt-get install postgresql-client)"
    return None


async def database_bytes(url: str) -> bytes:
    """Everything a database holds, as bytes, for scanning: the SQLite files, or a ``pg_dump`` of the database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(str(parsed.database))
        return b"".join(part.read_bytes() for part in sorted(path.parent.glob(path.name + "*")))
    command = ["pg_dump", "-h", str(parsed.host), "-p", str(parsed.port or 5432), "-U", str(parsed.username)]
    environment = {**os.environ, "PGPASSWORD": parsed.password or ""}
    dump = await asyncio.to_thread(
        subprocess.run, [*command, str(parsed.database)], capture_output=True, check=True, env=environment
    )
    return dump.stdout


def chromium_problem(executable: str = CHROMIUM) -> str | None:
    """Why a real browser can't be driven for tests, or None when it can."""
    if not os.access(executable, os.X_OK):
        return (
            f"Chromium is not installed at {executable} (Debian/Ubuntu: apt-get install chromium; "
            "elsewhere set HAMSA_TEST_CHROMIUM to its executable)"
        )
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (make venv installs it with the dev dependencies)"
    return None
