"""The conversation cache: time-to-live by status, a short negative cache, never errors, bounded in size.

Time is a fake clock handed to the cache, so expiry is tested by moving the clock, never by sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.hamsa.cache import ConversationCache
from bot.hamsa.client import HamsaClient
from bot.hamsa.errors import ConversationNotFound, HamsaUnauthorized, HamsaUnavailable
from bot.hamsa.models import Conversation, Status
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import FakeHamsa, Fault

TTL_FINISHED = 300.0
TTL_ACTIVE = 5.0
TTL_NOT_FOUND = 30.0
ID = "849e77c6-5cb3-479a-a985-7fab630e2c78"
MISSING_ID = "00000000-0000-4000-8000-000000000404"
FINISHED = ["COMPLETED", "FAILED", "NO_ANSWER", "FORWARDED", "TERMINATED"]
ACTIVE = ["PENDING", "IN_PROGRESS"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_cache(clock: FakeClock, **overrides: float) -> ConversationCache:
    options: dict[str, float] = {
        "max_entries": 100,
        "max_bytes": 1024 * 1024,
        "ttl_finished": TTL_FINISHED,
        "ttl_active": TTL_ACTIVE,
        "ttl_not_found": TTL_NOT_FOUND,
    }
    options.update(overrides)
    return ConversationCache(timer=clock, **options)  # type: ignore[arg-type]


def conversation(status: str | None, conversation_id: str = ID) -> Conversation:
    return Conversation.model_validate({"id": conversation_id, "status": status})


def uuid_for(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def live_for(cache: ConversationCache, clock: FakeClock, conversation_id: str, seconds: float) -> bool:
    """Whether the entry is there just before ``seconds`` have passed and gone just after."""
    clock.advance(seconds - 0.5)
    before = cache.lookup(conversation_id) is not None
    clock.advance(1.0)
    after = cache.lookup(conversation_id) is not None
    return before and not after


# ---- time to live ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", FINISHED)
def test_finished_calls_live_for_the_finished_ttl(clock: FakeClock, status: str) -> None:
    cache = make_cache(clock)
    cache.store(ID, conversation(status), 100)

    assert live_for(cache, clock, ID, TTL_FINISHED)


@pytest.mark.parametrize("status", ACTIVE)
def test_pending_and_in_progress_calls_live_for_the_active_ttl(clock: FakeClock, status: str) -> None:
    cache = make_cache(clock)
    cache.store(ID, conversation(status), 100)

    assert live_for(cache, clock, ID, TTL_ACTIVE)


@pytest.mark.parametrize("status", ["RINGING", "completed", "", None])
def test_unknown_or_missing_status_counts_as_active(clock: FakeClock, status: str | None) -> None:
    cache = make_cache(clock)
    cache.store(ID, conversation(status), 100)

    assert live_for(cache, clock, ID, TTL_ACTIVE)


def test_ttl_for_follows_the_status(clock: FakeClock) -> None:
    cache = make_cache(clock)

    assert {cache.ttl_for(conversation(s)) for s in FINISHED} == {TTL_FINISHED}
    assert {cache.ttl_for(conversation(s)) for s in [*ACTIVE, "NEW_STATUS", None]} == {TTL_ACTIVE}


def test_a_finished_call_hamsa_is_still_processing_lives_for_the_active_ttl(clock: FakeClock) -> None:
    # Its recording, transcript and logs arrive minutes after the call: they must show within seconds.
    just_now = datetime.now(UTC).isoformat()
    processing = Conversation.model_validate({"id": ID, "status": "COMPLETED", "updatedAt": just_now})
    failed = Conversation.model_validate({"id": ID, "status": "FAILED", "updatedAt": just_now})
    cache = make_cache(clock)

    assert processing.still_processing
    assert cache.ttl_for(processing) == TTL_ACTIVE
    assert cache.ttl_for(failed) == TTL_FINISHED  # a failed call may never get a recording
    cache.store(ID, processing, 100)
    assert live_for(cache, clock, ID, TTL_ACTIVE)


def test_cached_entry_is_the_stored_conversation(clock: FakeClock) -> None:
    cache = make_cache(clock)
    stored = conversation(Status.COMPLETED)
    cache.store(ID, stored, 100)

    entry = cache.lookup(ID)

    assert entry is not None
    assert entry.conversation is stored


def test_not_found_is_cached_for_the_not_found_ttl(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.store_not_found(MISSING_ID)

    entry = cache.lookup(MISSING_ID)

    assert entry is not None
    assert entry.conversation is None
    assert live_for(cache, clock, MISSING_ID, TTL_NOT_FOUND)


def test_a_call_that_finished_is_kept_longer_once_stored_again(clock: FakeClock) -> None:
    cache = make_cache(clock)
    cache.store(ID, conversation("IN_PROGRESS"), 100)
    cache.store(ID, conversation("COMPLETED"), 100)

    assert live_for(cache, clock, ID, TTL_FINISHED)


def test_zero_ttl_means_not_cached(clock: FakeClock) -> None:
    cache = make_cache(clock, ttl_active=0, ttl_not_found=0)
    cache.store(ID, conversation("IN_PROGRESS"), 100)
    cache.store_not_found(MISSING_ID)

    assert cache.lookup(ID) is None
    assert cache.lookup(MISSING_ID) is None
    assert len(cache) == 0


# ---- size bounds -------------------------------------------------------------------------------


def test_entry_count_is_bounded_and_the_least_recently_used_goes_first(clock: FakeClock) -> None:
    cache = make_cache(clock, max_entries=3, max_bytes=3 * 1024)
    for n in range(3):
        cache.store(uuid_for(n), conversation("COMPLETED", uuid_for(n)), 10)
    assert cache.lookup(uuid_for(0)) is not None  # now the most recently used

    cache.store(uuid_for(3), conversation("COMPLETED", uuid_for(3)), 10)
    cache.store_not_found(uuid_for(4))

    assert len(cache) == 3
    assert cache.lookup(uuid_for(1)) is None
    assert cache.lookup(uuid_for(2)) is None
    assert all(cache.lookup(uuid_for(n)) is not None for n in (0, 3, 4))


def test_total_size_is_bounded_by_max_bytes(clock: FakeClock) -> None:
    cache = make_cache(clock, max_entries=100, max_bytes=10_000)
    for n in range(5):
        cache.store(uuid_for(n), conversation("COMPLETED", uuid_for(n)), 4_000)

    assert len(cache) == 2
    assert cache.lookup(uuid_for(3)) is not None
    assert cache.lookup(uuid_for(4)) is not None


def test_a_conversation_larger_than_the_whole_cache_is_not_stored(clock: FakeClock) -> None:
    cache = make_cache(clock, max_entries=10, max_bytes=10_000)
    cache.store(ID, conversation("COMPLETED"), 100)

    cache.store(uuid_for(1), conversation("COMPLETED", uuid_for(1)), 10_001)

    assert cache.lookup(uuid_for(1)) is None
    assert cache.lookup(ID) is not None


# ---- through the client ------------------------------------------------------------------------


@pytest.fixture
async def hamsa() -> AsyncIterator[FakeHamsa]:
    conversations = {
        samples.DOCUMENTED_ID: samples.documented_example(),
        samples.IN_PROGRESS_ID: samples.in_progress_call(),
    }
    async with FakeHamsa(conversations) as server:
        yield server


@pytest.fixture
async def client(hamsa: FakeHamsa, clock: FakeClock) -> AsyncIterator[HamsaClient]:
    async with HamsaClient(
        api_key=hamsa.api_key,
        base_url=hamsa.url,
        connect_timeout=0.5,
        read_timeout=0.5,
        lookup_budget=1.0,
        max_attempts=1,
        cache=make_cache(clock),
    ) as hamsa_client:
        yield hamsa_client


async def test_repeat_lookup_of_a_finished_call_within_its_ttl_costs_no_request(
    hamsa: FakeHamsa, client: HamsaClient, clock: FakeClock
) -> None:
    first = await client.get_conversation(samples.DOCUMENTED_ID)
    clock.advance(TTL_FINISHED - 1)
    again = await client.get_conversation(samples.DOCUMENTED_ID.upper())

    assert again is first
    assert hamsa.count() == 1

    clock.advance(2)
    await client.get_conversation(samples.DOCUMENTED_ID)

    assert hamsa.count() == 2


async def test_a_live_call_is_fetched_again_after_the_active_ttl(
    hamsa: FakeHamsa, client: HamsaClient, clock: FakeClock
) -> None:
    await client.get_conversation(samples.IN_PROGRESS_ID)
    clock.advance(TTL_ACTIVE - 1)
    await client.get_conversation(samples.IN_PROGRESS_ID)
    assert hamsa.count() == 1

    hamsa.conversations[samples.IN_PROGRESS_ID]["status"] = "COMPLETED"
    clock.advance(2)
    finished = await client.get_conversation(samples.IN_PROGRESS_ID)

    assert finished.status == Status.COMPLETED
    assert hamsa.count() == 2


async def test_not_found_is_remembered_briefly(hamsa: FakeHamsa, client: HamsaClient, clock: FakeClock) -> None:
    with pytest.raises(ConversationNotFound):
        await client.get_conversation(MISSING_ID)
    clock.advance(TTL_NOT_FOUND - 1)
    with pytest.raises(ConversationNotFound):
        await client.get_conversation(MISSING_ID)
    assert hamsa.count() == 1

    hamsa.conversations[MISSING_ID] = samples.documented_example() | {"id": MISSING_ID}
    clock.advance(2)
    found = await client.get_conversation(MISSING_ID)

    assert found.id == MISSING_ID
    assert hamsa.count() == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.status(500), HamsaUnavailable),
        (Fault.html(502), HamsaUnavailable),
        (Fault.status(401), HamsaUnauthorized),
    ],
    ids=["500", "502-html", "401"],
)
async def test_errors_are_never_cached(
    hamsa: FakeHamsa, client: HamsaClient, fault: Fault, error: type[Exception]
) -> None:
    hamsa.inject(fault)

    with pytest.raises(error):
        await client.get_conversation(samples.DOCUMENTED_ID)
    conversation = await client.get_conversation(samples.DOCUMENTED_ID)

    assert conversation.id == samples.DOCUMENTED_ID
    assert hamsa.count() == 2
