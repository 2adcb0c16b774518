"""A burst of links against a slow Hamsa: every event acknowledged, every link unfurled, memory bounded."""

from __future__ import annotations

import asyncio
import uuid

from bot.sandbox import samples
from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.slack_requests import link_shared_event
from bot.sandbox.stack import HAMSA_KEY, start_stack

EVENTS = 500
CONVERSATIONS = 50
BATCH = 100
CACHE_SIZE = 64


def conversation_ids() -> list[str]:
    return [str(uuid.UUID(int=index + 1, version=4)) for index in range(CONVERSATIONS)]


async def test_burst_of_links_against_a_slow_hamsa_is_answered_in_full() -> None:
    ids = conversation_ids()
    conversations = {
        conversation_id: {**samples.documented_example(), "id": conversation_id} for conversation_id in ids
    }
    hamsa = FakeHamsa(conversations, api_key=HAMSA_KEY, latency=0.2)
    async with await start_stack(hamsa=hamsa, cache_size=CACHE_SIZE, hamsa_lookup_budget=5.0) as stack:
        links = [f"https://dashboard.tryhamsa.com/conversations/{ids[n % CONVERSATIONS]}" for n in range(EVENTS)]
        events = [link_shared_event([link]) for link in links]

        acks = []
        for start in range(0, EVENTS, BATCH):
            batch = events[start : start + BATCH]
            acks += await asyncio.gather(*(stack.sender.event(event) for event in batch))

        assert [ack.status_code for ack in acks] == [200] * EVENTS
        unfurls = await stack.slack.wait_for_calls("chat.unfurl", EVENTS, timeout=60)
        await stack.services.background.drain(10)

        # None dropped: each event got its own unfurl, for its own link, and Slack accepted it.
        url_by_ts = {event["message_ts"]: event["links"][0]["url"] for event in events}
        assert len(stack.slack.calls_to("chat.unfurl")) == EVENTS
        assert sorted(call.params["ts"] for call in unfurls) == sorted(url_by_ts)
        assert all(list(call.params["unfurls"]) == [url_by_ts[call.params["ts"]]] for call in unfurls)
        assert all(call.answer == {"ok": True} for call in unfurls)
        # Single flight and the cache: one Hamsa request per conversation, however many links.
        assert stack.hamsa.count() == CONVERSATIONS
        # Memory is bounded: no work left behind, the cache within its bound.
        assert len(stack.services.background) == 0
        assert len(stack.services.hamsa._cache) <= CACHE_SIZE
        assert len(stack.services.state) == EVENTS  # one de-duplication key per event
