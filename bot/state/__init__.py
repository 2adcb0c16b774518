"""State replicas must share, behind one interface: in-process here, Redis when ``REDIS_URL`` is set.

``first(key, seconds)`` / ``forget(key)``: de-duplication and one-time guards (``SET NX EX``).
``fetch_once(key, fetch, budget)``: the conversation cache shared by replicas (read first), and single
flight across them: one replica asks Hamsa, the others wait for its answer within the budget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Fetched:
    """What Hamsa answered for a conversation: its body, or None for "not found"; kept ``ttl`` seconds."""

    body: bytes | None
    ttl: float


class SharedState(Protocol):
    @property
    def degraded(self) -> bool:
        """True while state meant to be shared is this process's own (Redis lost)."""

    async def first(self, key: str, seconds: float) -> bool: ...

    async def forget(self, key: str) -> None: ...

    async def fetch_once(
        self, key: str, fetch: Callable[[], Awaitable[Fetched]], budget: float, *, fresh: bool = False
    ) -> Fetched:
        """``fetch()`` on one replica; the others get its answer (or its error) within ``budget`` seconds."""

    async def aclose(self) -> None: ...
