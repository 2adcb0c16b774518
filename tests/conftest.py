"""Shared fixtures: the whole app on loopback, against stand-ins for Slack and Hamsa; real databases."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.observability import configure_logging
from bot.sandbox import services
from bot.sandbox.services import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REDIS_URL,
    chromium_problem,
    forget_redis_prefix,
    fresh_postgres_database,
    pg_dump_problem,
    postgres_problem,
    redis_prefix,
    redis_problem,
    services_required,
)
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY, SIGNING_SECRET, Stack, start_stack

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    """The real app over HTTP with short Hamsa budgets and Retry-After caps, so fault tests stay fast."""
    async with await start_stack(
        hamsa_lookup_budget=2.0,
        hamsa_read_timeout=1.0,
        hamsa_connect_timeout=0.5,
        hamsa_retry_after_cap=0.5,
        slack_retry_after_cap=0.5,
    ) as running:
        yield running


@pytest.fixture
def production_logging() -> Iterator[io.StringIO]:
    """The app's own logging set-up, writing into a buffer; the previous set-up is restored after.

    Requested before ``stack``, as in production: Bolt fixes its loggers' levels when the app is built.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    noisy = {
        name: logging.getLogger(name).level for name in ("httpx", "httpcore", "aiohttp.access", "slack_sdk", "alembic")
    }
    stream = io.StringIO()
    configure_logging("DEBUG", [SIGNING_SECRET, BOT_TOKEN, HAMSA_KEY], stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)


async def _require(problem: str | None) -> None:
    if problem is None:
        return
    if services_required():
        pytest.fail(f"{problem} (required: HAMSA_REQUIRE_SERVICES is set, as in .ci/run)")
    pytest.skip(problem)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database on this machine's server, dropped after the test."""
    await _require(await postgres_problem())
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each store test runs twice: on the embedded SQLite file and on the real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hamsa-bot.db'}"
        return
    await _require(await postgres_problem())
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def redis_url() -> AsyncIterator[tuple[str, str]]:
    """This machine's Redis, and a key prefix of the test's own (its keys are deleted after)."""
    await _require(await redis_problem())
    prefix = redis_prefix()
    try:
        yield REDIS_URL, prefix
    finally:
        await forget_redis_prefix(prefix)


@pytest.fixture
def database_bytes() -> Callable[[str], Awaitable[bytes]]:
    """Reads everything a database holds, as bytes, to scan it for secrets in clear (PostgreSQL: a pg_dump)."""

    async def read(url: str) -> bytes:
        if not url.startswith("sqlite"):
            await _require(pg_dump_problem())
        return await services.database_bytes(url)

    return read


@pytest.fixture
async def chromium() -> AsyncIterator[BrowserContext]:
    """Headless Chromium (Debian's package) under Playwright: yields a fresh browser context, as a new visitor."""
    await _require(chromium_problem())
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            context = await browser.new_context()
            yield context
            await context.close()
        finally:
            await browser.close()
