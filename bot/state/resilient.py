"""Redis, with this process's own memory to fall back on while Redis is lost.

Requests are never refused because Redis is away: each operation that fails goes to the in-process
state instead (one warning when Redis goes, one line when it is back), and a probe reconnects in the
background. While on the fallback, replicas no longer share guards and cache: a retried event may be
handled twice, which is better than not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import RedisError

from bot.state import Fetched
from bot.state.memory import MemoryState
from bot.state.redis import RedisState, connect

logger = logging.getLogger(__name__)

PROBE_SECONDS = 2.0
T = TypeVar("T")


class ResilientState:
    def __init__(self, redis: RedisState, memory: MemoryState | None = None) -> None:
        self.redis = redis
        self.memory = memory or MemoryState()
        self._lost = False
        self._probe: asyncio.Task[None] | None = None

    @property
    def degraded(self) -> bool:
        return self._lost

    def __len__(self) -> int:
        return len(self.memory)

    async def _either(self, shared: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]) -> T:
        if self._lost:
            return await local()
        try:
            return await shared()
        except (RedisError, OSError) as error:
            self._lose(error)
            return await local()

    def _lose(self, error: BaseException) -> None:
        if self._lost:
            return
        self._lost = True
        logger.warning(
            "redis lost (%s): this process goes on with its own state until it is back", type(error).__name__
        )
        self._probe = asyncio.ensure_future(self._reconnect())

    async def _reconnect(self) -> None:
        while True:
            await asyncio.sleep(PROBE_SECONDS)
            with contextlib.suppress(RedisError, OSError):
                await self.redis.ping()
                self._lost = False
                logger.info("redis is back: state is shared again")
                return

    async def first(self, key: str, seconds: float) -> bool:
        return await self._either(lambda: self.redis.first(key, seconds), lambda: self.memory.first(key, seconds))

    async def forget(self, key: str) -> None:
        await self.memory.forget(key)
        await self._either(lambda: self.redis.forget(key), lambda: self.memory.forget(key))

    async def fetch_once(
        self, key: str, fetch: Callable[[], Awaitable[Fetched]], budget: float, *, fresh: bool = False
    ) -> Fetched:
        return await self._either(lambda: self.redis.fetch_once(key, fetch, budget, fresh=fresh), fetch)

    async def aclose(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        await self.redis.aclose()


class RedisUnavailable(Exception):
    """REDIS_URL is set but Redis does not answer at start-up; the message names the setting."""


async def open_state(redis_url: str | None, *, required: bool, prefix: str) -> MemoryState | ResilientState:
    """The process's shared state: Redis when REDIS_URL is set (checked now), else this process's memory.

    Raises :class:`RedisUnavailable` when Redis does not answer and ``required``; otherwise warns once and
    runs on this process's memory.
    """
    if not redis_url:
        return MemoryState()
    client = connect(redis_url)
    state = RedisState(client, prefix)
    try:
        await state.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        message = f"REDIS_URL: Redis does not answer ({type(error).__name__})"
        if required:
            raise RedisUnavailable(f"{message}. Start it, or set REDIS_REQUIRED=false to run without it.") from None
        logger.warning("%s: running on this process's own state (REDIS_REQUIRED=false)", message)
        return MemoryState()
    return ResilientState(state)
