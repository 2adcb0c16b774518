"""``HamsaClient.list_calls`` against a loopback Hamsa serving the documented minimal list.

The query is Hamsa's documented one (``status`` repeated, ``voiceAgentId``, ``startTime``/``endTime`` in
epoch milliseconds, ``page``, ``perPage``); errors are the same typed errors as a conversation lookup.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.hamsa.client import MINIMAL_LIST_PATH, HamsaClient
from bot.hamsa.errors import HamsaBadResponse, HamsaRateLimited, HamsaUnauthorized, HamsaUnavailable
from bot.hamsa.models import STATUS_WORDS, Status, status_word
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import FakeHamsa, Fault

API_KEY = "hk_list_key"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def hamsa() -> AsyncIterator[FakeHamsa]:
    async with FakeHamsa(samples.recent_calls(35, NOW), api_key=API_KEY) as server:
        yield server


@pytest.fixture
async def client(hamsa: FakeHamsa) -> AsyncIterator[HamsaClient]:
    async with HamsaClient(
        api_key=API_KEY, base_url=hamsa.url, lookup_budget=1.0, read_timeout=0.5, backoff_base=0.01
    ) as made:
        yield made


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def list_queries(hamsa: FakeHamsa) -> list[tuple[tuple[str, str], ...]]:
    return [r.query for r in hamsa.requests if r.path == MINIMAL_LIST_PATH]


def test_status_words_are_the_documented_statuses_one_word_each() -> None:
    assert set(STATUS_WORDS.values()) == set(Status)
    assert status_word("NO_ANSWER") == "no-answer"
    assert status_word("IN_PROGRESS") == "in-progress"
    assert status_word("SOMETHING_NEW") is None
    assert all(word == word.lower() and " " not in word for word in STATUS_WORDS)


async def test_filters_go_to_hamsa_as_documented_and_the_page_comes_back_newest_first(
    client: HamsaClient, hamsa: FakeHamsa
) -> None:
    start, end = NOW - timedelta(hours=24), NOW
    page = await client.list_calls(
        statuses=["FAILED", "NO_ANSWER"],
        agent_id=samples.SUPPORT_AGENT_ID.upper(),
        start_ms=millis(start),
        end_ms=millis(end),
        page=1,
        per_page=10,
    )

    (query,) = list_queries(hamsa)
    assert query == (
        ("page", "1"),
        ("perPage", "10"),
        ("status", "FAILED"),
        ("status", "NO_ANSWER"),
        ("voiceAgentId", samples.SUPPORT_AGENT_ID),
        ("startTime", str(millis(start))),
        ("endTime", str(millis(end))),
    )
    expected = [
        call
        for call in samples.recent_calls(35, NOW).values()
        if call["status"] in ("FAILED", "NO_ANSWER")
        and call["voiceAgentId"] == samples.SUPPORT_AGENT_ID
        and start <= datetime.fromisoformat(call["createdAt"]) <= end
    ]
    assert expected, "the sample must hold matching calls"
    assert [c.id for c in page.calls] == [c["id"] for c in expected]
    first = page.calls[0]
    assert first.agent_name == "Support Agent"
    assert first.voice_agent_id == samples.SUPPORT_AGENT_ID
    assert first.status in ("FAILED", "NO_ANSWER")
    assert first.caller_number == expected[0]["callParams"]["userNumber"]
    assert page.matching == len(expected)
    assert not page.has_older


async def test_paging_through_35_calls_uses_hamsas_page_and_total(client: HamsaClient) -> None:
    seen: list[str] = []
    number = 1
    while True:
        page = await client.list_calls(page=number, per_page=10)
        seen += [c.id for c in page.calls]
        assert page.pages == 4
        if not page.has_older:
            break
        number += 1

    assert number == 4
    assert seen == [samples.recent_call_id(i) for i in range(35)]


async def test_lists_are_never_cached(client: HamsaClient, hamsa: FakeHamsa) -> None:
    await client.list_calls()
    await client.list_calls()
    assert len(list_queries(hamsa)) == 2


async def test_an_account_lists_only_its_own_calls(client: HamsaClient, hamsa: FakeHamsa) -> None:
    mine = {samples.recent_call_id(3), samples.recent_call_id(4)}
    hamsa.add_account("other-key", mine)
    other = client.for_account(api_key="other-key", base_url=hamsa.url, scope="T0OTHER:x")

    page = await other.list_calls(per_page=200)

    assert {c.id for c in page.calls} == mine
    assert page.matching == 2


def _answer(data: Any) -> Fault:
    return Fault.status(200, json.dumps({"success": False, "message": "success", "data": data}))


async def test_odd_items_are_left_out_and_odd_fields_dropped(client: HamsaClient, hamsa: FakeHamsa) -> None:
    good = samples.recent_call_id(0)
    hamsa.inject(
        _answer(
            {
                "total": "many",
                "calls": [
                    {"id": good, "duration": "long", "agentName": {"x": 1}, "createdAt": "yesterday"},
                    {"id": "<!channel>"},
                    {"id": 42},
                    "not a call",
                    None,
                ],
            }
        )
    )

    page = await client.list_calls()

    assert [c.id for c in page.calls] == [good]
    assert page.calls[0].duration is None and page.calls[0].agent_name is None
    assert page.calls[0].created_at is None
    assert page.matching is None
    assert not page.has_older  # a short page, and Hamsa said nothing about the total


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.status(401), HamsaUnauthorized),
        (Fault.status(404), HamsaBadResponse),
        (Fault.status(400), HamsaBadResponse),
        (Fault.malformed_json(), HamsaBadResponse),
        (_answer(["not", "a", "page"]), HamsaBadResponse),
        (_answer({"calls": "none"}), HamsaBadResponse),
        (Fault.html(502), HamsaUnavailable),
        (Fault.rate_limited(0), HamsaRateLimited),
    ],
)
async def test_every_hamsa_error_is_the_typed_error_a_lookup_gets(
    client: HamsaClient, hamsa: FakeHamsa, fault: Fault, error: type[Exception]
) -> None:
    hamsa.inject(fault, times=-1)

    with pytest.raises(error):
        await client.list_calls()


async def test_a_passing_failure_is_retried_within_the_budget(client: HamsaClient, hamsa: FakeHamsa) -> None:
    hamsa.inject(Fault.status(503), times=2)

    page = await client.list_calls()

    assert len(page.calls) == 10
    assert len(list_queries(hamsa)) == 3


async def test_impossible_pages_are_refused_before_asking(client: HamsaClient, hamsa: FakeHamsa) -> None:
    for kwargs in ({"page": 0}, {"per_page": 0}, {"per_page": 201}):
        with pytest.raises(ValueError):
            await client.list_calls(**kwargs)
    assert hamsa.count() == 0
