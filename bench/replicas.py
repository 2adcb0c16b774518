"""Scale-out figures: shared state in Redis, several replicas, and Hamsa asked once across them.

These need this machine's PostgreSQL and Redis (as the tests do); without them each row says why it was
not measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from bench.lean import LeanClient, LeanSlack
from bench.load import Client, link_shared
from bench.measures import HAMSA_LATENCY, Run, Sizes, compared, interleaved, stand_ins, unfurl_all, warm_up
from bench.process import app_process
from bench.report import Row
from bench.stand_ins import BenchSlack, bench_hamsa, new_ids
from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.processes import AppProcess
from bot.sandbox.services import (
    REDIS_URL,
    forget_redis_prefix,
    fresh_postgres_database,
    postgres_problem,
    redis_prefix,
    redis_problem,
)

LEAN_SENDERS = 32


def _not_measured(name: str, figure: str, target: str, why: str) -> list[Row]:
    return [Row(name, figure, f"not measured: {why}", target, None, {"why": why})]


@contextlib.asynccontextmanager
async def _shared_services(postgres: bool) -> AsyncIterator[dict[str, str]]:
    """Settings for replicas sharing Redis (under a key prefix of their own) and, with ``postgres``, a new database."""
    prefix = redis_prefix()
    try:
        if postgres:
            async with fresh_postgres_database() as url:
                yield {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix, "DATABASE_URL": url}
        else:
            yield {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix}
    finally:
        await forget_redis_prefix(prefix)


def _replica(hamsa: FakeHamsa, slack_api_url: str, slack: BenchSlack, **settings: str) -> AppProcess:
    return app_process(hamsa, slack, SLACK_API_URL=slack_api_url, **settings)


async def _lean_rate(
    replicas: Sequence[AppProcess], slack: LeanSlack, conversation_id: str, count: int
) -> dict[str, float]:
    """Warm-cache unfurls per second, the load spread evenly over ``replicas``."""
    warm = [link_shared([conversation_id]) for _ in range(20 * len(replicas))]
    requests = [link_shared([conversation_id]) for _ in range(count)]
    async with LeanClient([r.url for r in replicas], LEAN_SENDERS) as client:
        arrivals = [slack.expect_unfurl(r.key) for r in warm]
        await client.send_all([client.wire(r) for r in warm])
        await asyncio.wait_for(asyncio.gather(*arrivals), 30)
        wired = [client.wire(r) for r in requests]
        arrivals = [slack.expect_unfurl(r.key) for r in requests]
        cpu, own_cpu = sum(r.cpu_seconds() for r in replicas), time.process_time()
        started = time.monotonic()
        await client.send_all(wired)
        done = await asyncio.wait_for(asyncio.gather(*arrivals), 60)
    elapsed = max(done) - started
    used = sum(r.cpu_seconds() for r in replicas) - cpu
    return {
        "events_per_s": count / elapsed,
        "cpu_ms_per_event": used * 1000 / count,
        "bench_cpu_ms_per_event": (time.process_time() - own_cpu) * 1000 / count,
    }


async def redis_state(sizes: Sizes) -> list[Row]:
    """Warm-cache unfurls with shared state in Redis against in-process state, one process each."""
    name = "Shared state in Redis, warm-cache unfurls"
    problem = await redis_problem()
    if problem:
        return _not_measured(name, "Redis ÷ in-process", "≥ 0.7", problem)
    async with stand_ins() as (hamsa, full), LeanSlack(full) as slack, _shared_services(postgres=False) as shared:
        conversation_id = new_ids(1)[0]
        async with (
            _replica(hamsa, slack.api_url, full, **shared) as redis,
            _replica(hamsa, slack.api_url, full) as memory,
        ):

            def rate(app: AppProcess) -> Callable[[], Awaitable[Run]]:
                return lambda: _lean_rate([app], slack, conversation_id, sizes.throughput_events)

            runs = await interleaved(sizes.throughput_rounds, {"Redis": rate(redis), "in-process": rate(memory)})
    values = {"events": sizes.throughput_events, "senders": LEAN_SENDERS}
    return compared(name, runs, {"Redis": "shared state in Redis", "in-process": "in-process state"}, 0.7, values)


async def _services_problem() -> str | None:
    return await postgres_problem() or await redis_problem()


async def two_replicas(sizes: Sizes) -> list[Row]:
    """Warm-cache unfurls through two replicas sharing Postgres and Redis against one of them alone."""
    name = "Replicas, warm-cache unfurls"
    problem = await _services_problem()
    if problem:
        return _not_measured(name, "two ÷ one", "≥ 1.5", problem)
    async with stand_ins() as (hamsa, full), LeanSlack(full) as slack, _shared_services(postgres=True) as shared:
        conversation_id = new_ids(1)[0]
        first, second = (_replica(hamsa, slack.api_url, full, **shared) for _ in range(2))
        async with first, second:

            def rate(replicas: list[AppProcess]) -> Callable[[], Awaitable[Run]]:
                return lambda: _lean_rate(replicas, slack, conversation_id, sizes.throughput_events)

            runs = await interleaved(sizes.replica_rounds, {"two": rate([first, second]), "one": rate([first])})
    values = {"events": sizes.throughput_events, "senders": LEAN_SENDERS}
    return compared(name, runs, {"two": "two replicas", "one": "one replica"}, 1.5, values)


SPREAD_CONVERSATIONS = 50
SPREAD_UNFURLS = 1000


async def hamsa_across_replicas(sizes: Sizes) -> list[Row]:
    """Hamsa requests for 1,000 unfurls of 50 conversations, in random order, spread over three replicas."""
    name = "Upstream requests, 50 conversations over 3 replicas"
    target = f"{SPREAD_CONVERSATIONS} (one per conversation)"
    problem = await _services_problem()
    if problem:
        return _not_measured(name, "Hamsa requests per 1,000 unfurls", target, problem)
    hamsa, slack = bench_hamsa(HAMSA_LATENCY), BenchSlack()
    async with hamsa, slack, _shared_services(postgres=True) as shared:
        replicas = [_replica(hamsa, slack.api_url, slack, **shared) for _ in range(3)]
        async with contextlib.AsyncExitStack() as running:
            for replica in replicas:
                await running.enter_async_context(replica)
            clients = [await running.enter_async_context(Client(r.url)) for r in replicas]
            for client in clients:
                await warm_up(client, slack)
            hamsa.requests.clear()
            slack.forget()
            ids = new_ids(SPREAD_CONVERSATIONS)
            order = [ids[i % len(ids)] for i in range(SPREAD_UNFURLS)]
            random.Random(14).shuffle(order)
            requests = [link_shared([c]) for c in order]
            await asyncio.gather(
                *(
                    unfurl_all(clients[i], slack, requests[i :: len(clients)], concurrency=8)
                    for i in range(len(clients))
                )
            )
        upstream, unfurls = hamsa.count(), slack.unfurls
    per_thousand = upstream * 1000 / unfurls
    values = {"conversations": SPREAD_CONVERSATIONS, "unfurls": unfurls, "hamsa_requests": upstream, "replicas": 3}
    passed = per_thousand <= SPREAD_CONVERSATIONS
    return [Row(name, "Hamsa requests per 1,000 unfurls", f"{per_thousand:g}", target, passed, values)]
