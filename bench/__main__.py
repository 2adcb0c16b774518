"""``python -m bench``: run the benchmarks and print each figure next to its target.

The app runs in its own process (``python -m bot serve``), configured through the environment
against loopback stand-ins for Hamsa and Slack that live in this process with the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence

from bench import following, measures, replicas
from bench.measures import Sizes
from bench.report import LATEST_JSON, README_SNIPPET, Row, describe_machine, machine, summary_line, table, write_results

Benchmark = Callable[[Sizes], Awaitable[list[Row]] | list[Row]]

# In the order of issue 6, whose numbers the table shows; then those of the issues after it.
BENCHMARKS: dict[str, Benchmark] = {
    "ack": measures.ack_latency,
    "added": measures.added_latency,
    "throughput": measures.throughput,
    "upstream": measures.upstream_requests,
    "render": measures.rendering,
    "memory": measures.memory,
    "startup": measures.startup,
    "webhooks": following.webhook_ack,
    "alerts": following.webhook_to_alert,
    "recent": measures.recent_pages,
    "multi": measures.multi_workspace,
    "redis": replicas.redis_state,
    "replicas": replicas.two_replicas,
    "spread": replicas.hamsa_across_replicas,
}

BUSY_LOAD = 0.25  # load average per core above which other work skews the figures

NOTES = [
    "Latencies are measured by the load generator, so they include its own and the stand-ins' share of the work.",
    "Ack latency: a new conversation per command, so each one waits on Hamsa; every burst is answered before the next.",
    "Added latency: a new conversation per event, Hamsa answering after 50 ms, which is subtracted.",
    "Throughput: best of the interleaved runs for each app, 32 requests in flight, until the last chat.unfurl arrived.",
    "Webhooks: each acknowledgement includes the durable write to the outbox (the embedded SQLite store).",
    "Webhook → alert: from sending call.ended to the alert's chat.postMessage; the stand-in Hamsa answers at once.",
    "Multi-workspace mode: installed through the OAuth flow and connected through the modal first; measured as 3.",
    "Redis and replicas: this machine's Redis and PostgreSQL; a lean load generator and chat.unfurl stand-in "
    "(bench/lean.py) leave the cores to the replicas; best of the interleaved runs.",
]


async def run(names: Sequence[str], sizes: Sizes) -> list[Row]:
    rows: list[Row] = []
    for step, name in enumerate(names, 1):
        print(f"[{step}/{len(names)}] {name} …", file=sys.stderr, flush=True)
        started = time.monotonic()
        result = BENCHMARKS[name](sizes)
        found = await result if not isinstance(result, list) else result
        for row in found:
            row.number = list(BENCHMARKS).index(name) + 1
        print(f"      {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        rows += found
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run with smaller loads")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these benchmarks")
    args = parser.parse_args(argv)
    sizes = Sizes.quick() if args.quick else Sizes()
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    info = machine()
    print(f"Benchmarking on {describe_machine(info)}", file=sys.stderr)
    load = info["load_average_at_start"]
    if load > BUSY_LOAD * info["cores"]:
        print(f"Warning: the machine is busy (load average {load}); the figures will be noisy.", file=sys.stderr)
    started = time.monotonic()
    rows = asyncio.run(run(names, sizes))
    seconds = time.monotonic() - started
    print()
    print(table(rows))
    print()
    print(summary_line(rows) + f" ({seconds:.0f} s)")
    write_results(rows, info, quick=args.quick, seconds=seconds, notes=NOTES)
    print(f"Results: {LATEST_JSON} and {README_SNIPPET}", file=sys.stderr)
    return 0 if all(row.passed is not False for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
