"""Work that runs after Slack has been answered, tracked so that shutdown can finish it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.messages import error_text, store_unavailable

logger = logging.getLogger(__name__)

# Tells the person behind a request something, given the words (a private reply, a thread post).
Tell = Callable[[str], Awaitable[None]]


class Background:
    """Holds strong references to running tasks (asyncio keeps only weak ones) and drains them."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None], ref: str, *, tell: Tell | None = None) -> asyncio.Task[None]:
        """Runs ``work``; if it fails, the traceback is logged with ``ref`` and ``tell`` says so.

        ``tell`` reaches the person who made the request; work nobody asked for (an unfurl) has none.
        """
        task = asyncio.ensure_future(self._guard(work, ref, tell))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _guard(work: Coroutine[Any, Any, None], ref: str, tell: Tell | None) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if store_unavailable(error):  # an outage, not a bug: one line each, no traceback
                logger.warning("background work failed ref=%s: the database is not answering", ref)
            else:
                logger.exception("background work failed ref=%s", ref)
            if tell is None:
                return
            try:
                await tell(error_text(error, ref))
            except Exception:
                logger.exception("telling about the failure failed ref=%s", ref)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for work in flight, then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            logger.warning("shutdown cancelled %d unfinished task(s)", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)
