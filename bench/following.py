"""Following calls: how fast Hamsa's webhooks are acknowledged, and how soon an alert follows one.

The app runs as ``python -m bot serve`` with its embedded store (an SQLite file), so every
acknowledgement includes a durable write to the outbox. The stand-in Hamsa answers at once: its own
latency would add to the alert's, and is not the app's.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
from aiohttp import web

from bench.load import Client, hamsa_command, median, percentile
from bench.measures import Sizes, stand_ins
from bench.process import app_process
from bench.report import Row, ms
from bench.stand_ins import BenchSlack, new_ids, small_conversation
from bot.following.webhooks import WEBHOOK_PATH
from bot.sandbox.fake_hamsa import FakeHamsa, webhook_event

SECRET = "hsk_bench-webhook-secret"
WEBHOOK_RATE = 200.0


class AlertSlack(BenchSlack):
    """Resolves a waiter when the alert for a conversation is posted (its ID is in the alert's blocks)."""

    def __init__(self) -> None:
        super().__init__()
        self._alerts: dict[str, asyncio.Future[float]] = {}
        self._seen = 0

    def expect_alert(self, conversation_id: str) -> asyncio.Future[float]:
        future = asyncio.get_running_loop().create_future()
        self._alerts[conversation_id] = future
        return future

    async def _handle_api(self, request: web.Request) -> web.Response:
        response = await super()._handle_api(request)
        for call in self.calls[self._seen :]:
            if call.method == "chat.postMessage" and "blocks" in call.params:
                shown = json.dumps(call.params["blocks"])
                for conversation_id in [c for c in self._alerts if c in shown]:
                    waiter = self._alerts.pop(conversation_id)
                    if not waiter.done():
                        waiter.set_result(call.at)
        self._seen = len(self.calls)
        return response


def _hook(conversation_id: str, event_type: str) -> bytes:
    return json.dumps(webhook_event(event_type, small_conversation(conversation_id))).encode()


async def webhook_ack(sizes: Sizes) -> list[Row]:
    """Time to HTTP 200 for webhooks arriving at 200 a second, each durably queued before its answer."""
    count = sizes.webhooks
    async with stand_ins() as (hamsa, slack), app_process(hamsa, slack, HAMSA_WEBHOOK_SECRET=SECRET) as app:
        url = app.url + WEBHOOK_PATH
        headers = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
        bodies = [_hook(c, "call.started") for c in new_ids(count)]
        async with aiohttp.ClientSession() as http:

            async def send(body: bytes, at: float) -> float:
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                started = time.monotonic()
                async with http.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    if answer.status != 200:
                        raise RuntimeError(f"webhook answered {answer.status}")
                return time.monotonic() - started

            for body in bodies[:20]:  # warm up: lazy imports, the first database connections
                await send(body, 0)
            start = time.monotonic() + 0.1
            durations = await asyncio.gather(*(send(b, start + i / WEBHOOK_RATE) for i, b in enumerate(bodies[20:])))
    p50, p99 = median(durations), percentile(durations, 99)
    values = {"webhooks": len(durations), "rate_per_s": WEBHOOK_RATE, "p50_ms": p50 * 1000, "p99_ms": p99 * 1000}
    name = f"Webhook acknowledged (durably queued), {WEBHOOK_RATE:.0f}/s"
    return [Row(name, "p50", ms(p50), "", None, values), Row(name, "p99", ms(p99), "< 50 ms", p99 < 0.050, values)]


CHANNELS = 10
ALERT_RATE = 10.0  # webhooks a second, spread over the channels: one alert a second in each, Slack's pace


async def webhook_to_alert(sizes: Sizes) -> list[Row]:
    """A call.ended webhook → its alert posted in the subscribed channel (Hamsa answering at once).

    Ten channels each follow one agent's completed calls, and the calls go round the agents at ten a
    second, so no channel gets more than Slack's one message a second (the app paces itself to it).
    """
    agents = new_ids(CHANNELS)
    async with stand_ins() as (hamsa, _):
        slack = AlertSlack()
        await slack.start()
        try:
            async with app_process(hamsa, slack, HAMSA_WEBHOOK_SECRET=SECRET) as app, Client(app.url) as client:
                for channel, agent in enumerate(agents):
                    rule = f"subscribe completed agent {agent}"
                    await client.send(hamsa_command(rule, slack.new_response_url(), channel_id=f"C0ALERTS{channel}"))
                await slack.wait_for_calls("chat.postMessage", CHANNELS, timeout=10)
                delays = await _alerts(app.url + WEBHOOK_PATH, hamsa, slack, agents, sizes.alerts)
        finally:
            await slack.stop()
    p50, p99 = median(delays), percentile(delays, 99)
    values = {"alerts": len(delays), "channels": CHANNELS, "p50_ms": p50 * 1000, "p99_ms": p99 * 1000}
    name = "Webhook → alert posted"
    return [
        Row(name, "p50", ms(p50), "< 50 ms", p50 < 0.050, values),
        Row(name, "p99", ms(p99), "< 250 ms", p99 < 0.250, values),
    ]


async def _alerts(url: str, hamsa: FakeHamsa, slack: AlertSlack, agents: list[str], count: int) -> list[float]:
    headers = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:

        async def one(index: int, conversation_id: str) -> float:
            await asyncio.sleep(max(0.0, start + index / ALERT_RATE - time.monotonic()))
            hamsa.conversations[conversation_id] = dict(
                small_conversation(conversation_id), voiceAgentId=agents[index % len(agents)]
            )
            arrived = slack.expect_alert(conversation_id)
            sent = time.monotonic()
            async with http.post(url, data=_hook(conversation_id, "call.ended"), headers=headers) as answer:
                await answer.read()
            return await asyncio.wait_for(arrived, 10) - sent

        start = time.monotonic()
        delays = await asyncio.gather(*(one(i, c) for i, c in enumerate(new_ids(count + CHANNELS))))
    return list(delays[CHANNELS:])  # the first round pays for lazy imports
