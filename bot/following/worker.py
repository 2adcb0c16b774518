"""The worker that drains the outbox: claims due work, runs it, and records how it went.

One per process. It wakes when this process queues work, when queued work falls due, and every few
seconds anyway (work queued by another replica, leases that ran out). A handler returns ``None``
when its work is done, or :class:`Later` to run again (a poll); it raises :class:`Retry` for a
passing failure (Hamsa or Slack down), which backs off and tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.following.outbox import Entry, Outbox

logger = logging.getLogger(__name__)

IDLE_SECONDS = 2.0
CONCURRENCY = 8
SWEEP_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Later:
    """Run this work again at ``at`` (epoch seconds), with ``payload`` when given."""

    at: float
    payload: dict[str, Any] | None = None


class Retry(Exception):
    """A passing failure: try again later. The message says why (it is logged and kept with the work)."""


Handler = Callable[[Entry], Awaitable[Later | None]]


class Worker:
    def __init__(
        self,
        outbox: Outbox,
        handlers: dict[str, Handler],
        *,
        housekeeping: Callable[[], Awaitable[None]] | None = None,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.outbox = outbox
        self.handlers = handlers
        self.housekeeping = housekeeping
        self._swept_at = 0.0
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._claiming = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def wake(self) -> None:
        """Work was queued here: look for it now rather than at the next tick."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._loop())

    async def stop(self, drain_seconds: float) -> None:
        """Stops claiming; work in flight gets ``drain_seconds``, then its lease lets another process finish it."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await asyncio.wait((self._task,))
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=drain_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                await self._sweep()
                claimed = await self.run_once()
                failures = 0
            except (SQLAlchemyError, OSError) as error:
                failures += 1
                if failures == 1:
                    logger.warning("outbox unreachable (the database): %s; retrying", type(error).__name__)
                claimed = 0
            if claimed and len(self._running) < self.concurrency:
                continue
            await self._sleep(await self._until_due() if not failures else min(30.0, 2.0**failures))

    async def _sweep(self) -> None:
        """Old done work and expired places go, every few minutes."""
        now = self.outbox.timer()
        if now - self._swept_at < SWEEP_SECONDS:
            return
        self._swept_at = now
        await self.outbox.prune()
        if self.housekeeping is not None:
            await self.housekeeping()

    async def run_once(self) -> int:
        """Claims what is due (within the free capacity) and starts it; returns how many were started."""
        async with self._claiming:  # claimed work is in ``_running`` before anyone looks again
            free = self.concurrency - len(self._running)
            if free <= 0:
                return 0
            entries = await self.outbox.claim(limit=free)
            for entry in entries:
                task = asyncio.ensure_future(self._run(entry))
                self._running.add(task)
                task.add_done_callback(self._finished)
            return len(entries)

    async def until_idle(self, timeout: float = 10.0) -> None:
        """Returns once nothing is running and nothing is due (tests, the demo and the benchmark wait on it)."""
        async with asyncio.timeout(timeout):
            while True:
                async with self._claiming:
                    running = set(self._running)
                if running:
                    await asyncio.wait(running)
                    continue
                due = await self.outbox.next_due()
                if due is None or due > self.outbox.timer():
                    return
                if not await self.run_once():
                    await asyncio.sleep(0.01)  # due, but leased by another process: it will finish it

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()  # capacity is free again

    async def _until_due(self) -> float:
        try:
            due = await self.outbox.next_due()
        except (SQLAlchemyError, OSError):
            return IDLE_SECONDS
        if due is None:
            return IDLE_SECONDS
        return max(0.0, min(IDLE_SECONDS, due - self.outbox.timer()))

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _run(self, entry: Entry) -> None:
        handler = self.handlers.get(entry.kind)
        try:
            if handler is None:
                logger.error("outbox work of unknown kind=%.40s id=%s dropped", entry.kind, entry.id)
                await self.outbox.done(entry)
                return
            try:
                later = await handler(entry)
            except Retry as retry:
                await self.outbox.failed(entry, str(retry))
                return
            except Exception as error:
                logger.exception("outbox work failed kind=%s id=%s", entry.kind, entry.id)
                await self.outbox.failed(entry, type(error).__name__)
                return
            if later is None:
                await self.outbox.done(entry)
            else:
                await self.outbox.later(entry, later.at, later.payload)
        except (SQLAlchemyError, OSError) as error:
            # The outcome could not be recorded; the lease runs out and the work is done again.
            logger.warning("outbox could not record work id=%s: %s", entry.id, type(error).__name__)
