"""Bounded conversation cache whose time-to-live depends on the call's status."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TLRUCache

from bot.hamsa.models import Conversation


@dataclass(frozen=True, slots=True)
class _Entry:
    conversation: Conversation | None  # None: Hamsa said "not found"
    ttl: float
    weight: int


class ConversationCache:
    """Finished calls live for minutes, live calls for seconds, "not found" briefly; errors never.

    A finished call Hamsa is still processing (see ``Conversation.still_processing``) counts as live, so
    its recording, transcript and logs show up seconds after Hamsa adds them.

    Size is bounded twice over: each entry weighs its response size in bytes, and at least
    ``max_bytes / max_entries``, so neither many small nor a few huge conversations exhaust memory.
    """

    def __init__(
        self,
        *,
        max_entries: int = 1024,
        max_bytes: int = 32 * 1024 * 1024,
        ttl_finished: float = 300.0,
        ttl_active: float = 5.0,
        ttl_not_found: float = 30.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._min_weight = max(1, max_bytes // max_entries)
        self._ttl_finished = ttl_finished
        self._ttl_active = ttl_active
        self._ttl_not_found = ttl_not_found
        self._entries: TLRUCache[str, _Entry] = TLRUCache(
            maxsize=max_bytes,
            ttu=lambda _key, entry, now: now + entry.ttl,
            timer=timer,
            getsizeof=lambda entry: entry.weight,
        )

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, conversation_id: str) -> _Entry | None:
        """The live entry for this ID, if any (its ``conversation`` is None for "not found")."""
        return self._entries.get(conversation_id)

    def ttl_for(self, conversation: Conversation) -> float:
        return self._ttl_finished if conversation.settled else self._ttl_active

    @property
    def ttl_not_found(self) -> float:
        return self._ttl_not_found

    def store(
        self, conversation_id: str, conversation: Conversation, size_bytes: int, ttl: float | None = None
    ) -> None:
        """Kept for the TTL its status gives, or ``ttl`` when shorter (what is left of a shared entry's)."""
        lasts = self.ttl_for(conversation) if ttl is None else min(ttl, self.ttl_for(conversation))
        self._put(conversation_id, _Entry(conversation, lasts, size_bytes))

    def store_not_found(self, conversation_id: str, ttl: float | None = None) -> None:
        self._put(conversation_id, _Entry(None, self._ttl_not_found if ttl is None else ttl, 0))

    def _put(self, conversation_id: str, entry: _Entry) -> None:
        weight = max(entry.weight, self._min_weight)
        if entry.ttl <= 0 or weight > self._entries.maxsize:
            return
        self._entries[conversation_id] = _Entry(entry.conversation, entry.ttl, weight)
