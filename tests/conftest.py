"""Shared fixtures: the whole app on loopback, against stand-ins for Slack and Hamsa."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.observability import configure_logging
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY, SIGNING_SECRET, Stack, start_stack


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
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "aiohttp.access", "slack_sdk")}
    stream = io.StringIO()
    configure_logging("DEBUG", [SIGNING_SECRET, BOT_TOKEN, HAMSA_KEY], stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)
