"""Socket Mode (``SLACK_APP_TOKEN`` set): the real ``serve`` over a WebSocket from the stand-in Slack.

The app opens the connection with its app-level token, acks every envelope over the socket and
answers the same way as over HTTP: response_url posts and Web API calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import pytest
from pydantic import SecretStr

from bot import actions
from bot.hamsa.models import Conversation
from bot.identity import TokenRefused
from bot.render.logs import render_logs_page
from bot.render.summary import render_summary, summary_text
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import FakeHamsa, GatedHamsa
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.slack_requests import DEFAULT_CHANNEL, block_actions, event_callback, link_shared_event, slash_command
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY, sandbox_settings
from bot.server import serve

APP_TOKEN = "xapp-1-A0HAMSA-sandbox-app-token"
DOCUMENTED = Conversation.model_validate(samples.documented_example())
DOCUMENTED_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"
COMMAND_LINE = re.compile(r"slack request kind=command:/hamsa ref=H-[0-9A-F]{6} status=200 latency_ms=\d+\.\d")


@dataclass
class SocketApp:
    slack: FakeSlack
    hamsa: FakeHamsa
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def stopped(self) -> None:
        """Ask ``serve`` to stop, as SIGTERM does, and wait until it returned."""
        self.stop.set()
        async with asyncio.timeout(5):
            await self.task

    async def aclose(self) -> None:
        await self.stopped()
        await self.slack.stop()
        await self.hamsa.stop()


async def start_serving(hamsa: FakeHamsa, app_token: str = APP_TOKEN, bot_token: str = BOT_TOKEN) -> SocketApp:
    """``serve`` in Socket Mode (an app-level token, no signing secret), as a task; not yet connected."""
    slack = FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    await slack.start()
    await hamsa.start()
    settings = sandbox_settings(
        hamsa,
        slack,
        slack_signing_secret=None,
        slack_app_token=SecretStr(app_token),
        slack_bot_token=SecretStr(bot_token),
    )
    stop = asyncio.Event()
    return SocketApp(slack, hamsa, stop, asyncio.create_task(serve(settings, stop)))


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk's Socket Mode client takes a proxy from the environment; loopback needs none."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def socket_app(no_proxy: None) -> AsyncIterator[SocketApp]:
    app = await start_serving(FakeHamsa(api_key=HAMSA_KEY))
    try:
        await app.slack.wait_for_socket_connection()
        yield app
    finally:
        await app.aclose()


# What Slack sends over the socket is the payload it would POST over HTTP, as JSON.


def command_payload(text: str, response_url: str) -> dict[str, Any]:
    body, _ = slash_command(text, response_url=response_url)
    return dict(parse_qsl(body, keep_blank_values=True))


def event_payload(event: dict[str, Any]) -> dict[str, Any]:
    body, _ = event_callback(event)
    payload: dict[str, Any] = json.loads(body)
    return payload


def interaction_payload(action_id: str, value: str, **options: Any) -> dict[str, Any]:
    body, _ = block_actions(action_id, value, **options)
    payload: dict[str, Any] = json.loads(parse_qs(body)["payload"][0])
    return payload


async def test_the_app_connects_with_its_app_level_token(socket_app: SocketApp) -> None:
    (call,) = socket_app.slack.calls_to("apps.connections.open")

    assert call.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    assert call.answer is not None and call.answer["ok"] is True


async def test_slash_command_is_acked_over_the_socket_and_answered_privately_with_the_summary(
    socket_app: SocketApp, caplog: pytest.LogCaptureFixture
) -> None:
    slack = socket_app.slack
    url = slack.new_response_url()
    caplog.set_level(logging.INFO, logger="bot.requests")

    envelope_id = await slack.send_envelope("slash_commands", command_payload(samples.DOCUMENTED_ID, url))

    assert await slack.wait_for_socket_ack(envelope_id) == {"envelope_id": envelope_id}
    (response,) = await slack.wait_for_responses(1, url=url)
    answer = response.body
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"] == DOCUMENTED.title == "Customer Support Call"
    share = (actions.share_button(samples.DOCUMENTED_ID),)
    assert answer["blocks"] == render_summary(DOCUMENTED, private=True, extra_buttons=share)
    assert answer["text"] == summary_text(DOCUMENTED)
    logged = [record.getMessage() for record in caplog.records if record.name == "bot.requests"]
    assert len([line for line in logged if COMMAND_LINE.fullmatch(line)]) == 1, logged


async def test_link_shared_event_is_acked_over_the_socket_and_unfurled(socket_app: SocketApp) -> None:
    slack = socket_app.slack
    event = link_shared_event([DOCUMENTED_LINK])

    envelope_id = await slack.send_envelope("events_api", event_payload(event))

    assert await slack.wait_for_socket_ack(envelope_id) == {"envelope_id": envelope_id}
    (call,) = await slack.wait_for_calls("chat.unfurl")
    assert call.params["channel"] == DEFAULT_CHANNEL
    assert call.params["ts"] == event["message_ts"]
    assert call.params["unfurls"] == {DOCUMENTED_LINK: {"blocks": render_summary(DOCUMENTED, show_caller_number=False)}}
    assert call.answer == {"ok": True}


async def test_logs_button_on_a_private_answer_is_acked_over_the_socket_and_replaces_it(socket_app: SocketApp) -> None:
    slack = socket_app.slack
    url = slack.new_response_url()
    value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))
    payload = interaction_payload(actions.SHOW_LOGS, value, response_url=url, is_ephemeral=True)

    envelope_id = await slack.send_envelope("interactive", payload)

    assert await slack.wait_for_socket_ack(envelope_id) == {"envelope_id": envelope_id}
    (response,) = await slack.wait_for_responses(1, url=url)
    page = render_logs_page(DOCUMENTED, 1, private=True)
    assert response.body["replace_original"] is True
    assert response.body["blocks"] == page.blocks
    assert response.body["text"] == page.text


async def test_stopping_finishes_work_in_flight_then_closes_the_socket(no_proxy: None) -> None:
    hamsa = GatedHamsa(api_key=HAMSA_KEY)
    app = await start_serving(hamsa)
    try:
        await app.slack.wait_for_socket_connection()
        url = app.slack.new_response_url()
        envelope_id = await app.slack.send_envelope("slash_commands", command_payload(samples.DOCUMENTED_ID, url))
        await app.slack.wait_for_socket_ack(envelope_id)
        async with asyncio.timeout(5):
            await hamsa.arrived.wait()

        app.stop.set()
        await app.slack.wait_for_socket_connection(connected=False)
        hamsa.release.set()  # only now, while the stopping app drains its work
        await app.stopped()

        (response,) = app.slack.responses_to(url)
        assert response.body["blocks"][0]["text"]["text"] == DOCUMENTED.title
    finally:
        hamsa.release.set()
        await app.aclose()


async def test_a_stop_is_not_held_up_while_slack_refuses_the_app_token(no_proxy: None) -> None:
    # The Socket Mode client retries a refused connection every 10 seconds, forever.
    app = await start_serving(FakeHamsa(api_key=HAMSA_KEY), app_token="xapp-1-A0HAMSA-revoked-token")
    try:
        (call,) = await app.slack.wait_for_calls("apps.connections.open")
        assert call.answer == {"ok": False, "error": "invalid_auth"}

        await app.stopped()
    finally:
        await app.aclose()


async def test_a_bot_token_slack_refuses_stops_the_app(no_proxy: None) -> None:
    app = await start_serving(FakeHamsa(api_key=HAMSA_KEY), bot_token="xoxb-not-the-right-token-4711")
    try:
        with pytest.raises(TokenRefused) as refused:
            async with asyncio.timeout(5):
                await app.task
        assert refused.value.code == "invalid_auth"
        await app.slack.wait_for_socket_connection(connected=False)
    finally:
        await app.slack.stop()
        await app.hamsa.stop()
