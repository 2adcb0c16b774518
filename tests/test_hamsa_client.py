"""The Hamsa client against a real loopback Hamsa: typed errors, bounded retries, the budget, single flight.

Budgets, timeouts and Retry-After values are small so the whole file runs in a few seconds; the
``asyncio.timeout(budget + 2)`` guards are generous upper bounds that only catch a lookup that hangs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr

from bot import __version__
from bot.hamsa.client import CONVERSATION_PATH, USER_AGENT, HamsaClient
from bot.hamsa.errors import (
    ConversationNotFound,
    HamsaBadResponse,
    HamsaError,
    HamsaRateLimited,
    HamsaUnauthorized,
    HamsaUnavailable,
    InvalidConversationId,
)
from bot.hamsa.models import Conversation, Status
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import FakeHamsa, Fault
from bot.sandbox.lifecycle import free_port
from bot.settings import Settings

# Distinctive, so that finding it anywhere it should not be is unambiguous.
API_KEY = "hk_live_SECRET-7f3a9c2e51d84b6a"
DOC_ID = samples.DOCUMENTED_ID
MISSING_ID = "00000000-0000-4000-8000-000000000404"
BUDGET = 1.0

ClientFactory = Callable[..., HamsaClient]


@pytest.fixture
async def hamsa() -> AsyncIterator[FakeHamsa]:
    # The long sample (3000 logs) is costly to build; only the test that needs it adds it.
    conversations = {
        DOC_ID: samples.documented_example(),
        samples.FAILED_ID: samples.failed_call(),
        samples.IN_PROGRESS_ID: samples.in_progress_call(),
    }
    async with FakeHamsa(conversations, api_key=API_KEY) as server:
        yield server


@pytest.fixture
async def make_client(hamsa: FakeHamsa) -> AsyncIterator[ClientFactory]:
    """Clients on the fake with short timeouts; each option can be overridden per test."""
    clients: list[HamsaClient] = []

    def make(**overrides: Any) -> HamsaClient:
        options: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": hamsa.url,
            "connect_timeout": 0.5,
            "read_timeout": 0.5,
            "lookup_budget": BUDGET,
            "max_attempts": 2,
            "retry_after_cap": 0.5,
            "backoff_base": 0.02,  # shorter jittered backoff; Retry-After and the budget are untouched
            "max_response_bytes": 256 * 1024,
        }
        options.update(overrides)
        client = HamsaClient(**options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(make_client: ClientFactory) -> HamsaClient:
    return make_client()


async def lookup_error(client: HamsaClient, conversation_id: str = DOC_ID) -> HamsaError:
    """The typed error a lookup ends with; the guard only catches a lookup that would hang."""
    async with asyncio.timeout(BUDGET + 2):
        with pytest.raises(HamsaError) as raised:
            await client.get_conversation(conversation_id)
    return raised.value


async def until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait for an in-memory condition (e.g. "the fake has received the request")."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


# ---- the request -------------------------------------------------------------------------------


async def test_documented_conversation_is_fetched_with_token_auth_and_user_agent(
    hamsa: FakeHamsa, client: HamsaClient
) -> None:
    conversation = await client.get_conversation(DOC_ID)

    assert conversation == Conversation.model_validate(samples.documented_example())
    [request] = hamsa.requests
    assert request.method == "GET"
    assert request.path == CONVERSATION_PATH.format(id=DOC_ID)
    assert request.path == f"/v1/voice-agents/conversation/{DOC_ID}"
    assert request.headers["Authorization"] == f"Token {API_KEY}"
    assert request.headers["User-Agent"] == USER_AGENT
    assert "hamsa-for-slack" in USER_AGENT
    assert __version__ in USER_AGENT


async def test_upper_case_id_is_requested_in_lower_case(hamsa: FakeHamsa, client: HamsaClient) -> None:
    conversation = await client.get_conversation(DOC_ID.upper())

    assert conversation.id == DOC_ID
    assert hamsa.count(DOC_ID) == 1


async def test_base_url_with_a_trailing_slash_works(hamsa: FakeHamsa, make_client: ClientFactory) -> None:
    client = make_client(base_url=hamsa.url + "/")

    await client.get_conversation(DOC_ID)

    assert hamsa.requests[0].path == f"/v1/voice-agents/conversation/{DOC_ID}"


async def test_client_from_settings_uses_the_configured_url_and_key(hamsa: FakeHamsa) -> None:
    settings = Settings.model_construct(hamsa_api_key=SecretStr(API_KEY), hamsa_api_url=hamsa.url)

    async with HamsaClient.from_settings(settings) as client:
        conversation = await client.get_conversation(samples.FAILED_ID)

    assert conversation.status == Status.FAILED
    assert hamsa.requests[0].headers["Authorization"] == f"Token {API_KEY}"


async def test_default_base_url_is_hamsas_eu_region() -> None:
    async with HamsaClient(api_key=API_KEY) as client:
        assert "https://api.tryhamsa.com" in repr(client)


@pytest.mark.parametrize(
    "reference",
    ["", "not-a-uuid", f"{DOC_ID}/../../admin", f"{DOC_ID}?x=1", DOC_ID[:-1]],
)
async def test_invalid_id_raises_before_any_request(hamsa: FakeHamsa, client: HamsaClient, reference: str) -> None:
    with pytest.raises(InvalidConversationId):
        await client.get_conversation(reference)

    assert hamsa.count() == 0


async def test_conversation_without_an_id_in_its_body_takes_the_requested_id(
    hamsa: FakeHamsa, client: HamsaClient
) -> None:
    hamsa.conversations[MISSING_ID] = {"status": "NO_ANSWER"}

    conversation = await client.get_conversation(MISSING_ID)

    assert conversation.id == MISSING_ID
    assert conversation.status == Status.NO_ANSWER


async def test_envelope_saying_success_false_on_http_200_still_gives_the_conversation(
    hamsa: FakeHamsa, client: HamsaClient
) -> None:
    body = {"success": False, "message": "success", "data": samples.documented_example()}
    hamsa.inject(Fault.status(200, json.dumps(body)))

    conversation = await client.get_conversation(DOC_ID)

    assert conversation.title == "Customer Support Call"


async def test_long_conversation_within_the_size_cap_is_fetched(hamsa: FakeHamsa, make_client: ClientFactory) -> None:
    hamsa.conversations[samples.LONG_ID] = samples.long_call(1000)
    client = make_client(max_response_bytes=8 * 1024 * 1024)

    conversation = await client.get_conversation(samples.LONG_ID)

    assert len(conversation.logs) == 1000


# ---- errors that are not retried ---------------------------------------------------------------


async def test_unknown_conversation_is_not_found(hamsa: FakeHamsa, client: HamsaClient) -> None:
    error = await lookup_error(client, MISSING_ID)

    assert isinstance(error, ConversationNotFound)
    assert hamsa.count() == 1


async def test_wrong_key_is_unauthorized_and_not_retried(hamsa: FakeHamsa, make_client: ClientFactory) -> None:
    client = make_client(api_key="a-key-hamsa-does-not-know", max_attempts=3)

    error = await lookup_error(client)

    assert isinstance(error, HamsaUnauthorized)
    assert hamsa.count() == 1


@pytest.mark.parametrize("code", [401, 403])
async def test_401_and_403_are_unauthorized_and_not_retried(
    hamsa: FakeHamsa, make_client: ClientFactory, code: int
) -> None:
    hamsa.inject(Fault.status(code), times=-1)

    error = await lookup_error(make_client(max_attempts=3))

    assert isinstance(error, HamsaUnauthorized)
    assert hamsa.count() == 1


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.status(400), HamsaBadResponse),
        (Fault.status(404), ConversationNotFound),
        (Fault.status(409), HamsaBadResponse),
        (Fault.html(418), HamsaBadResponse),
        (Fault.status(302, "", headers={"Location": "https://elsewhere.example.com/"}), HamsaBadResponse),
    ],
    ids=["400", "404", "409", "418-html", "302-redirect"],
)
async def test_client_errors_other_than_429_are_never_retried(
    hamsa: FakeHamsa, make_client: ClientFactory, fault: Fault, expected: type[HamsaError]
) -> None:
    hamsa.inject(fault, times=-1)

    error = await lookup_error(make_client(max_attempts=3))

    assert type(error) is expected
    assert hamsa.count() == 1


@pytest.mark.parametrize(
    "fault",
    [
        Fault.malformed_json(),
        Fault.wrong_shape(),
        Fault.status(200, "[]"),
        Fault.status(200, "null"),
        Fault.status(200, json.dumps({"success": True, "data": "849e77c6"})),
        Fault.status(200, json.dumps({"success": True, "message": "Success"})),
        Fault.status(200, "<html><body>Maintenance</body></html>", content_type="text/html"),
        Fault.status(200, b"\xff\xfe\x00garbage"),
        Fault.status(200, '{"data": ' * 100_000),
        Fault.status(200, '{"data":' + "[" * 100_000 + "]" * 100_000 + "}"),
    ],
    ids=[
        "cut-off-json",
        "data-is-a-list",
        "body-is-a-list",
        "body-is-null",
        "data-is-a-string",
        "no-data",
        "html-page",
        "not-utf8",
        "unterminated-nesting",
        "deep-nesting",
    ],
)
async def test_answers_that_are_not_a_conversation_are_bad_responses(
    hamsa: FakeHamsa, make_client: ClientFactory, fault: Fault
) -> None:
    hamsa.inject(fault, times=-1)

    error = await lookup_error(make_client(max_attempts=3))

    assert isinstance(error, HamsaBadResponse)
    assert hamsa.count() == 1


@pytest.mark.parametrize("declare_length", [False, True], ids=["chunked", "content-length"])
async def test_oversized_answer_is_a_bad_response(
    hamsa: FakeHamsa, make_client: ClientFactory, declare_length: bool
) -> None:
    hamsa.inject(Fault.oversized(1024 * 1024, declare_length=declare_length), times=-1)

    error = await lookup_error(make_client(max_response_bytes=64 * 1024, max_attempts=3))

    assert isinstance(error, HamsaBadResponse)
    assert hamsa.count() == 1


# ---- errors that are retried -------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault.status(500), Fault.html(502), Fault.status(503), Fault.drop(), Fault.reset_midway()],
    ids=["500", "502-html", "503", "dropped", "reset-midway"],
)
async def test_server_and_connection_failures_are_retried_then_unavailable(
    hamsa: FakeHamsa, make_client: ClientFactory, fault: Fault
) -> None:
    hamsa.inject(fault, times=-1)

    error = await lookup_error(make_client(max_attempts=2))

    assert isinstance(error, HamsaUnavailable)
    assert hamsa.count() == 2


@pytest.mark.parametrize(
    "fault",
    [Fault.html(502), Fault.drop(), Fault.reset_midway(), Fault.status(429)],
    ids=["502-html", "dropped", "reset-midway", "429-without-retry-after"],
)
async def test_one_passing_failure_is_retried_and_the_lookup_succeeds(
    hamsa: FakeHamsa, client: HamsaClient, fault: Fault
) -> None:
    hamsa.inject(fault, times=1)

    conversation = await client.get_conversation(DOC_ID)

    assert conversation.id == DOC_ID
    assert hamsa.count() == 2


@pytest.mark.parametrize("max_attempts", [1, 3])
async def test_retries_are_bounded_by_max_attempts(
    hamsa: FakeHamsa, make_client: ClientFactory, max_attempts: int
) -> None:
    hamsa.inject(Fault.status(503), times=-1)

    error = await lookup_error(make_client(max_attempts=max_attempts))

    assert isinstance(error, HamsaUnavailable)
    assert hamsa.count() == max_attempts


async def test_connection_refused_is_unavailable(make_client: ClientFactory) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{free_port()}")

    error = await lookup_error(client)

    assert isinstance(error, HamsaUnavailable)


async def test_rate_limit_is_retried_after_retry_after_and_succeeds(hamsa: FakeHamsa, client: HamsaClient) -> None:
    hamsa.inject(Fault.rate_limited(retry_after=0.2))

    conversation = await client.get_conversation(DOC_ID)

    assert conversation.id == DOC_ID
    first, second = hamsa.requests
    assert second.at - first.at >= 0.2


async def test_retry_after_is_capped_so_a_long_one_still_gets_a_retry(
    hamsa: FakeHamsa, make_client: ClientFactory
) -> None:
    hamsa.inject(Fault.rate_limited(retry_after=30))

    conversation = await make_client(retry_after_cap=0.15).get_conversation(DOC_ID)

    assert conversation.id == DOC_ID
    first, second = hamsa.requests
    assert second.at - first.at >= 0.15


async def test_persistent_rate_limit_carries_retry_after(hamsa: FakeHamsa, client: HamsaClient) -> None:
    hamsa.inject(Fault.rate_limited(retry_after=0.1), times=-1)

    error = await lookup_error(client)

    assert isinstance(error, HamsaRateLimited)
    assert error.retry_after == pytest.approx(0.1)
    assert hamsa.count() == 2


async def test_retry_after_beyond_the_budget_gives_up_at_once(hamsa: FakeHamsa, make_client: ClientFactory) -> None:
    hamsa.inject(Fault.rate_limited(retry_after=30), times=-1)

    error = await lookup_error(make_client(retry_after_cap=60, max_attempts=3))

    assert isinstance(error, HamsaRateLimited)
    assert error.retry_after == 30
    assert hamsa.count() == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), ("-5", 0.0)],
    ids=["http-date-in-the-past", "unreadable", "negative"],
)
async def test_retry_after_as_a_date_or_junk_is_read_safely(
    hamsa: FakeHamsa, client: HamsaClient, header: str, expected: float | None
) -> None:
    hamsa.inject(Fault.status(429, headers={"Retry-After": header}), times=-1)

    error = await lookup_error(client)

    assert isinstance(error, HamsaRateLimited)
    assert error.retry_after == expected


# ---- the lookup budget -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault.never_answer(), Fault.trickle(chunk_delay=0.05, total_seconds=30)],
    ids=["never-answers", "trickles"],
)
async def test_hamsa_that_never_finishes_answering_is_unavailable_within_the_budget(
    hamsa: FakeHamsa, make_client: ClientFactory, fault: Fault
) -> None:
    hamsa.inject(fault, times=-1)
    # A read timeout longer than the budget: only the budget can end this lookup.
    client = make_client(read_timeout=30, lookup_budget=0.3, max_attempts=3)

    error = await lookup_error(client)

    assert isinstance(error, HamsaUnavailable)
    assert hamsa.count() >= 1


async def test_read_timeout_is_retried_within_the_budget(hamsa: FakeHamsa, make_client: ClientFactory) -> None:
    hamsa.inject(Fault.never_answer(), times=1)

    conversation = await make_client(read_timeout=0.2).get_conversation(DOC_ID)

    assert conversation.id == DOC_ID
    assert hamsa.count() == 2


# ---- the API key stays secret ------------------------------------------------------------------

_LEAK_CASES = [
    pytest.param(None, DOC_ID, id="success"),
    pytest.param(None, MISSING_ID, id="404"),
    pytest.param(Fault.status(401), DOC_ID, id="401"),
    pytest.param(Fault.rate_limited(0.05), DOC_ID, id="429"),
    pytest.param(Fault.html(502), DOC_ID, id="502"),
    pytest.param(Fault.malformed_json(), DOC_ID, id="malformed"),
    pytest.param(Fault.oversized(1024 * 1024), DOC_ID, id="oversized"),
    pytest.param(Fault.drop(), DOC_ID, id="dropped"),
    pytest.param(Fault.never_answer(), DOC_ID, id="never-answers"),
    pytest.param(Fault.status(400, json.dumps({"message": f"bad header Token {API_KEY}"})), DOC_ID, id="echoed"),
]


def _texts_of(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    cause: BaseException | None = error
    while cause is not None:
        texts += [str(cause), repr(cause), repr(cause.args)]
        cause = cause.__cause__ or cause.__context__
    return texts


@pytest.mark.parametrize(("fault", "conversation_id"), _LEAK_CASES)
async def test_api_key_never_appears_in_errors_reprs_or_logs(
    hamsa: FakeHamsa,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
    fault: Fault | None,
    conversation_id: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    if fault is not None:
        hamsa.inject(fault, times=-1)
    client = make_client(read_timeout=0.1, lookup_budget=0.3, max_response_bytes=64 * 1024)

    texts = [repr(client), str(client)]
    try:
        async with asyncio.timeout(BUDGET + 2):
            await client.get_conversation(conversation_id)
    except HamsaError as error:
        texts += _texts_of(error)

    assert hamsa.count() >= 1
    assert caplog.records, "the lookup should have logged something for this check to mean anything"
    for text in [*texts, caplog.text]:
        assert API_KEY not in text


def test_client_repr_hides_the_key() -> None:
    client = HamsaClient(api_key=API_KEY)

    assert API_KEY not in repr(client)
    assert API_KEY not in str(client)


# ---- single flight -----------------------------------------------------------------------------


async def test_fifty_concurrent_lookups_of_one_slow_conversation_cost_one_request(
    hamsa: FakeHamsa, client: HamsaClient
) -> None:
    hamsa.latency = 0.2
    ids = [DOC_ID.upper() if n % 2 else DOC_ID for n in range(50)]

    async with asyncio.timeout(BUDGET + 2):
        results = await asyncio.gather(*(client.get_conversation(i) for i in ids))

    assert hamsa.count() == 1
    assert all(result is results[0] for result in results)
    assert results[0].id == DOC_ID


async def test_concurrent_lookups_of_different_ids_each_make_their_own_request(
    hamsa: FakeHamsa, client: HamsaClient
) -> None:
    hamsa.latency = 0.1
    ids = [DOC_ID, samples.FAILED_ID, samples.IN_PROGRESS_ID] * 5

    results = await asyncio.gather(*(client.get_conversation(i) for i in ids))

    assert [r.id for r in results] == ids
    assert hamsa.count(DOC_ID) == hamsa.count(samples.FAILED_ID) == hamsa.count(samples.IN_PROGRESS_ID) == 1


async def test_a_cancelled_waiter_does_not_cancel_the_others(hamsa: FakeHamsa, client: HamsaClient) -> None:
    hamsa.latency = 0.2
    waiters = [asyncio.create_task(client.get_conversation(DOC_ID)) for _ in range(3)]
    await until(lambda: hamsa.count() == 1)

    waiters[0].cancel()
    results = await asyncio.gather(*waiters, return_exceptions=True)

    assert isinstance(results[0], asyncio.CancelledError)
    assert [r.id for r in results[1:]] == [DOC_ID, DOC_ID]  # type: ignore[union-attr]
    assert hamsa.count() == 1


async def test_a_lookup_everyone_abandoned_still_fills_the_cache(hamsa: FakeHamsa, client: HamsaClient) -> None:
    hamsa.latency = 0.1
    waiter = asyncio.create_task(client.get_conversation(DOC_ID))
    await until(lambda: hamsa.count() == 1)
    waiter.cancel()
    hamsa.latency = 0.0

    conversation = await client.get_conversation(DOC_ID)

    assert conversation.id == DOC_ID
    assert hamsa.count() == 1


async def test_a_failure_is_shared_by_all_waiters_and_not_cached(hamsa: FakeHamsa, make_client: ClientFactory) -> None:
    client = make_client(max_attempts=1)
    hamsa.latency = 0.1
    hamsa.inject(Fault.html(502))

    async with asyncio.timeout(BUDGET + 2):
        results = await asyncio.gather(*(client.get_conversation(DOC_ID) for _ in range(20)), return_exceptions=True)

    assert all(isinstance(r, HamsaUnavailable) for r in results)
    assert hamsa.count() == 1

    hamsa.latency = 0.0
    conversation = await client.get_conversation(DOC_ID)

    assert conversation.id == DOC_ID
    assert hamsa.count() == 2


# ---- fresh lookups (a recording's signed link must be current) -----------------------------------


async def test_a_fresh_lookup_asks_hamsa_again_and_refreshes_the_cache(hamsa: FakeHamsa, client: HamsaClient) -> None:
    await client.get_conversation(DOC_ID)
    hamsa.conversations[DOC_ID]["mediaUrl"] = "https://storage.example.com/recordings/123.mp3?X-Amz-Signature=new"

    fresh = await client.get_conversation(DOC_ID, fresh=True)
    cached = await client.get_conversation(DOC_ID)

    assert fresh.media_url == cached.media_url == hamsa.conversations[DOC_ID]["mediaUrl"]
    assert hamsa.count(DOC_ID) == 2


async def test_a_fresh_lookup_ignores_a_cached_not_found(hamsa: FakeHamsa, client: HamsaClient) -> None:
    with pytest.raises(ConversationNotFound):
        await client.get_conversation(MISSING_ID)
    hamsa.conversations[MISSING_ID] = {**samples.documented_example(), "id": MISSING_ID}

    assert (await client.get_conversation(MISSING_ID, fresh=True)).id == MISSING_ID
    assert hamsa.count(MISSING_ID) == 2


async def test_a_fresh_lookup_joins_a_request_already_in_flight(hamsa: FakeHamsa, client: HamsaClient) -> None:
    hamsa.latency = 0.2
    first = asyncio.create_task(client.get_conversation(DOC_ID))
    await until(lambda: hamsa.count() == 1)

    fresh = await client.get_conversation(DOC_ID, fresh=True)

    assert fresh is await first
    assert hamsa.count() == 1
