"""The database: which engine a DATABASE_URL means, migrations, and the start-up key check.

``DATABASE_URL`` takes SQLAlchemy-style URLs without a driver; the app picks the async one itself:
``sqlite:///hamsa-bot.db`` (a file in the working directory, the embedded default), ``sqlite:////abs/path.db``,
``postgresql://user:password@host:5432/db`` (asyncpg).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, overload

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DATABASE_URL = "DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///hamsa-bot.db"
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
# Replicas starting together must not migrate at once; any constant shared by them will do.
_MIGRATION_LOCK = 0x48414D5341
KEY_CHECK_TEXT = "hamsa-for-slack key check"
# A database that does not answer must stop start-up with words, not hang it (asyncpg waits 60 s).
CONNECT_SECONDS = 10


class DatabaseUrlProblem(ValueError):
    """DATABASE_URL can't be used; the message names the setting and never shows a password."""


class DatabaseUnavailable(Exception):
    """The database DATABASE_URL names can't be reached or refused the app; the message names the setting."""


def unavailable(raw_url: str, error: BaseException | str) -> DatabaseUnavailable:
    """The words for a database that failed: the driver's own first line, never the password or a statement."""
    url = make_url(raw_url.strip())
    if isinstance(error, str):
        detail = error
    else:
        cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
        detail = (str(cause).strip().splitlines() or [""])[0][:200] or type(cause).__name__
    if url.password:
        detail = detail.replace(str(url.password), "***")
    return DatabaseUnavailable(f"the database at {DATABASE_URL} ({describe(url)}) can't be used: {detail}.")


def async_url(raw: str) -> URL:
    """The SQLAlchemy URL with the async driver for its database."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise DatabaseUrlProblem(
            f"{DATABASE_URL} is not a database URL (for example {DEFAULT_DATABASE_URL} or "
            "postgresql://user@host:5432/db)."
        ) from None
    backend = url.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise DatabaseUrlProblem(f"{DATABASE_URL}: only sqlite and postgresql databases are supported.")
    return url.set(drivername=_ASYNC_DRIVERS[backend])


def sqlite_file_problem(raw_url: str) -> str | None:
    """Why SQLite could not open the file DATABASE_URL names, found before trying.

    A failed open is worse than a clear word: aiosqlite (0.22) then leaves its worker thread to call back
    into the event loop, which prints a traceback when the process stops at once, as ``serve`` does.
    """
    url = async_url(raw_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(str(url.database))
    folder = path.parent
    if not folder.is_dir():
        return f"the directory {folder} does not exist"
    if path.is_dir():
        return f"{path} is a directory"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"{path} can't be read and written by this user"
    if not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
        return f"the directory {folder} can't be written by this user"
    return None


def describe(url: URL) -> str:
    """The URL for messages and logs: the password hidden."""
    return url.render_as_string(hide_password=True)


@overload
def create_engine(raw_url: str) -> AsyncEngine: ...


@overload
def create_engine(raw_url: str, *, read_only: bool) -> AsyncEngine | None: ...


def create_engine(raw_url: str, *, read_only: bool = False) -> AsyncEngine | None:
    """The engine for DATABASE_URL.

    ``read_only`` (for checks) opens a SQLite file read-only, and gives None where there is no file yet
    instead of creating one.
    """
    url = async_url(raw_url)
    options: dict[str, Any] = {}
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite:
        # One connection: SQLite takes one writer at a time, and writers on several connections wait for
        # each other in its busy handler, which sleeps in steps of up to 100 ms. Queued here instead, in
        # the event loop, each waits only as long as the statements before it. ``timeout`` still covers
        # another process (``hamsa-bot keys rotate`` beside a running app).
        options.update(connect_args={"timeout": 30}, pool_size=1, max_overflow=0)
    else:
        # pre_ping: a connection the server dropped (a restart, a failover) is replaced, not handed out.
        options.update(
            pool_size=10,
            max_overflow=20,
            pool_recycle=1800,
            pool_pre_ping=True,
            connect_args={"timeout": CONNECT_SECONDS},
        )
    if sqlite and read_only:
        path = Path(url.database or "")
        if url.database in (None, "", ":memory:") or not path.is_file():
            return None
        url = url.set(database=f"file:{path.resolve()}", query={"mode": "ro", "uri": "true"})
    engine = create_async_engine(url, **options)
    if sqlite and not read_only:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    if not sqlite:
        event.listen(engine.sync_engine, "do_connect", _refused_is_operational)
    return engine


def _refused_is_operational(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """A server that refuses or does not answer a connection is an ``OperationalError``, as a lost one is.

    asyncpg raises ``OSError`` (refused, unreachable, timed out) when connecting, which SQLAlchemy lets
    through as it is; translated, every "the database is not answering" is one kind of error.
    """
    try:
        return dialect.loaded_dbapi.connect(*cargs, **cparams)
    except OSError as error:
        raise dialect.loaded_dbapi.OperationalError("could not connect: " + type(error).__name__) from error


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one writer writes (several processes on one machine). With WAL,
    # synchronous=NORMAL keeps every commit through a crash of the app (not of the machine's power) and
    # spares a disk flush per commit; production deployments that need more run on Postgres.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "bot.store:migrations")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
    command.upgrade(_alembic_config(connection), "head")


def current_revision_of(connection: Connection) -> str | None:
    """The schema's migration, read through a synchronous connection (``run_sync``)."""
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (safe to run from several replicas at once)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(current_revision_of)


async def ping(engine: AsyncEngine, timeout: float = 2.0) -> bool:
    """Whether the database answers a trivial query within ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout), engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
    except Exception:  # any failure means "not ready"; the caller only needs yes or no
        return False
    return True
