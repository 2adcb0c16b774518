"""Shared state in Redis (``REDIS_URL``), for several replicas of the app.

Guards are ``SET key 1 NX EX seconds``. Conversations are kept as Hamsa's own answer (bytes) under a
TTL that depends on the call's status, at most ``MAX_SHARED_BYTES`` each. Single flight: a replica
takes a lock (``SET NX PX``) and asks Hamsa; the others wait for its word on one pub/sub channel (a
single listener per process hands it to every lookup waiting for that key), then read the answer from
the cache. The lock is short and renewed while its holder is asking, so a replica that dies holding
it delays the others by at most ``LOCK_SECONDS``: it expires, and one of the waiting replicas asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.hamsa import errors
from bot.hamsa.errors import HamsaError, HamsaUnavailable
from bot.state import Fetched

logger = logging.getLogger(__name__)

MAX_SHARED_BYTES = 1024 * 1024
LOCK_SECONDS = 2.0
NOT_FOUND = b"\x00not-found"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)


def connect(url: str) -> aioredis.Redis:
    """A pooled client; short timeouts, so a lost Redis shows quickly instead of holding requests."""
    return aioredis.Redis.from_url(
        url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=15, retry_on_timeout=False
    )


class RedisState:
    def __init__(self, client: aioredis.Redis, prefix: str = "hamsa") -> None:
        self.redis = client
        self.prefix = prefix
        self.me = secrets.token_hex(8)
        self._channel = f"{prefix}:flights"
        self._waiters: dict[str, set[asyncio.Future[dict[str, Any]]]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def _key(self, kind: str, key: str) -> str:
        return f"{self.prefix}:{kind}:{key}"

    async def ping(self) -> None:
        await self.redis.ping()

    # ---- guards ---------------------------------------------------------------------------------

    async def first(self, key: str, seconds: float) -> bool:
        return bool(await self.redis.set(self._key("once", key), b"1", nx=True, px=_ms(seconds)))

    async def forget(self, key: str) -> None:
        await self.redis.delete(self._key("once", key))

    # ---- conversations --------------------------------------------------------------------------

    async def read(self, key: str) -> Fetched | None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self._key("call", key))
        pipe.pttl(self._key("call", key))
        body, ttl_ms = await pipe.execute()
        if body is None:
            return None
        ttl = max(0.0, (ttl_ms or 0) / 1000)
        return Fetched(None if body == NOT_FOUND else bytes(body), ttl)

    async def _store(self, key: str, fetched: Fetched) -> None:
        body = NOT_FOUND if fetched.body is None else fetched.body
        if fetched.ttl > 0 and len(body) <= MAX_SHARED_BYTES:
            await self.redis.set(self._key("call", key), body, px=_ms(fetched.ttl))

    async def fetch_once(
        self, key: str, fetch: Callable[[], Awaitable[Fetched]], budget: float, *, fresh: bool = False
    ) -> Fetched:
        await self._listen()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        lock = self._key("flight", key)
        while True:
            word = loop.create_future()
            self._waiters.setdefault(key, set()).add(word)
            try:
                if not fresh:
                    found = await self.read(key)
                    if found is not None:
                        return found
                if await self.redis.set(lock, self.me, nx=True, px=_ms(min(budget, LOCK_SECONDS))):
                    return await self._fetch_for_all(key, lock, fetch)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise HamsaUnavailable("another replica's lookup did not finish within the budget")
                # Wait for the holder's word, but no longer than its lock lasts: a holder that died
                # lets it expire, and this replica takes its turn.
                held_for = max(0.05, ((await self.redis.pttl(lock)) or 0) / 1000)
                try:
                    said = await asyncio.wait_for(word, min(remaining, held_for))
                except TimeoutError:
                    said = None
            finally:
                self._waiters.get(key, set()).discard(word)
                if not self._waiters.get(key):
                    self._waiters.pop(key, None)
            if said is not None and "error" in said:
                raise _error(said)
            if said is not None:
                fresh = False  # the fresh answer is in the cache now: read it on the next turn

    async def _fetch_for_all(self, key: str, lock: str, fetch: Callable[[], Awaitable[Fetched]]) -> Fetched:
        renewing = asyncio.ensure_future(self._renew(lock))
        try:
            fetched = await fetch()
            # Stored while the lock is still held: a replica that finds the lock gone finds the answer.
            await self._store(key, fetched)
        except HamsaError as error:
            await self._say(key, {"error": type(error).__name__, "message": str(error)[:200]})
            raise
        finally:
            renewing.cancel()
            with contextlib.suppress(RedisError, OSError):
                await self.redis.eval(_RELEASE, 1, lock, self.me)
        await self._say(key, {})
        return fetched

    async def _renew(self, lock: str) -> None:
        """Keeps the lock while this replica is asking Hamsa (the lookup's own budget ends the asking)."""
        with contextlib.suppress(RedisError, OSError):
            while True:
                await asyncio.sleep(LOCK_SECONDS / 3)
                await self.redis.eval(_RENEW, 1, lock, self.me, _ms(LOCK_SECONDS))

    async def _say(self, key: str, word: dict[str, Any]) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.redis.publish(self._channel, json.dumps({"key": key, **word}))

    async def _listen(self) -> None:
        if self._listener is None or self._listener.done():
            self._listening.clear()
            self._listener = asyncio.ensure_future(self._listen_forever())
        await self._listening.wait()

    async def _listen_forever(self) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
            self._listening.set()
            async for message in pubsub.listen():
                self._hand_over(message)
        except (RedisError, OSError) as error:
            logger.warning("redis listener stopped: %s", type(error).__name__)
            for waiters in self._waiters.values():
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result({"error": "HamsaUnavailable", "message": "redis connection lost"})
        finally:
            self._listening.set()  # nobody waits on a listener that is gone
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    def _hand_over(self, message: dict[str, Any]) -> None:
        try:
            said = json.loads(message["data"])
            key = said["key"]
        except (KeyError, TypeError, ValueError):
            return
        for waiter in self._waiters.get(key, ()):
            if not waiter.done():
                waiter.set_result(said)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await self._listener
        await self.redis.aclose()


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _error(said: dict[str, Any]) -> HamsaError:
    """The error another replica's lookup ended with, as the same kind of error here."""
    kind = getattr(errors, str(said.get("error")), None)
    message = str(said.get("message", ""))[:200]
    if isinstance(kind, type) and issubclass(kind, HamsaError):
        return kind(message)
    return HamsaUnavailable(message)
