"""Slack delivers some things twice: a retried event unfurls once, and a double click posts the logs once."""

from __future__ import annotations

import asyncio

import pytest

from bot import actions
from bot.actions import ButtonValue
from bot.hamsa.models import Conversation
from bot.messages import LOGS_ALREADY_POSTED
from bot.render.logs import render_logs_page
from bot.sandbox import samples
from bot.sandbox.slack_requests import BOT_USER_ID, app_mention_event, link_shared_event, new_ts
from bot.sandbox.stack import Stack

DOCUMENTED_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"


@pytest.mark.parametrize("concurrently", [False, True], ids=["retried-later", "retried-while-first-runs"])
async def test_event_delivered_again_with_retry_headers_unfurls_once(stack: Stack, concurrently: bool) -> None:
    event = link_shared_event([DOCUMENTED_LINK])
    first = stack.sender.event(event, event_id="Ev0DUPLICATE1")
    retry = stack.sender.event(event, event_id="Ev0DUPLICATE1", retry_num=1)
    if concurrently:
        responses = await asyncio.gather(first, retry)
    else:
        responses = [await first, await retry]
    later_retry = await stack.sender.event(event, event_id="Ev0DUPLICATE1", retry_num=2)

    # Every delivery is acknowledged, or Slack would keep retrying.
    assert [r.status_code for r in [*responses, later_retry]] == [200, 200, 200]
    await stack.services.background.drain(5)
    assert len(stack.slack.calls_to("chat.unfurl")) == 1
    assert stack.hamsa.count() == 1


async def test_same_link_in_a_new_event_is_unfurled_again(stack: Stack) -> None:
    """Only repeated deliveries are dropped: the same link posted in another message unfurls too."""
    await stack.sender.event(link_shared_event([DOCUMENTED_LINK]), event_id="Ev0FIRSTMESSAGE")
    await stack.sender.event(link_shared_event([DOCUMENTED_LINK]), event_id="Ev0SECONDMESSAGE")

    first, second = await stack.slack.wait_for_calls("chat.unfurl", 2)
    assert first.params["ts"] != second.params["ts"]


async def test_mention_delivered_again_answers_once(stack: Stack) -> None:
    event = app_mention_event(f"<@{BOT_USER_ID}> {samples.DOCUMENTED_ID}")
    await stack.sender.event(event, event_id="Ev0MENTIONTWICE")
    await stack.sender.event(event, event_id="Ev0MENTIONTWICE", retry_num=1)

    await stack.services.background.drain(5)
    assert len(stack.slack.calls_to("chat.postMessage")) == 1


async def test_two_fast_clicks_on_the_logs_button_post_the_logs_once(stack: Stack) -> None:
    message_ts = new_ts()
    value = actions.encode(ButtonValue(samples.DOCUMENTED_ID))
    first_url, second_url = stack.slack.new_response_url(), stack.slack.new_response_url()

    clicks = await asyncio.gather(
        stack.sender.action(actions.SHOW_LOGS, value, response_url=first_url, message_ts=message_ts),
        stack.sender.action(actions.SHOW_LOGS, value, response_url=second_url, message_ts=message_ts),
    )

    assert [click.status_code for click in clicks] == [200, 200]
    (notice,) = await stack.slack.wait_for_responses(1)
    await stack.services.background.drain(5)
    (post,) = stack.slack.calls_to("chat.postMessage")
    expected = render_logs_page(Conversation.model_validate(samples.documented_example()), 1)
    assert post.params["thread_ts"] == message_ts and post.params["text"] == expected.text
    assert notice.url in (first_url, second_url)
    assert notice.body["text"] == LOGS_ALREADY_POSTED
    assert notice.body["response_type"] == "ephemeral" and notice.body["replace_original"] is False
    assert len(stack.slack.responses) == 1
