"""Shared state for one process: one-time guards kept in memory, each expiring on its own."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from cachetools import TLRUCache

from bot.state import Fetched

MAX_KEYS = 200_000


class MemoryState:
    """``first(key, seconds)`` is true once per key until it expires: de-duplication and one-time guards."""

    def __init__(self, max_keys: int = MAX_KEYS, timer: Callable[[], float] = time.monotonic) -> None:
        self._keys: TLRUCache[str, float] = TLRUCache(
            maxsize=max_keys, ttu=lambda _key, seconds, now: now + seconds, timer=timer
        )

    @property
    def degraded(self) -> bool:
        return False

    def __len__(self) -> int:
        return len(self._keys)

    async def first(self, key: str, seconds: float) -> bool:
        """True the first time ``key`` is seen within ``seconds``; False while it is remembered."""
        if key in self._keys:
            return False
        self._keys[key] = seconds
        return True

    async def forget(self, key: str) -> None:
        self._keys.pop(key, None)

    async def fetch_once(
        self, key: str, fetch: Callable[[], Awaitable[Fetched]], budget: float, *, fresh: bool = False
    ) -> Fetched:
        """In one process the Hamsa client's own single flight is all there is."""
        return await fetch()

    async def aclose(self) -> None:
        return None
