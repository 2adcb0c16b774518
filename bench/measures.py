"""The measurements. Each starts its own stand-ins and app processes, so none inherits a warm cache."""

from __future__ import annotations

import asyncio
import contextlib
import time
import timeit
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.load import Client, Signed, hamsa_command, in_parallel, link_shared, median, percentile
from bench.process import AppProcess, app_process, bare_app_process, multi_workspace_process
from bench.report import Row, ms
from bench.stand_ins import BenchSlack, bench_hamsa, new_ids
from bot.hamsa.models import CallPage, Conversation, ListedCall
from bot.recent import PAGE_SIZE, CallFilters
from bot.render.logs import page_count, render_logs_page
from bot.render.modals import connect_modal
from bot.render.pages import INSTALLED_HEADING
from bot.render.recent import render_recent
from bot.render.summary import render_summary
from bot.sandbox.fake_hamsa import FakeHamsa, minimal_item
from bot.sandbox.samples import long_call, recent_calls
from bot.sandbox.slack_requests import SlackSender
from bot.sandbox.stack import INSTALLER, SIGNING_SECRET, connect_form, install_in_browser

MB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    """How much work each measurement does; ``--quick`` shrinks it for a smoke run."""

    ack_rounds: int = 3
    added_events: int = 1000
    throughput_events: int = 2000
    throughput_rounds: int = 3
    multi_workspace_rounds: int = 3
    replica_rounds: int = 5
    upstream_repeats: int = 10
    render_repeats: int = 25
    memory_conversations: int = 50_000
    startup_launches: int = 5
    webhooks: int = 2020
    alerts: int = 200

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            ack_rounds=1,
            added_events=300,
            throughput_events=800,
            throughput_rounds=1,
            multi_workspace_rounds=2,
            replica_rounds=2,
            upstream_repeats=10,
            render_repeats=5,
            memory_conversations=5_000,
            startup_launches=2,
            webhooks=420,
            alerts=50,
        )


@contextlib.asynccontextmanager
async def stand_ins(latency: float = 0.0) -> AsyncIterator[tuple[FakeHamsa, BenchSlack]]:
    hamsa, slack = bench_hamsa(latency), BenchSlack()
    await hamsa.start()
    await slack.start()
    try:
        yield hamsa, slack
    finally:
        await slack.stop()
        await hamsa.stop()


async def unfurl_all(client: Client, slack: BenchSlack, requests: list[Signed], concurrency: int) -> list[float]:
    """Send ``link_shared`` events, ``concurrency`` unfurls in flight; each unfurl's arrival time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(request: Signed) -> float:
        async with gate:
            arrived = slack.expect_unfurl(request.key)
            await client.send(request)
            return await asyncio.wait_for(arrived, 30)

    return await asyncio.gather(*(one(r) for r in requests))


async def warm_up(client: Client, slack: BenchSlack, count: int = 20) -> None:
    """First requests pay for lazy imports (and, in the bare app, Bolt's auth.test); none of that is measured."""
    await unfurl_all(client, slack, [link_shared(new_ids(1)) for _ in range(count)], concurrency=4)


# 1 -------------------------------------------------------------------------------------------


async def ack_latency(sizes: Sizes) -> list[Row]:
    """Time to HTTP 200 for bursts of /hamsa commands while every lookup waits 2.5 s on Hamsa."""
    rows: list[Row] = []
    async with stand_ins() as (hamsa, slack), app_process(hamsa, slack) as app, Client(app.url) as client:
        await warm_up(client, slack)
        await asyncio.gather(*(client.send(hamsa_command(i, slack.new_response_url())) for i in new_ids(5)))
        await slack.wait_for_responses(5, timeout=10)
        hamsa.latency = 2.5
        for burst in (50, 200):
            durations: list[float] = []
            answered_in: list[float] = []
            summaries = 0
            for _ in range(sizes.ack_rounds):
                slack.forget()
                requests = [hamsa_command(i, slack.new_response_url()) for i in new_ids(burst)]
                started = time.monotonic()
                durations += await asyncio.gather(*(client.send(r) for r in requests))
                # Every command is answered (summary, or a notice when Hamsa is too slow) before the next burst.
                answers = await slack.wait_for_responses(burst, timeout=30)
                answered_in.append(max(a.at for a in answers) - started)
                summaries += sum(1 for a in answers if _is_summary(a.body))
            p50, p99, worst = median(durations), percentile(durations, 99), max(durations)
            values = {
                "concurrent": burst,
                "samples": len(durations),
                "p50_ms": p50 * 1000,
                "p99_ms": p99 * 1000,
                "max_ms": worst * 1000,
                "all_answered_within_s": max(answered_in),
                "answered_with_summary": summaries,
            }
            name = f"Ack latency, {burst} concurrent /hamsa"
            rows.append(Row(name, "p50", ms(p50), "", None, values))
            rows.append(Row(name, "p99", ms(p99), "< 100 ms", p99 < 0.100, values))
            rows.append(Row(name, "max", ms(worst), "< 500 ms", worst < 0.500, values))
    return rows


def _is_summary(message: dict[str, Any]) -> bool:
    """A summary starts with the conversation's title; a notice (e.g. Hamsa too slow) does not."""
    blocks = message.get("blocks") or [{}]
    return blocks[0].get("type") == "header"


# 2 -------------------------------------------------------------------------------------------

HAMSA_LATENCY = 0.050
EVENT_RATE = 100.0


async def added_latency(sizes: Sizes) -> list[Row]:
    """link_shared → chat.unfurl, minus Hamsa's latency, at 100 cache-cold events per second."""
    async with stand_ins(HAMSA_LATENCY) as (hamsa, slack), app_process(hamsa, slack) as app, Client(app.url) as client:
        await warm_up(client, slack)
        requests = [link_shared(new_ids(1)) for _ in range(sizes.added_events)]
        loop = asyncio.get_running_loop()

        async def timed(request: Signed, at: float) -> float:
            await asyncio.sleep(at - loop.time())
            arrived = slack.expect_unfurl(request.key)
            sent = time.monotonic()
            await client.send(request)
            return await asyncio.wait_for(arrived, 30) - sent - HAMSA_LATENCY

        start = loop.time() + 0.1
        added = await asyncio.gather(*(timed(r, start + i / EVENT_RATE) for i, r in enumerate(requests)))
        refused = slack.refused_unfurls
    p50, p99 = median(added), percentile(added, 99)
    values = {
        "events": len(added),
        "rate_per_s": EVENT_RATE,
        "hamsa_latency_ms": HAMSA_LATENCY * 1000,
        "p50_ms": p50 * 1000,
        "p99_ms": p99 * 1000,
        "max_ms": max(added) * 1000,
        "refused_unfurls": refused,
    }
    name = "Added latency, 100 link_shared/s"
    return [
        Row(name, "p50", ms(p50), "< 10 ms", p50 < 0.010, values),
        Row(name, "p99", ms(p99), "< 50 ms", p99 < 0.050, values),
    ]


# 3 -------------------------------------------------------------------------------------------

SENDERS = 32


async def _fresh_rate(app: AppProcess, slack: BenchSlack, conversation_id: str, count: int) -> Run:
    slack.forget()
    return await _events_per_second(app, slack, conversation_id, count)


async def _events_per_second(app: AppProcess, slack: BenchSlack, conversation_id: str, count: int) -> dict[str, float]:
    """Warm-cache unfurl events per second: ``SENDERS`` in flight, until the last unfurl arrived."""
    async with Client(app.url) as client:
        await unfurl_all(client, slack, [link_shared([conversation_id]) for _ in range(50)], concurrency=8)
        requests = [link_shared([conversation_id]) for _ in range(count)]
        arrivals = [slack.expect_unfurl(r.key) for r in requests]
        cpu, own_cpu = app.cpu_seconds(), time.process_time()
        started = time.monotonic()
        await in_parallel(client.send, requests, SENDERS)
        done = await asyncio.wait_for(asyncio.gather(*arrivals), 60)
        elapsed = max(done) - started
        used = app.cpu_seconds() - cpu
        return {
            "events_per_s": count / elapsed,
            "cpu_ms_per_event": used * 1000 / count,
            "app_cpu_share": used / elapsed,
            "bench_cpu_share": (time.process_time() - own_cpu) / elapsed,
        }


Run = dict[str, float]


async def interleaved(rounds: int, contenders: dict[str, Callable[[], Awaitable[Run]]]) -> dict[str, list[Run]]:
    """Each contender's runs, taken in turn ``rounds`` times, so that a slow spell of the machine touches all alike."""
    runs: dict[str, list[Run]] = {label: [] for label in contenders}
    for _ in range(rounds):
        for label, run in contenders.items():
            runs[label].append(await run())
    return runs


def compared(
    name: str, runs: dict[str, list[Run]], shown: dict[str, str], target: float, values: dict[str, Any]
) -> list[Row]:
    """Rows for two contenders (``shown``: label → words, the measured one first): best rates, their ratio
    against ``target``, and the median CPU time per event of the processes measured."""
    (first, first_words), (second, second_words) = shown.items()
    best = {label: max(r["events_per_s"] for r in results) for label, results in runs.items()}
    cpu = {label: median([r["cpu_ms_per_event"] for r in results]) for label, results in runs.items()}
    ratio = best[first] / best[second]
    values = {**values, "runs": runs}
    return [
        Row(name, first_words, f"{best[first]:.0f} events/s", "", None, values),
        Row(name, second_words, f"{best[second]:.0f} events/s", "", None, values),
        Row(name, f"{first} ÷ {second}", f"{ratio:.2f}", f"≥ {target}", ratio >= target, values),
        Row(
            name,
            "server CPU time per event, median",
            f"{first} {cpu[first]:.2f} ms, {second} {cpu[second]:.2f} ms",
            "",
            None,
        ),
    ]


async def throughput(sizes: Sizes) -> list[Row]:
    """The app's warm-cache unfurl rate against a bare Bolt app's on the same server stack."""
    async with stand_ins() as (hamsa, slack):
        conversation_id = new_ids(1)[0]
        async with app_process(hamsa, slack) as app, bare_app_process(hamsa, slack) as bare:

            def rate(process: AppProcess) -> Callable[[], Awaitable[Run]]:
                return lambda: _fresh_rate(process, slack, conversation_id, sizes.throughput_events)

            runs = await interleaved(sizes.throughput_rounds, {"app": rate(app), "bare": rate(bare)})
        values = {"events": sizes.throughput_events, "senders": SENDERS, "refused_unfurls": slack.refused_unfurls}
    shown = {"app": "app", "bare": "bare Bolt app"}
    return compared("Throughput, warm-cache unfurls", runs, shown, 0.8, values)


# 4 -------------------------------------------------------------------------------------------

UPSTREAM_CONVERSATIONS = 50


async def upstream_requests(sizes: Sizes) -> list[Row]:
    """Hamsa requests per 1,000 unfurls: 50 conversations, each link delivered twice (composer, then posted).

    Composer links are unfurled only where every channel shows the same (README, "Settings"): here,
    shared channels in full and no channel muted.
    """
    async with (
        stand_ins(HAMSA_LATENCY) as (hamsa, slack),
        app_process(hamsa, slack, SHARED_CHANNELS="full") as app,
        Client(app.url) as client,
    ):
        await warm_up(client, slack)
        hamsa.requests.clear()
        slack.forget()
        ids = new_ids(UPSTREAM_CONVERSATIONS)
        requests = [
            link_shared([conversation_id], source=source)
            for _ in range(sizes.upstream_repeats)
            for conversation_id in ids
            for source in ("composer", "conversations_history")
        ]
        await unfurl_all(client, slack, requests, concurrency=20)
        upstream, unfurls = hamsa.count(), slack.unfurls
    per_thousand = upstream * 1000 / unfurls
    values = {"conversations": len(ids), "events": len(requests), "unfurls": unfurls, "hamsa_requests": upstream}
    target = f"{UPSTREAM_CONVERSATIONS} (one per conversation)"
    passed = per_thousand <= UPSTREAM_CONVERSATIONS
    name = "Upstream requests, 50 conversations, double delivery"
    return [Row(name, "Hamsa requests per 1,000 unfurls", f"{per_thousand:g}", target, passed, values)]


# 5 -------------------------------------------------------------------------------------------

LONG_ENTRIES = 10_000


def _median_call(call: Callable[[], Any], number: int, repeats: int) -> float:
    return median([t / number for t in timeit.Timer(call).repeat(repeat=repeats, number=number)])


def rendering(sizes: Sizes) -> list[Row]:
    """Pure rendering, in this process: a summary, and one logs page of a 10,000-entry conversation."""
    data = long_call(LONG_ENTRIES)
    conversation = Conversation.model_validate(data)
    middle = page_count(conversation) // 2
    summary = _median_call(lambda: render_summary(conversation), 100, sizes.render_repeats)
    page = _median_call(lambda: render_logs_page(conversation, middle), 10, sizes.render_repeats)
    parse = _median_call(lambda: Conversation.model_validate(data), 1, max(3, sizes.render_repeats // 3))
    name = "Rendering, 10,000-entry conversation"
    page_figure = f"render_logs_page (page {middle}), median"
    return [
        Row(name, "render_summary, median", ms(summary), "< 1 ms", summary < 0.001, {"median_ms": summary * 1000}),
        Row(name, page_figure, ms(page), "< 20 ms", page < 0.020, {"median_ms": page * 1000}),
        Row(name, "Conversation.model_validate, median", ms(parse), "", None, {"median_ms": parse * 1000}),
    ]


# 8 (listed after 7) ---------------------------------------------------------------------------

RECENT_CALLS = 200


def recent_pages(sizes: Sizes) -> list[Row]:
    """``/hamsa recent``: each page of a 200-call list rendered, as the items of Hamsa's minimal list."""
    items = [ListedCall.model_validate(minimal_item(call)) for call in recent_calls(RECENT_CALLS).values()]
    pages = [
        CallPage(
            calls=tuple(items[first : first + PAGE_SIZE]),
            page=first // PAGE_SIZE + 1,
            per_page=PAGE_SIZE,
            matching=RECENT_CALLS,
        )
        for first in range(0, RECENT_CALLS, PAGE_SIZE)
    ]
    filters = CallFilters(("failed", "no-answer"), when="24h", start_ms=0, end_ms=2**40)
    every_page = _median_call(lambda: [render_recent(page, filters) for page in pages], 10, sizes.render_repeats)
    per_page = every_page / len(pages)
    name = f"/hamsa recent, a {RECENT_CALLS}-call list"
    values = {"pages": len(pages), "median_page_ms": per_page * 1000, "all_pages_ms": every_page * 1000}
    return [
        Row(name, f"render_recent, one page of {PAGE_SIZE}, median", ms(per_page), "< 2 ms", per_page < 0.002, values),
        Row(name, f"all {len(pages)} pages, median", ms(every_page), "", None, values),
    ]


# 6 -------------------------------------------------------------------------------------------

LINKS_PER_EVENT = 10  # the most links the app unfurls from one message
MEMORY_EVENTS_IN_FLIGHT = 1  # ten lookups at a time: Hamsa's client is quickest with few connections


async def memory(sizes: Sizes) -> list[Row]:
    """RSS growth of the app process while 50,000 distinct conversations pass through its cache."""
    async with stand_ins() as (hamsa, slack), app_process(hamsa, slack) as app, Client(app.url) as client:
        await warm_up(client, slack)
        await unfurl_all(client, slack, [link_shared(new_ids(LINKS_PER_EVENT)) for _ in range(10)], concurrency=4)
        hamsa.requests.clear()
        slack.forget()
        baseline = peak = app.rss_bytes()
        started = time.monotonic()
        events = sizes.memory_conversations // LINKS_PER_EVENT
        batch = 500
        fetched = 0
        for first in range(0, events, batch):
            requests = [link_shared(new_ids(LINKS_PER_EVENT)) for _ in range(min(batch, events - first))]
            await unfurl_all(client, slack, requests, concurrency=MEMORY_EVENTS_IN_FLIGHT)
            fetched += hamsa.count()
            slack.forget()  # the stand-ins' records would otherwise grow this process, not the app
            hamsa.requests.clear()
            peak = max(peak, app.rss_bytes())
        elapsed = time.monotonic() - started
        final = app.rss_bytes()
        refused = slack.refused_unfurls
    growth = final - baseline
    conversations = events * LINKS_PER_EVENT
    values = {
        "conversations": conversations,
        "hamsa_requests": fetched,
        "refused_unfurls": refused,
        "baseline_mb": baseline / MB,
        "final_mb": final / MB,
        "peak_mb": peak / MB,
        "growth_mb": growth / MB,
        "seconds": elapsed,
        "conversations_per_s": conversations / elapsed,
    }
    name = f"Memory, {conversations:,} conversations"
    return [
        Row(name, "RSS at start (after warm-up)", f"{baseline / MB:.1f} MB", "", None, values),
        Row(name, "RSS growth", f"{growth / MB:.1f} MB", "< 64 MB", growth < 64 * MB, values),
    ]


# 7 -------------------------------------------------------------------------------------------


async def startup(sizes: Sizes) -> list[Row]:
    """From launching ``python -m bot serve`` to ``/healthz`` answering 200."""
    times: list[float] = []
    async with stand_ins() as (hamsa, slack):
        for _ in range(sizes.startup_launches):
            async with app_process(hamsa, slack) as app:
                times.append(app.started_in)
    slowest = max(times)
    values = {"launches": len(times), "seconds": times}
    name = "Start-up, hamsa-bot serve → /healthz"
    return [
        Row(name, f"median of {len(times)}", f"{median(times):.2f} s", "", None, values),
        Row(name, "slowest", f"{slowest:.2f} s", "< 2 s", slowest < 2.0, values),
    ]


# 8 -------------------------------------------------------------------------------------------


async def install_and_connect(app: AppProcess, hamsa: FakeHamsa, slack: BenchSlack) -> None:
    """What a workspace does first: "Add to Slack" through the OAuth flow, then Connect Hamsa in the modal."""
    *_, installed = await install_in_browser(app.url, slack)
    if INSTALLED_HEADING not in installed.text:
        raise RuntimeError(f"the install failed:\n{installed.text[:500]}\n{app.output()}")
    async with SlackSender(app.url, SIGNING_SECRET) as sender:
        answer = await sender.submit_view(connect_modal(), connect_form(hamsa.api_key), user_id=INSTALLER)
    if answer.status_code != 200 or answer.text:
        raise RuntimeError(f"connecting Hamsa failed: {answer.status_code} {answer.text[:500]}\n{app.output()}")


async def multi_workspace(sizes: Sizes) -> list[Row]:
    """Warm-cache unfurls in multi-workspace mode (installed, Hamsa connected) against single-workspace mode."""
    async with stand_ins() as (hamsa, slack):
        conversation_id = new_ids(1)[0]
        async with multi_workspace_process(hamsa, slack) as multi, app_process(hamsa, slack) as single:
            await install_and_connect(multi, hamsa, slack)

            def rate(process: AppProcess) -> Callable[[], Awaitable[Run]]:
                return lambda: _fresh_rate(process, slack, conversation_id, sizes.throughput_events)

            runs = await interleaved(sizes.multi_workspace_rounds, {"multi": rate(multi), "single": rate(single)})
        values = {"events": sizes.throughput_events, "senders": SENDERS, "refused_unfurls": slack.refused_unfurls}
    shown = {"multi": "multi-workspace", "single": "single workspace"}
    return compared("Multi-workspace mode, warm-cache unfurls", runs, shown, 0.9, values)
