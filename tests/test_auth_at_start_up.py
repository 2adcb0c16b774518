"""The bot token is checked once, at start-up (``auth.test``), never inside a request's 3 seconds.

While Slack cannot be reached, requests are served all the same and ``auth.test`` is asked again in
the background; once Slack answers, Bolt knows who the bot is (and drops the bot's own events).
"""

from __future__ import annotations

import asyncio

import httpx

from bot.app import build_services
from bot.identity import BotIdentity
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.fake_slack import AUTH_TEST, FakeSlack
from bot.sandbox.lifecycle import free_port
from bot.sandbox.slack_requests import BOT_USER_ID, SlackSender, link_shared_event
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY, SIGNING_SECRET, Stack, sandbox_settings
from bot.server import HEALTH_PATH, start_http

DOCUMENTED_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"


async def test_auth_test_is_called_once_at_start_up_not_in_a_request(stack: Stack) -> None:
    (call,) = await stack.slack.wait_for_calls("auth.test")  # before any request
    assert call.answer == AUTH_TEST

    for _ in range(3):
        response_url = stack.slack.new_response_url()
        assert (await stack.sender.command(samples.DOCUMENTED_ID, response_url)).status_code == 200
        await stack.slack.wait_for_responses(1, url=response_url)

    assert len(stack.slack.calls_to("auth.test")) == 1


async def test_requests_are_served_while_slack_is_unreachable_and_auth_test_is_retried_until_it_answers() -> None:
    slack_port = free_port()  # Slack's Web API, down for now
    async with FakeSlack(bot_token=BOT_TOKEN) as replies, FakeHamsa(api_key=HAMSA_KEY) as hamsa:
        # Replies to response_urls do not go through the Web API, so Slack's answering them is no sign it is up.
        settings = sandbox_settings(hamsa, replies, slack_api_url=f"http://127.0.0.1:{slack_port}/api/")
        services = await build_services(settings)
        services.identity = BotIdentity(
            services.delivery.client_for(BOT_TOKEN), BOT_TOKEN, first_retry=0.05, max_retry=0.2
        )
        server = await start_http(settings, services)
        try:
            async with httpx.AsyncClient() as http:
                assert (await http.get(server.url + HEALTH_PATH)).status_code == 200
            async with SlackSender(server.url, SIGNING_SECRET) as sender:
                response_url = replies.new_response_url()
                assert (await sender.command(samples.DOCUMENTED_ID, response_url)).status_code == 200
                (reply,) = await replies.wait_for_responses(1, url=response_url)
                assert reply.body["blocks"][0]["text"]["text"] == samples.documented_example()["title"]
                assert not services.identity.known.is_set()

                async with FakeSlack(bot_token=BOT_TOKEN, port=slack_port) as slack:
                    (call,) = await slack.wait_for_calls("auth.test")
                    assert call.answer == AUTH_TEST
                    async with asyncio.timeout(5):
                        await services.identity.known.wait()

                    # Bolt now knows the bot's user ID: its own events are acknowledged and dropped.
                    own = link_shared_event([DOCUMENTED_LINK], user=BOT_USER_ID)
                    assert (await sender.event(own)).status_code == 200
                    theirs = link_shared_event([DOCUMENTED_LINK])
                    assert (await sender.event(theirs)).status_code == 200
                    await slack.wait_for_calls("chat.unfurl")
                    await services.background.drain(5)

                    (unfurl,) = slack.calls_to("chat.unfurl")
                    assert unfurl.params["ts"] == theirs["message_ts"]
                    assert len(slack.calls_to("auth.test")) == 1
        finally:
            await server.stop()
