"""Shared state on this machine's real Redis: guards, the shared cache, single flight across replicas, Redis lost.

Two "replicas" here are two Hamsa clients, each with its own Redis connection and listener, as two
processes would have; the real-process proof is in tests/test_replicas.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from bot.hamsa.client import HamsaClient
from bot.hamsa.errors import ConversationNotFound, HamsaUnavailable
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import FakeHamsa, Fault, GatedHamsa
from bot.sandbox.proxy import TcpProxy
from bot.state import Fetched
from bot.state.redis import RedisState, connect
from bot.state.resilient import RedisUnavailable, ResilientState, open_state

KEY = "test-key"


@pytest.fixture
async def replicas(redis_url: tuple[str, str]) -> AsyncIterator[list[RedisState]]:
    url, prefix = redis_url
    states = [RedisState(connect(url), prefix) for _ in range(3)]
    yield states
    for state in states:
        await state.aclose()


def host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def client(hamsa: FakeHamsa, state: object, budget: float = 3.0) -> HamsaClient:
    return HamsaClient(api_key=hamsa.api_key, base_url=hamsa.url, shared=state, lookup_budget=budget)  # type: ignore[arg-type]


async def test_a_guard_is_first_once_across_replicas_until_forgotten(replicas: list[RedisState]) -> None:
    one, two, _ = replicas
    assert await one.first("event:Ev1", 60)
    assert not await two.first("event:Ev1", 60)
    ttl = await one.redis.pttl(f"{one.prefix}:once:event:Ev1")
    assert 0 < ttl <= 60_000
    await two.forget("event:Ev1")
    assert await one.first("event:Ev1", 60)


async def test_forty_lookups_over_three_replicas_ask_hamsa_once(replicas: list[RedisState]) -> None:
    async with GatedHamsa() as hamsa:
        clients = [client(hamsa, state) for state in replicas]
        lookups = [asyncio.ensure_future(clients[i % 3].get_conversation(samples.DOCUMENTED_ID)) for i in range(40)]
        await hamsa.arrived.wait()
        await asyncio.sleep(0.05)  # every lookup is waiting by now; none may ask Hamsa a second time
        hamsa.release.set()
        found = await asyncio.gather(*lookups)
        for each in clients:
            await each.aclose()
    assert {c.title for c in found} == {"Customer Support Call"}
    assert hamsa.count(samples.DOCUMENTED_ID) == 1


async def test_a_warm_shared_cache_serves_another_replica_without_hamsa(replicas: list[RedisState]) -> None:
    async with FakeHamsa() as hamsa:
        first, second = client(hamsa, replicas[0]), client(hamsa, replicas[1])
        await first.get_conversation(samples.FAILED_ID)
        assert (await second.get_conversation(samples.FAILED_ID)).status == "FAILED"
        fresh = await second.get_conversation(samples.FAILED_ID, fresh=True)
        for each in (first, second):
            await each.aclose()
    assert fresh.status == "FAILED"
    assert hamsa.count(samples.FAILED_ID) == 2  # the first lookup, and the fresh one


async def test_not_found_and_errors_reach_the_waiting_replicas(replicas: list[RedisState]) -> None:
    missing = "00000000-0000-4000-8000-000000000404"
    async with FakeHamsa() as hamsa:
        clients = [client(hamsa, state, budget=1.0) for state in replicas]
        results = await asyncio.gather(*(c.get_conversation(missing) for c in clients), return_exceptions=True)
        assert all(isinstance(r, ConversationNotFound) for r in results)
        assert hamsa.count(missing) == 1

        hamsa.inject(Fault.status(503), times=-1, conversation_id=samples.FAILED_ID)
        results = await asyncio.gather(
            *(c.get_conversation(samples.FAILED_ID) for c in clients), return_exceptions=True
        )
        for each in clients:
            await each.aclose()
    assert all(isinstance(r, HamsaUnavailable) for r in results)


async def test_a_replica_that_died_holding_the_lock_hands_over_when_it_expires(replicas: list[RedisState]) -> None:
    one, two, _ = replicas
    async with FakeHamsa() as hamsa:
        scope_key = f"|{samples.DOCUMENTED_ID}"
        # a dead replica's lock: it will never say anything, and expires in 300 ms
        assert await one.redis.set(f"{one.prefix}:flight:{scope_key}", b"dead", nx=True, px=300)
        survivor = client(hamsa, two, budget=3.0)
        found = await survivor.get_conversation(samples.DOCUMENTED_ID)
        await survivor.aclose()
    assert found.title == "Customer Support Call"
    assert hamsa.count(samples.DOCUMENTED_ID) == 1


async def test_a_live_holder_keeps_its_lock_through_a_lookup_longer_than_the_lock(
    replicas: list[RedisState], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.state.redis.LOCK_SECONDS", 0.4)
    async with GatedHamsa() as hamsa:
        first, second = client(hamsa, replicas[0]), client(hamsa, replicas[1])
        asking = asyncio.ensure_future(first.get_conversation(samples.DOCUMENTED_ID))
        await hamsa.arrived.wait()
        waiting = asyncio.ensure_future(second.get_conversation(samples.DOCUMENTED_ID))
        await asyncio.sleep(1.2)  # three lock lifetimes: renewed by the holder, so the other keeps waiting
        assert not waiting.done()
        hamsa.release.set()
        found = await asyncio.gather(asking, waiting)
        for each in (first, second):
            await each.aclose()
    assert [c.title for c in found] == ["Customer Support Call"] * 2
    assert hamsa.count(samples.DOCUMENTED_ID) == 1


async def test_the_answer_is_shared_before_the_lock_goes(
    replicas: list[RedisState], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica arriving between the holder's answer and its release waits for the answer; it does not ask."""
    first, second = replicas[0], replicas[1]
    storing, stored = asyncio.Event(), asyncio.Event()
    store = first._store

    async def slow_store(key: str, fetched: Fetched) -> None:
        storing.set()
        await stored.wait()
        await store(key, fetched)

    monkeypatch.setattr(first, "_store", slow_store)
    waiting = asyncio.Event()
    pttl = second.redis.pttl

    async def noted_pttl(name: str) -> int:
        waiting.set()  # the second replica found the lock taken and waits for the holder's word
        return await pttl(name)

    monkeypatch.setattr(second.redis, "pttl", noted_pttl)
    async with FakeHamsa() as hamsa:
        one, two = client(hamsa, first), client(hamsa, second)
        asking = asyncio.ensure_future(one.get_conversation(samples.DOCUMENTED_ID))
        await storing.wait()
        later = asyncio.ensure_future(two.get_conversation(samples.DOCUMENTED_ID))

        async def asked_twice() -> None:
            while hamsa.count(samples.DOCUMENTED_ID) < 2:
                await asyncio.sleep(0.005)

        asked_again = asyncio.ensure_future(asked_twice())
        await asyncio.wait((asyncio.ensure_future(waiting.wait()), asked_again), return_when=asyncio.FIRST_COMPLETED)
        stored.set()
        found = await asyncio.gather(asking, later)
        asked_again.cancel()
        for each in (one, two):
            await each.aclose()
    assert [c.title for c in found] == ["Customer Support Call"] * 2
    assert hamsa.count(samples.DOCUMENTED_ID) == 1


async def test_redis_lost_while_running_degrades_to_this_process_then_comes_back(
    redis_url: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    url, prefix = redis_url
    async with TcpProxy(*host_and_port(url)) as proxy, FakeHamsa() as hamsa:
        state = await open_state(f"redis://{proxy.address}/0", required=True, prefix=prefix)
        assert isinstance(state, ResilientState)
        lookups = client(hamsa, state)
        assert await state.first("k1", 60)
        await proxy.cut()
        with caplog.at_level(logging.WARNING):
            # each keeps working on this process's own state, with one warning for all of them
            assert await state.first("k2", 60)
            assert not await state.first("k2", 60)
            assert (await lookups.get_conversation(samples.DOCUMENTED_ID)).title == "Customer Support Call"
        assert state.degraded
        assert len([r for r in caplog.records if "redis lost" in r.getMessage()]) == 1
        await proxy.restore()
        with caplog.at_level(logging.INFO):
            for _ in range(100):  # the probe reconnects every couple of seconds
                if not state.degraded:
                    break
                await asyncio.sleep(0.05)
        assert not state.degraded
        assert not await state.first("k1", 60)  # shared again: the guard set before the loss is there
        await lookups.aclose()
        await state.aclose()


async def test_redis_unreachable_at_start_stops_unless_not_required(redis_url: tuple[str, str]) -> None:
    url, prefix = redis_url
    async with TcpProxy(*host_and_port(url)) as proxy:
        await proxy.cut()
        with pytest.raises(RedisUnavailable, match=r"REDIS_URL.*REDIS_REQUIRED=false"):
            await open_state(f"redis://{proxy.address}/0", required=True, prefix=prefix)
        state = await open_state(f"redis://{proxy.address}/0", required=False, prefix=prefix)
        assert await state.first("alone", 60)
        await state.aclose()
