"""Slack misbehaving: rate limits and 5xx are retried until delivered, refusals are logged once, with the reference."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import pytest

from bot.hamsa.models import Conversation
from bot.render.summary import summary_text
from bot.sandbox import samples
from bot.sandbox.fake_slack import SlackFault
from bot.sandbox.slack_requests import BOT_USER_ID, app_mention_event, link_shared_event
from bot.sandbox.stack import Stack

DOCUMENTED_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"
EXPECTED_SUMMARY = summary_text(Conversation.model_validate(samples.documented_example()))
# slack_sdk's first attempt plus three retries (bot.delivery.MAX_RETRIES).
MAX_CALLS = 4


async def share_link(stack: Stack) -> None:
    assert (await stack.sender.event(link_shared_event([DOCUMENTED_LINK]))).status_code == 200


async def mention_in_thread(stack: Stack) -> None:
    event = app_mention_event(f"<@{BOT_USER_ID}> {samples.DOCUMENTED_ID}")
    assert (await stack.sender.event(event)).status_code == 200


# Each Web API method the app calls, and a request that makes the app call it.
DELIVERIES = [
    pytest.param("chat.unfurl", share_link, id="chat.unfurl"),
    pytest.param("chat.postMessage", mention_in_thread, id="chat.postMessage"),
]
Trigger = Callable[[Stack], Awaitable[None]]


def request_ref(caplog: pytest.LogCaptureFixture) -> str:
    """The reference code of the one Slack request the app handled in this test."""
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.requests"]
    match = re.search(r"ref=(H-[0-9A-F]{6})", line)
    assert match, line
    return match.group(1)


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r for r in caplog.records if r.exc_info] == []
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(("method", "trigger"), DELIVERIES)
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(SlackFault.rate_limited(retry_after=0), id="429-retry-after"),
        pytest.param(SlackFault.server_error(500), id="500"),
        pytest.param(SlackFault.server_error(503), id="503"),
    ],
)
async def test_slack_rate_limit_or_server_error_is_retried_then_delivered(
    stack: Stack, caplog: pytest.LogCaptureFixture, method: str, trigger: Trigger, fault: SlackFault
) -> None:
    caplog.set_level(logging.INFO)
    stack.slack.inject(method, fault)

    await trigger(stack)
    first, second = await stack.slack.wait_for_calls(method, 2)
    await stack.services.background.drain(5)

    assert first.answer == fault.body
    assert second.answer is not None and second.answer["ok"] is True
    assert second.params == first.params  # the same message, sent again
    assert len(stack.slack.calls_to(method)) == 2
    assert [r for r in caplog.records if "failed" in r.getMessage()] == []
    assert_no_traceback(caplog)


@pytest.mark.parametrize(("method", "trigger"), DELIVERIES)
async def test_an_hour_long_retry_after_from_slack_is_capped_and_the_message_still_delivered(
    stack: Stack, method: str, trigger: Trigger
) -> None:
    stack.slack.inject(method, SlackFault.rate_limited(retry_after=3600))

    await trigger(stack)
    first, second = await stack.slack.wait_for_calls(method, 2, timeout=5)

    assert first.answer == SlackFault.rate_limited().body
    assert second.answer is not None and second.answer["ok"] is True
    assert second.at - first.at < stack.settings.slack_retry_after_cap + 1


@pytest.mark.parametrize(("method", "trigger"), DELIVERIES)
async def test_slack_rate_limiting_without_end_is_given_up_after_a_bounded_number_of_calls(
    stack: Stack, caplog: pytest.LogCaptureFixture, method: str, trigger: Trigger
) -> None:
    caplog.set_level(logging.INFO)
    stack.slack.inject(method, SlackFault.rate_limited(retry_after=0), times=-1)

    await trigger(stack)
    await stack.services.background.drain(5)

    assert len(stack.slack.calls_to(method)) == MAX_CALLS
    ref = request_ref(caplog)
    failures = [r for r in caplog.records if r.getMessage().startswith(f"slack {method} failed")]
    assert [r.getMessage() for r in failures] == [f"slack {method} failed ref={ref} error=ratelimited"]
    assert_no_traceback(caplog)


@pytest.mark.parametrize(
    ("method", "trigger", "error"),
    [
        pytest.param("chat.unfurl", share_link, "invalid_blocks", id="unfurl-invalid_blocks"),
        pytest.param("chat.unfurl", share_link, "cannot_unfurl_url", id="unfurl-cannot_unfurl_url"),
        pytest.param("chat.unfurl", share_link, "cannot_find_message", id="unfurl-cannot_find_message"),
        pytest.param("chat.postMessage", mention_in_thread, "invalid_blocks", id="post-invalid_blocks"),
        pytest.param("chat.postMessage", mention_in_thread, "msg_too_long", id="post-msg_too_long"),
    ],
)
async def test_slack_refusal_is_logged_with_the_reference_and_not_retried(
    stack: Stack, caplog: pytest.LogCaptureFixture, method: str, trigger: Trigger, error: str
) -> None:
    caplog.set_level(logging.INFO)
    stack.slack.inject(method, SlackFault.error(error), times=-1)

    await trigger(stack)
    await stack.services.background.drain(5)

    assert len(stack.slack.calls_to(method)) == 1
    ref = request_ref(caplog)
    failures = [r for r in caplog.records if r.getMessage().startswith(f"slack {method} failed")]
    assert [(r.levelno, r.getMessage()) for r in failures] == [
        (logging.WARNING, f"slack {method} failed ref={ref} error={error}")
    ]
    assert_no_traceback(caplog)


async def test_expired_response_url_is_logged_and_the_app_keeps_answering(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    expired = stack.slack.new_response_url()
    stack.slack.expire(expired)

    assert (await stack.sender.command(samples.DOCUMENTED_ID, expired)).status_code == 200
    await stack.services.background.drain(5)

    assert stack.slack.responses == []
    assert stack.slack.rejected_responses == [(expired, "expired_url")]
    ref = request_ref(caplog)
    refused = [r for r in caplog.records if r.getMessage().startswith("slack respond refused")]
    assert len(refused) == 1 and refused[0].levelno == logging.WARNING
    assert f"ref={ref}" in refused[0].getMessage() and "expired_url" in refused[0].getMessage()
    assert_no_traceback(caplog)

    fresh = stack.slack.new_response_url()
    await stack.sender.command(samples.DOCUMENTED_ID, fresh)
    (reply,) = await stack.slack.wait_for_responses(1, url=fresh)
    assert reply.body["text"] == EXPECTED_SUMMARY
