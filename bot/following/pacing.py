"""Pacing the app's own follow-up calls to Slack, so they stay under Slack's limits before Slack says so.

``chat.unfurl`` and ``chat.update`` are Tier 3 (about 50 a minute per workspace); ``chat.postMessage``
is about one a second per channel. Updates of live previews and alerts can burst (a call ends, ten
places show it): each key (workspace and method, or channel) gets a token bucket. When Slack answers
429 anyway, slack_sdk's retry handler waits its Retry-After.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

# (calls per second, burst) per kind of key
TIER_3 = (50 / 60, 10)
PER_CHANNEL = (1.0, 3)
_MAX_KEYS = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class Pacer:
    def __init__(self, timer: Callable[[], float] = time.monotonic) -> None:
        self._timer = timer
        self._buckets: dict[str, _Bucket] = {}
        self._lock = asyncio.Lock()

    async def wait(self, key: str, rate: tuple[float, int]) -> None:
        """Returns when a call under ``key`` may go, spacing calls to ``rate`` (per second, burst)."""
        per_second, burst = rate
        async with self._lock:
            now = self._timer()
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= _MAX_KEYS:
                    self._buckets.clear()  # an idle key has a full bucket anyway
                bucket = self._buckets[key] = _Bucket(float(burst), now)
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * per_second)
            bucket.at = now
            bucket.tokens -= 1.0
            wait = -bucket.tokens / per_second if bucket.tokens < 0 else 0.0
        if wait > 0:
            await asyncio.sleep(wait)
