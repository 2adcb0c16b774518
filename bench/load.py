"""Load generation: signed Slack requests, built before the clock starts, sent over aiohttp."""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Self, TypeVar

import aiohttp

from bench.stand_ins import conversation_link
from bot.sandbox.slack_requests import DEFAULT_CHANNEL, event_callback, link_shared_event, sign, slash_command
from bot.sandbox.stack import SIGNING_SECRET

EVENTS_PATH = "/slack/events"
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Signed:
    """One request ready to send; ``key`` names what its unfurl will be matched by."""

    body: bytes
    headers: dict[str, str]
    key: str = ""


def signed(body: str, content_type: str, key: str = "") -> Signed:
    headers = {"Content-Type": content_type, **sign(SIGNING_SECRET, body)}
    return Signed(body.encode(), headers, key)


def hamsa_command(text: str, response_url: str, channel_id: str = DEFAULT_CHANNEL) -> Signed:
    return signed(*slash_command(text, response_url=response_url, channel_id=channel_id))


def link_shared(conversation_ids: Sequence[str], *, source: str = "conversations_history") -> Signed:
    """A ``link_shared`` event for links to ``conversation_ids``, keyed by its message ts or unfurl_id."""
    event = link_shared_event([conversation_link(c) for c in conversation_ids], source=source)
    key = event["unfurl_id"] if source == "composer" else event["message_ts"]
    return signed(*event_callback(event), key=key)


class Client:
    """Posts to an app's ``/slack/events``; each request returns when its HTTP answer has arrived."""

    def __init__(self, app_url: str, connections: int = 0) -> None:
        self.url = app_url + EVENTS_PATH
        # 0: as many connections as requests in flight, like Slack's fan-out.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def send(self, request: Signed) -> float:
        """Send ``request``; the seconds until its answer, which must be HTTP 200."""
        started = time.perf_counter()
        async with self._session.post(self.url, data=request.body, headers=request.headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"the app answered HTTP {response.status}")
        return time.perf_counter() - started

    async def aclose(self) -> None:
        await self._session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def in_parallel(send: Callable[[T], Awaitable[R]], items: Iterable[T], concurrency: int) -> list[R]:
    """``send`` each item, at most ``concurrency`` at a time, keeping the results' order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(item: T) -> R:
        async with gate:
            return await send(item)

    return await asyncio.gather(*(one(item) for item in items))


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with ``pct`` % of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
