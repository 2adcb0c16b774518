"""Shared fixtures: the whole app on loopback, against stand-ins for Slack and Hamsa."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox.stack import Stack, start_stack


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    """The real app over HTTP with short Hamsa budgets, so fault tests stay fast."""
    async with await start_stack(
        hamsa_lookup_budget=2.0,
        hamsa_read_timeout=1.0,
        hamsa_connect_timeout=0.5,
        hamsa_retry_after_cap=0.5,
    ) as running:
        yield running
