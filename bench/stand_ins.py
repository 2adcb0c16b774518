"""The stand-ins as the benchmarks need them: Hamsa that knows every UUID, Slack that reports arrivals."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp import web

from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.samples import fresh_samples
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY

LINK_DOMAIN = "dashboard.tryhamsa.com"


def conversation_link(conversation_id: str) -> str:
    return f"https://{LINK_DOMAIN}/conversations/{conversation_id}"


def new_ids(count: int) -> list[str]:
    """Distinct conversation IDs that no cache has seen."""
    return [str(uuid.uuid4()) for _ in range(count)]


def small_conversation(conversation_id: str) -> dict[str, Any]:
    """A short finished call, about 2 KB of JSON: what most conversations look like."""
    return {
        "id": conversation_id,
        "title": "Order status enquiry",
        "status": "COMPLETED",
        "type": "VOICE_AGENTS",
        "processingType": "real-time",
        "model": "gpt-4o-mini",
        "createdAt": "2025-03-02T09:14:05Z",
        "updatedAt": "2025-03-02T09:16:31Z",
        "callDuration": 146,
        "channelType": "Telephone",
        "mediaUrl": f"https://storage.example.com/recordings/{conversation_id}.mp3",
        "callParams": {"userNumber": "+971501234567", "machineNumber": "+97145550100"},
        "agentDetails": {"agentName": "Order Desk", "lang": "en"},
        "jobResponse": {
            "callStartedAt": "2025-03-02T09:14:05.000Z",
            "callEndedAt": "2025-03-02T09:16:31.000Z",
            "transcription": [
                {"Agent": "Hello, this is the order desk. How can I help?"},
                {"User": "Where is my order number 7?"},
                {"Agent": "It left the warehouse this morning and arrives tomorrow."},
                {"User": "Great, thanks."},
            ],
            "outcomeResult": {"orderId": 7, "resolution": "status given"},
        },
        "callAnalysis": {},
        "performanceMetrics": {"llmResponseTime": 640, "totalProcessingTime": 1033},
        "logs": [
            {
                "id": f"log_{i}",
                "type": "INFO",
                "category": "flow",
                "message": "Transitioned to next node",
                "payload": {"sequence": i},
                "timestamp": f"2025-03-02T09:14:{10 + i:02d}.000Z",
            }
            for i in range(5)
        ],
    }


class EveryConversation(dict[str, dict[str, Any]]):
    """The samples, plus a small conversation made up on demand for any other ID (so any ID is there)."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def get(self, key: str, default: Any = None) -> Any:
        found = super().get(key)
        return found if found is not None else small_conversation(key)


def bench_hamsa(latency: float = 0.0) -> FakeHamsa:
    conversations = EveryConversation(fresh_samples())
    return FakeHamsa(conversations, api_key=HAMSA_KEY, latency=latency)


class BenchSlack(FakeSlack):
    """FakeSlack that resolves a waiter when the ``chat.unfurl`` for a message (or unfurl_id) lands.

    Waiting through ``wait_for_calls`` rescans every call on each arrival, which is quadratic over
    thousands of calls; here each arrival costs a dictionary lookup.
    """

    def __init__(self) -> None:
        super().__init__(bot_token=BOT_TOKEN)
        self.unfurls = 0
        self.refused_unfurls = 0
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self._handled = 0

    def expect_unfurl(self, key: str) -> asyncio.Future[float]:
        """A future for the arrival time (``time.monotonic``) of the unfurl of message ``key``.

        ``key`` is the event's ``message_ts``, or its ``unfurl_id`` for a composer event.
        """
        future = asyncio.get_running_loop().create_future()
        self._waiters[key] = future
        return future

    def forget(self) -> None:
        """Drop the recorded traffic and pending waiters (between phases, to keep memory flat)."""
        self.calls.clear()
        self.responses.clear()
        self.unfurls = 0
        self._handled = 0
        self._waiters.clear()

    async def _handle_api(self, request: web.Request) -> web.Response:
        response = await super()._handle_api(request)
        for call in self.calls[self._handled :]:
            if call.method != "chat.unfurl":
                continue
            self.unfurls += 1
            if not (call.answer or {}).get("ok"):
                self.refused_unfurls += 1
            key = call.params.get("ts") or call.params.get("unfurl_id")
            waiter = self._waiters.pop(str(key), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(call.at)
        self._handled = len(self.calls)
        return response
