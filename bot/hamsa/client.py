"""The one Hamsa API client: validated IDs, typed errors, bounded retries, a cache and single flight."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from bot import __version__
from bot.hamsa.cache import ConversationCache
from bot.hamsa.errors import (
    ConversationNotFound,
    HamsaBadResponse,
    HamsaError,
    HamsaRateLimited,
    HamsaUnauthorized,
    HamsaUnavailable,
    InvalidConversationId,
)
from bot.hamsa.models import CallPage, Conversation, ListedCall
from bot.refs import normalize_conversation_id
from bot.settings import Settings
from bot.state import Fetched, SharedState

logger = logging.getLogger(__name__)

USER_AGENT = f"hamsa-for-slack/{__version__}"
CONVERSATION_PATH = "/v1/voice-agents/conversation/{id}"
MINIMAL_LIST_PATH = "/v1/voice-agents/conversations/minimal-list"
MAX_PER_PAGE = 200  # the most Hamsa's list gives in one page
_BACKOFF_CAP = 2.0
_T = TypeVar("_T")


class HamsaClient:
    """Fetches conversations for one Hamsa account (an API key and its region's base URL).

    The process makes one, which owns the pooled HTTP client, the cache and the map of lookups in
    flight; each workspace's account gets a light view of it from :meth:`for_account`, sharing all
    three. Cache entries and lookups in flight are keyed by the view's ``scope`` (its workspace and
    key), so one workspace's conversations are never served to another.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "https://api.tryhamsa.com",
        connect_timeout: float = 3.0,
        read_timeout: float = 5.0,
        lookup_budget: float = 8.0,
        max_attempts: int = 3,
        retry_after_cap: float = 5.0,
        max_response_bytes: int = 8 * 1024 * 1024,
        backoff_base: float = 0.25,
        cache: ConversationCache | None = None,
        shared: SharedState | None = None,
        scope: str = "",
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._scope = scope
        self._lookup_budget = lookup_budget
        self._max_attempts = max_attempts
        self._retry_after_cap = retry_after_cap
        self._max_response_bytes = max_response_bytes
        self._backoff_base = backoff_base
        self._read_timeout = read_timeout
        self._cache = cache if cache is not None else ConversationCache()
        # Replicas' shared cache and single flight (Redis); None: this process alone.
        self._shared = shared
        self._in_flight: dict[str, asyncio.Future[Conversation]] = {}
        self._owns_http = True
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )

    def for_account(self, *, api_key: str, base_url: str, scope: str) -> HamsaClient:
        """A view for another account, sharing this client's connections, cache and lookups in flight."""
        view = copy.copy(self)
        view._api_key, view._base_url, view._scope = api_key, base_url.rstrip("/"), scope
        view._owns_http = False
        return view

    @property
    def scope(self) -> str:
        return self._scope

    @classmethod
    def from_settings(cls, settings: Settings, shared: SharedState | None = None) -> HamsaClient:
        key = settings.hamsa_api_key.get_secret_value() if settings.hamsa_api_key else ""
        return cls(
            shared=shared,
            api_key=key,
            base_url=settings.hamsa_api_url,
            connect_timeout=settings.hamsa_connect_timeout,
            read_timeout=settings.hamsa_read_timeout,
            lookup_budget=settings.hamsa_lookup_budget,
            max_attempts=settings.hamsa_max_attempts,
            retry_after_cap=settings.hamsa_retry_after_cap,
            max_response_bytes=settings.hamsa_max_response_bytes,
            cache=ConversationCache(
                max_entries=settings.cache_size,
                max_bytes=settings.cache_max_bytes,
                ttl_finished=settings.cache_ttl_finished,
                ttl_active=settings.cache_ttl_active,
                ttl_not_found=settings.cache_ttl_not_found,
            ),
        )

    def __repr__(self) -> str:  # never show the key
        return f"HamsaClient(base_url={self._base_url!r}, scope={self._scope!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> HamsaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def get_conversation(self, conversation_id: str, *, fresh: bool = False) -> Conversation:
        """The conversation, from the cache or Hamsa; concurrent lookups of one ID share one request.

        ``fresh`` skips the cache (for what must be current, like a signed recording link) but still
        stores the answer, and joins a request already in flight: that one was sent moments ago.
        Raises a :class:`~bot.hamsa.errors.HamsaError` subclass, always within the lookup budget.
        """
        conversation_id = normalize_conversation_id(conversation_id)
        key = f"{self._scope}|{conversation_id}"
        cached = None if fresh else self._cache.lookup(key)
        if cached is not None:
            if cached.conversation is None:
                raise ConversationNotFound("no such conversation (cached)")
            return cached.conversation
        flight = self._in_flight.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._fetch_and_cache(key, conversation_id, fresh))
            self._in_flight[key] = flight
            flight.add_done_callback(lambda done: self._land(key, done))
        # shield: one impatient caller going away must not cancel the lookup the others wait for.
        return await asyncio.shield(flight)

    def _land(self, key: str, flight: asyncio.Future[Conversation]) -> None:
        self._in_flight.pop(key, None)
        if not flight.cancelled():
            flight.exception()  # retrieved here so an unawaited failure is not reported as lost

    async def _fetch_and_cache(self, key: str, conversation_id: str, fresh: bool = False) -> Conversation:
        if self._shared is None:
            try:
                conversation, body = await self._fetch(conversation_id)
            except ConversationNotFound:
                self._cache.store_not_found(key)
                raise
            self._cache.store(key, conversation, len(body))
            return conversation
        return await self._fetch_shared(key, conversation_id, fresh)

    async def _fetch_shared(self, key: str, conversation_id: str, fresh: bool) -> Conversation:
        """Through the replicas' shared cache and single flight: one replica asks Hamsa for everyone."""
        assert self._shared is not None
        parsed: list[Conversation] = []  # what this replica fetched itself, so it need not parse it twice

        async def fetch() -> Fetched:
            try:
                conversation, body = await self._fetch(conversation_id)
            except ConversationNotFound:
                return Fetched(None, self._cache.ttl_not_found)
            parsed.append(conversation)
            return Fetched(body, self._cache.ttl_for(conversation))

        found = await self._shared.fetch_once(
            key, fetch, self._lookup_budget, fresh=fresh
        )  # reads the shared cache first
        if found.body is None:
            self._cache.store_not_found(key, ttl=found.ttl)
            raise ConversationNotFound("Hamsa has no such conversation for this API key")
        conversation = parsed[0] if parsed else _parse_conversation(found.body, conversation_id)
        self._cache.store(key, conversation, len(found.body), ttl=found.ttl)
        return conversation

    async def check_key(self) -> None:
        """Whether Hamsa accepts this account's key, by the cheapest documented call: one call of the list.

        Returns when it does; raises :class:`~bot.hamsa.errors.HamsaUnauthorized` when the key is refused,
        or another :class:`~bot.hamsa.errors.HamsaError` when Hamsa can't say.
        """
        headers = {"Authorization": f"Token {self._api_key}"}
        try:
            async with (
                asyncio.timeout(self._lookup_budget),
                self._http.stream(
                    "GET", self._base_url + MINIMAL_LIST_PATH, params={"page": 1, "perPage": 1}, headers=headers
                ) as response,
            ):
                self._raise_for_status(response)
        except TimeoutError:
            raise HamsaUnavailable(f"Hamsa did not answer within {self._lookup_budget:g}s") from None
        except httpx.HTTPError as error:
            raise HamsaUnavailable(f"could not reach Hamsa ({type(error).__name__})") from None

    async def _fetch(self, conversation_id: str) -> tuple[Conversation, bytes]:
        path = CONVERSATION_PATH.format(id=conversation_id)

        async def attempt(remaining: float) -> tuple[Conversation, bytes]:
            body = await self._get(path, None, remaining)
            return _parse_conversation(body, conversation_id), body

        return await self._within_budget(attempt)

    async def list_calls(
        self,
        *,
        statuses: Sequence[str] = (),
        agent_id: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        page: int = 1,
        per_page: int = 10,
    ) -> CallPage:
        """One page of the account's calls, newest first, filtered at Hamsa (the documented minimal list).

        ``statuses`` are Hamsa's (``FAILED``), sent as one ``status`` each; ``start_ms``/``end_ms`` bound
        ``createdAt`` in epoch milliseconds. Lists are not cached: they change with every call. Same
        budget, retries and errors as :meth:`get_conversation`.
        """
        if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
            raise ValueError(f"page from 1, per_page from 1 to {MAX_PER_PAGE}")
        params = [("page", str(page)), ("perPage", str(per_page))]
        params += [("status", status) for status in statuses]
        if agent_id is not None:
            params.append(("voiceAgentId", normalize_conversation_id(agent_id)))
        if start_ms is not None:
            params.append(("startTime", str(start_ms)))
        if end_ms is not None:
            params.append(("endTime", str(end_ms)))

        async def attempt(remaining: float) -> CallPage:
            try:
                body = await self._get(MINIMAL_LIST_PATH, tuple(params), remaining)
            except ConversationNotFound:
                raise HamsaBadResponse("Hamsa has no call list at this address (HTTP 404)") from None
            return _parse_call_page(body, page, per_page)

        return await self._within_budget(attempt)

    async def _within_budget(self, attempt: Callable[[float], Awaitable[_T]]) -> _T:
        """``attempt(seconds left)``, retried on 429, 5xx and connection errors, all within the lookup budget."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lookup_budget
        tries = 0
        while True:
            tries += 1
            remaining = deadline - loop.time()
            try:
                async with asyncio.timeout(remaining):
                    return await attempt(remaining)
            except TimeoutError:
                raise HamsaUnavailable(
                    f"Hamsa did not answer within the {self._lookup_budget:g}s lookup budget"
                ) from None
            except (HamsaUnavailable, HamsaRateLimited) as error:
                delay = self._retry_delay(error, tries)
                if tries >= self._max_attempts or loop.time() + delay >= deadline:
                    raise
                logger.info("hamsa retry attempt=%d in=%.2fs reason=%s", tries + 1, delay, error)
                await asyncio.sleep(delay)

    def _retry_delay(self, error: HamsaError, attempt: int) -> float:
        if isinstance(error, HamsaRateLimited) and error.retry_after is not None:
            return min(error.retry_after, self._retry_after_cap) + random.uniform(0, 0.1)
        # Full jitter keeps many bots that failed together from retrying together.
        return random.uniform(0, min(_BACKOFF_CAP, self._backoff_base * 2 ** (attempt - 1)))

    async def _get(self, path: str, params: tuple[tuple[str, str], ...] | None, remaining: float) -> bytes:
        """One GET of ``path``: the body of a 200 (within the size cap), or the error its status means."""
        headers = {"Authorization": f"Token {self._api_key}"}
        timeout = httpx.Timeout(min(self._read_timeout, remaining), connect=self._http.timeout.connect)
        try:
            async with self._http.stream(
                "GET", self._base_url + path, params=params, headers=headers, timeout=timeout
            ) as response:
                self._raise_for_status(response)
                return await self._read_bounded(response)
        except httpx.TimeoutException as error:
            raise HamsaUnavailable(f"Hamsa timed out ({type(error).__name__})") from None
        except httpx.HTTPError as error:
            raise HamsaUnavailable(f"could not reach Hamsa ({type(error).__name__})") from None

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 200:
            return
        if status == 404:
            raise ConversationNotFound("Hamsa has no such conversation for this API key")
        if status in (401, 403):
            raise HamsaUnauthorized(f"Hamsa refused the API key (HTTP {status})")
        if status == 429:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            raise HamsaRateLimited("Hamsa is rate limiting requests (HTTP 429)", retry_after)
        if status >= 500:
            raise HamsaUnavailable(f"Hamsa answered HTTP {status}")
        raise HamsaBadResponse(f"Hamsa answered HTTP {status}")

    async def _read_bounded(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_response_bytes:
            raise HamsaBadResponse(f"Hamsa's answer is too large ({int(declared)} bytes)")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self._max_response_bytes:
                raise HamsaBadResponse(f"Hamsa's answer is larger than {self._max_response_bytes} bytes")
        return bytes(body)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _data(body: bytes) -> Any:
    """The ``data`` of Hamsa's envelope. Judge by HTTP status, not ``success``: good answers may say ``false``."""
    try:
        envelope: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HamsaBadResponse("Hamsa's answer is not JSON (or is nested too deeply)") from None
    return envelope.get("data") if isinstance(envelope, dict) else None


def _parse_conversation(body: bytes, conversation_id: str) -> Conversation:
    data = _data(body)
    if not isinstance(data, dict):
        raise HamsaBadResponse("Hamsa's answer holds no conversation object")
    try:
        # The ID asked for (a validated UUID) is the conversation's ID, whatever the answer claims:
        # it goes into button values and links, which an odd ``id`` would break.
        return Conversation.model_validate({**data, "id": conversation_id})
    except (ValidationError, RecursionError):
        raise HamsaBadResponse("Hamsa's conversation could not be read") from None


def _parse_call_page(body: bytes, page: int, per_page: int) -> CallPage:
    """``data: {total, filtered, calls: [...]}``; an item that is not a call (no valid ID) is left out, not fatal."""
    data = _data(body)
    items = data.get("calls") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise HamsaBadResponse("Hamsa's answer holds no list of calls")
    calls = []
    for item in items[:MAX_PER_PAGE]:
        raw_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(raw_id, str):
            continue
        try:
            # The ID goes into button values and lookups: only a conversation UUID will do.
            conversation_id = normalize_conversation_id(raw_id)
            calls.append(ListedCall.model_validate({**item, "id": conversation_id}))
        except (InvalidConversationId, ValidationError, RecursionError):
            continue
    counts = [data.get(key) for key in ("filtered", "total")]
    matching = next((n for n in counts if isinstance(n, int) and not isinstance(n, bool) and n >= 0), None)
    return CallPage(calls=tuple(calls), page=page, per_page=per_page, matching=matching)
