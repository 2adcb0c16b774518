"""``hamsa-bot serve --workers N``: N server processes on one machine, sharing its port.

The store is migrated once, here, before any worker starts; then each worker is an ordinary
``hamsa-bot serve`` that binds the same port with ``SO_REUSEPORT`` (the kernel spreads connections
over them), or, in Socket Mode, opens its own connection to Slack (Slack spreads events over them).
Workers share their state through Redis and Postgres exactly as replicas on several machines do. A
worker that dies is started again; SIGTERM or SIGINT stops them all, each finishing its work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

from bot.settings import Settings
from bot.state.resilient import open_state
from bot.store.store import Store

logger = logging.getLogger(__name__)

RESTART_FIRST = 1.0
RESTART_MAX = 30.0
HEALTHY_RUN = 60.0  # a worker that ran this long before dying is started again without the grown pause
STOP_SECONDS = 30.0


async def run_workers(settings: Settings, count: int) -> int:
    """Runs ``count`` workers until SIGTERM or SIGINT; 0 when every worker stopped cleanly."""
    keys = settings.encryption_keys.get_secret_value() if settings.encryption_keys else None
    store = await Store.open(settings.database_url, keys, client_id=settings.slack_client_id)
    await store.aclose()
    state = await open_state(settings.redis_url, required=settings.redis_required, prefix=settings.redis_prefix)
    await state.aclose()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    env = {**os.environ, "REUSE_PORT": "true"}
    workers = [asyncio.ensure_future(_keep_running(index, env, stop)) for index in range(count)]
    logger.info("started %d workers on port %s", count, settings.port)
    codes = await asyncio.gather(*workers)
    return 0 if all(code == 0 for code in codes) else 1


async def _keep_running(index: int, env: dict[str, str], stop: asyncio.Event) -> int:
    """One worker, started again (after a pause that grows) whenever it dies before the stop."""
    pause = RESTART_FIRST
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", env={**env, "WORKER_INDEX": str(index)}
        )
        exited = asyncio.ensure_future(process.wait())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait((exited, stopping), return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            return await _stop(process)
        stopping.cancel()
        code = exited.result()
        if loop.time() - started >= HEALTHY_RUN:
            pause = RESTART_FIRST
        logger.warning("worker %d exited with status %s; starting it again in %.0fs", index, code, pause)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
        if stop.is_set():
            return code
        pause = min(RESTART_MAX, pause * 2)


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()
    return process.returncode or 0
