"""Link unfurls: one ``chat.unfurl`` per ``link_shared`` event, end to end over HTTP."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from bot.hamsa.models import Conversation
from bot.render.summary import render_condensed, render_summary
from bot.sandbox import samples
from bot.sandbox.slack_requests import DEFAULT_CHANNEL, link_shared_event, new_ts
from bot.sandbox.stack import Stack, start_stack

DASHBOARD = "https://dashboard.tryhamsa.com"
DOCUMENTED_LINK = f"{DASHBOARD}/conversations/{samples.DOCUMENTED_ID}"
FAILED_LINK = f"{DASHBOARD}/call-history?conversationId={samples.FAILED_ID}"
MISSING_ID = str(uuid.UUID(int=404))


def conversation(conversation_id: str) -> Conversation:
    return Conversation.model_validate(samples.SAMPLES[conversation_id])


async def settle(stack: Stack) -> None:
    """Wait until the app finished all the work the requests so far started."""
    await stack.services.background.drain(5)


async def test_a_link_unfurls_with_the_full_summary_keyed_by_the_exact_url(stack: Stack) -> None:
    url = f"{DOCUMENTED_LINK}?tab=overview#top"
    event = link_shared_event([url])

    ack = await stack.sender.event(event)

    assert ack.status_code == 200
    (call,) = await stack.slack.wait_for_calls("chat.unfurl")
    assert call.params["channel"] == DEFAULT_CHANNEL
    assert call.params["ts"] == event["message_ts"]
    assert "unfurl_id" not in call.params
    assert call.params["unfurls"] == {
        url: {"blocks": render_summary(conversation(samples.DOCUMENTED_ID), show_caller_number=False)}
    }
    assert call.answer == {"ok": True}


async def test_composer_links_are_answered_by_unfurl_id_and_source() -> None:
    """Where every channel shows the same (see test_channel_policy.py for the others)."""
    event = link_shared_event([DOCUMENTED_LINK], source="composer")

    async with await start_stack(shared_channels="full") as stack:
        await stack.sender.event(event)
        (call,) = await stack.slack.wait_for_calls("chat.unfurl")
    assert call.params["unfurl_id"] == event["unfurl_id"]
    assert call.params["source"] == "composer"
    assert "channel" not in call.params
    assert "ts" not in call.params
    assert set(call.params["unfurls"]) == {DOCUMENTED_LINK}


async def test_several_links_make_one_unfurl_with_condensed_previews_fetching_each_id_once(stack: Stack) -> None:
    same_conversation_again = f"{DASHBOARD}/call-history?conversationId={samples.DOCUMENTED_ID}"
    urls = [DOCUMENTED_LINK, FAILED_LINK, same_conversation_again]

    await stack.sender.event(link_shared_event(urls))
    await stack.slack.wait_for_calls("chat.unfurl")
    await settle(stack)

    (call,) = stack.slack.calls_to("chat.unfurl")
    documented = render_condensed(conversation(samples.DOCUMENTED_ID))
    assert call.params["unfurls"] == {
        DOCUMENTED_LINK: {"blocks": documented},
        FAILED_LINK: {"blocks": render_condensed(conversation(samples.FAILED_ID))},
        same_conversation_again: {"blocks": documented},
    }
    assert stack.hamsa.count(samples.DOCUMENTED_ID) == 1
    assert stack.hamsa.count(samples.FAILED_ID) == 1


async def test_two_links_to_one_conversation_are_one_request_and_full_summaries(stack: Stack) -> None:
    other_form = f"{DASHBOARD}/call-history?conversationId={samples.DOCUMENTED_ID}"

    await stack.sender.event(link_shared_event([DOCUMENTED_LINK, other_form]))

    (call,) = await stack.slack.wait_for_calls("chat.unfurl")
    full = render_summary(conversation(samples.DOCUMENTED_ID), show_caller_number=False)
    assert call.params["unfurls"] == {DOCUMENTED_LINK: {"blocks": full}, other_form: {"blocks": full}}
    assert stack.hamsa.count() == 1


async def test_links_in_thread_replies_unfurl_like_any_other(stack: Stack) -> None:
    root = new_ts()
    event = link_shared_event([DOCUMENTED_LINK], thread_ts=root)

    await stack.sender.event(event)

    (call,) = await stack.slack.wait_for_calls("chat.unfurl")
    assert call.params["channel"] == DEFAULT_CHANNEL
    assert call.params["ts"] == event["message_ts"]
    assert set(call.params["unfurls"]) == {DOCUMENTED_LINK}


async def test_missing_conversations_are_skipped_quietly_and_logged(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    missing_link = f"{DASHBOARD}/conversations/{MISSING_ID}"

    await stack.sender.event(link_shared_event([missing_link]))
    await settle(stack)

    assert stack.hamsa.count(MISSING_ID) == 1
    assert stack.slack.calls_to("chat.unfurl") == []
    assert stack.slack.calls_to("chat.postMessage") == []
    assert [r for r in caplog.records if r.name == "bot.lookup" and "error=ConversationNotFound" in r.getMessage()]


async def test_a_missing_conversation_among_others_is_left_out_of_the_unfurl(stack: Stack) -> None:
    missing_link = f"{DASHBOARD}/conversations/{MISSING_ID}"

    await stack.sender.event(link_shared_event([missing_link, FAILED_LINK]))
    await stack.slack.wait_for_calls("chat.unfurl")

    (call,) = stack.slack.calls_to("chat.unfurl")
    assert call.params["unfurls"] == {FAILED_LINK: {"blocks": render_condensed(conversation(samples.FAILED_ID))}}


async def test_links_elsewhere_or_without_a_conversation_are_ignored(stack: Stack) -> None:
    urls = [
        f"https://example.com/conversations/{samples.DOCUMENTED_ID}",
        f"https://dashboard.tryhamsa.com.evil.example/conversations/{samples.DOCUMENTED_ID}",
        f"http://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}",
        f"{DASHBOARD}/conversations/not-a-uuid",
    ]
    for url in urls:
        await stack.sender.event(link_shared_event([url]))
    await stack.sender.event(link_shared_event(urls))
    await settle(stack)

    assert stack.hamsa.count() == 0
    assert stack.slack.calls_to("chat.unfurl") == []


async def test_an_event_slack_delivers_again_is_not_unfurled_twice(stack: Stack) -> None:
    event = link_shared_event([DOCUMENTED_LINK])
    await stack.sender.event(event, event_id="Ev0RETRIED01")
    await stack.slack.wait_for_calls("chat.unfurl")

    retry = await stack.sender.event(event, event_id="Ev0RETRIED01", retry_num=1)
    assert retry.status_code == 200
    # A different event afterwards: once it is unfurled, the retry has long been handled.
    await stack.sender.event(link_shared_event([FAILED_LINK]), event_id="Ev0FOLLOWUP1")
    await stack.slack.wait_for_calls("chat.unfurl", 2)
    await settle(stack)

    first, second = stack.slack.calls_to("chat.unfurl")
    assert set(first.params["unfurls"]) == {DOCUMENTED_LINK}
    assert set(second.params["unfurls"]) == {FAILED_LINK}
    assert stack.hamsa.count(samples.DOCUMENTED_ID) == 1


async def test_caller_numbers_are_masked_in_unfurls(stack: Stack) -> None:
    await stack.sender.event(link_shared_event([f"{DASHBOARD}/conversations/{samples.FAILED_ID}"]))

    (call,) = await stack.slack.wait_for_calls("chat.unfurl")
    sent = json.dumps(call.params, ensure_ascii=False)
    assert "•••• 4567" in sent
    assert "501234567" not in sent


async def test_full_caller_numbers_only_when_configured() -> None:
    async with await start_stack(show_full_caller_number=True) as stack:
        await stack.sender.event(link_shared_event([DOCUMENTED_LINK]))

        (call,) = await stack.slack.wait_for_calls("chat.unfurl")
        assert "+1234567890" in json.dumps(call.params)


async def test_other_link_domains_can_be_configured() -> None:
    link = f"https://calls.example.org/conversations/{samples.DOCUMENTED_ID}"
    async with await start_stack(hamsa_link_domains=("calls.example.org",)) as stack:
        await stack.sender.event(link_shared_event([link, DOCUMENTED_LINK]))

        (call,) = await stack.slack.wait_for_calls("chat.unfurl")
        assert set(call.params["unfurls"]) == {link}
