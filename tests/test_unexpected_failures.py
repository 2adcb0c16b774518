"""A bug after the ack is never silent: the person is told, with a reference code the log also has."""

from __future__ import annotations

import logging
import re
from typing import Any, NoReturn

import pytest

from bot import actions, messages
from bot.sandbox import samples
from bot.sandbox.slack_requests import BOT_USER_ID, app_mention_event, link_shared_event, new_ts
from bot.sandbox.stack import Stack

REFERENCE = re.compile(r"\(ref `(H-[0-9A-F]{6})`\)$")
LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"


def broken_renderer(*args: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError("a renderer bug")


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The renderers of the running app raise; returns the captured log."""
    monkeypatch.setattr("bot.services.render_summary", broken_renderer)
    monkeypatch.setattr("bot.services.render_logs_page", broken_renderer)
    caplog.set_level(logging.INFO, logger="bot")
    return caplog


def tracebacks(caplog: pytest.LogCaptureFixture, ref: str = "") -> list[str]:
    """The tracebacks logged (under ``ref``, when given); the secret filter may have formatted them."""
    return [
        record.exc_text or logging.Formatter().formatException(record.exc_info)
        for record in caplog.records
        if (record.exc_info or record.exc_text) and f"ref={ref}" in record.getMessage()
    ]


def assert_told_and_logged(text: str, caplog: pytest.LogCaptureFixture) -> None:
    """The words are the "unexpected" notice with a reference code; the log has the traceback under it."""
    assert text.startswith(messages.UNEXPECTED)
    found = REFERENCE.search(text)
    assert found, text
    (traceback,) = tracebacks(caplog, found.group(1))
    assert "RuntimeError: a renderer bug" in traceback


async def test_a_failing_command_tells_the_person(stack: Stack, broken: pytest.LogCaptureFixture) -> None:
    url = stack.slack.new_response_url()

    ack = await stack.sender.command(samples.DOCUMENTED_ID, url)

    assert ack.status_code == 200
    (reply,) = await stack.slack.wait_for_responses(1, url=url)
    assert reply.body["response_type"] == "ephemeral"
    assert_told_and_logged(reply.body["text"], broken)


async def test_a_failing_button_tells_the_person(stack: Stack, broken: pytest.LogCaptureFixture) -> None:
    url = stack.slack.new_response_url()
    value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))

    await stack.sender.action(actions.SHOW_LOGS, value, response_url=url, message_ts=new_ts())

    (reply,) = await stack.slack.wait_for_responses(1, url=url)
    assert reply.body["response_type"] == "ephemeral"
    assert reply.body["replace_original"] is False  # the message with the button stays
    assert_told_and_logged(reply.body["text"], broken)


async def test_a_failing_shortcut_tells_the_person(stack: Stack, broken: pytest.LogCaptureFixture) -> None:
    url = stack.slack.new_response_url()

    await stack.sender.shortcut(actions.PREVIEW_SHORTCUT, {"text": f"<{LINK}>"}, response_url=url)

    (reply,) = await stack.slack.wait_for_responses(1, url=url)
    assert_told_and_logged(reply.body["text"], broken)


async def test_a_failing_mention_answers_in_its_thread(stack: Stack, broken: pytest.LogCaptureFixture) -> None:
    root = new_ts()

    await stack.sender.event(app_mention_event(f"<@{BOT_USER_ID}> {samples.DOCUMENTED_ID}", thread_ts=root))

    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert post.params["thread_ts"] == root
    assert_told_and_logged(post.params["text"], broken)


async def test_a_failing_unfurl_is_only_logged(stack: Stack, broken: pytest.LogCaptureFixture) -> None:
    await stack.sender.event(link_shared_event([LINK]))
    await stack.services.background.drain(5)

    # An unfurl has nobody to tell: the link stays plain, and the log has the traceback.
    assert stack.slack.calls_to("chat.unfurl") == stack.slack.calls_to("chat.postMessage") == []
    assert stack.slack.responses == []
    (traceback,) = tracebacks(broken)
    assert "RuntimeError: a renderer bug" in traceback


async def test_after_a_failed_logs_click_the_next_click_posts_the_logs(
    stack: Stack, broken: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    message_ts, value = new_ts(), actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))
    first = stack.slack.new_response_url()
    await stack.sender.action(actions.SHOW_LOGS, value, response_url=first, message_ts=message_ts)
    await stack.slack.wait_for_responses(1, url=first)

    monkeypatch.undo()  # the bug is fixed; nothing was posted, so the logs are not "already in the thread"
    second = stack.slack.new_response_url()
    await stack.sender.action(actions.SHOW_LOGS, value, response_url=second, message_ts=message_ts)

    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert post.params["thread_ts"] == message_ts
