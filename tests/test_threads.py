"""Threads: ``@Hamsa <id or link>`` answers in its thread; the message shortcut previews privately."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from bot import actions, messages
from bot.models import Conversation
from bot.render.summary import render_condensed, render_summary
from bot.sandbox import samples
from bot.sandbox.slack_requests import BOT_USER_ID, DEFAULT_CHANNEL, DEFAULT_USER, app_mention_event, new_ts
from bot.sandbox.stack import Stack

LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"
MENTION = f"<@{BOT_USER_ID}>"
REFERENCE = re.compile(r"H-[0-9A-F]{6}")


def conversation(conversation_id: str) -> Conversation:
    return Conversation.model_validate(samples.SAMPLES[conversation_id])


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [block["text"]["text"] for block in blocks if block["type"] == "section" and "text" in block]


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    (found,) = [
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    ]
    return found


async def mention(stack: Stack, text: str, **where: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Mention the app; return the event and the message the app posted."""
    event = app_mention_event(text, **where)
    ack = await stack.sender.event(event)
    assert ack.status_code == 200
    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    return event, post.params


async def test_a_mention_in_a_thread_answers_in_that_thread(stack: Stack) -> None:
    root = new_ts()

    _, posted = await mention(stack, f"{MENTION} what happened on {samples.DOCUMENTED_ID}?", thread_ts=root)

    assert posted["channel"] == DEFAULT_CHANNEL
    assert posted["thread_ts"] == root
    assert posted["blocks"] == render_summary(conversation(samples.DOCUMENTED_ID), show_caller_number=False)
    assert "1234567890" not in json.dumps(posted)


async def test_a_top_level_mention_starts_a_thread_under_itself(stack: Stack) -> None:
    event, posted = await mention(stack, f"{MENTION} {samples.FAILED_ID}")

    assert posted["thread_ts"] == event["ts"]
    assert posted["blocks"] == render_summary(conversation(samples.FAILED_ID), show_caller_number=False)


async def test_a_mention_with_a_link(stack: Stack) -> None:
    expected = render_summary(conversation(samples.DOCUMENTED_ID), show_caller_number=False)
    for n, link in enumerate((f"<{LINK}>", f"<{LINK}|the call>", LINK), start=1):
        root = new_ts()
        await stack.sender.event(app_mention_event(f"{MENTION} can you look at {link}", thread_ts=root))

        posted = (await stack.slack.wait_for_calls("chat.postMessage", n))[-1].params
        assert posted["thread_ts"] == root, link
        assert posted["blocks"] == expected


async def test_a_mention_of_several_conversations_answers_with_condensed_previews(stack: Stack) -> None:
    _, posted = await mention(stack, f"{MENTION} {samples.DOCUMENTED_ID} and {samples.FAILED_ID}")

    assert posted["blocks"] == [
        *render_condensed(conversation(samples.DOCUMENTED_ID)),
        *render_condensed(conversation(samples.FAILED_ID)),
    ]


async def test_a_mention_without_a_reference_shows_usage_in_the_thread(stack: Stack) -> None:
    root = new_ts()

    _, posted = await mention(stack, f"{MENTION} hello, can you help?", thread_ts=root)

    assert posted["thread_ts"] == root
    assert posted["text"] == messages.NO_REFERENCE_IN_MESSAGE
    assert section_texts(posted["blocks"]) == [messages.NO_REFERENCE_IN_MESSAGE, messages.USAGE]
    assert stack.hamsa.count() == 0


async def test_a_mention_of_a_missing_conversation_says_not_found_in_the_thread(stack: Stack) -> None:
    root = new_ts()

    _, posted = await mention(stack, f"{MENTION} {uuid.UUID(int=3)}", thread_ts=root)

    assert posted["thread_ts"] == root
    assert posted["text"].startswith(messages.NOT_FOUND)
    assert REFERENCE.search(posted["text"])


async def test_a_mention_slack_delivers_again_is_answered_once(stack: Stack) -> None:
    event = app_mention_event(f"{MENTION} {samples.DOCUMENTED_ID}")
    await stack.sender.event(event, event_id="Ev0MENTION01")
    await stack.slack.wait_for_calls("chat.postMessage")

    await stack.sender.event(event, event_id="Ev0MENTION01", retry_num=1)
    await stack.services.background.drain(5)

    assert len(stack.slack.calls_to("chat.postMessage")) == 1


async def shortcut(stack: Stack, message: dict[str, Any]) -> dict[str, Any]:
    """Run "Preview Hamsa conversation" on ``message``; return the private answer."""
    url = stack.slack.new_response_url()
    ack = await stack.sender.shortcut(actions.PREVIEW_SHORTCUT, message, response_url=url)
    assert ack.status_code == 200
    (response,) = await stack.slack.wait_for_responses(1, url=url)
    return response.body


async def test_the_shortcut_previews_privately_and_posts_into_the_thread_on_request(stack: Stack) -> None:
    ts = new_ts()

    preview = await shortcut(stack, {"ts": ts, "user": "U0BOB", "text": f"customer is upset, see <{LINK}>"})

    assert preview["response_type"] == "ephemeral"
    post_in_thread = button(preview["blocks"], actions.POST_IN_THREAD)
    assert post_in_thread["text"]["text"] == "Post in thread"
    assert actions.decode(post_in_thread["value"]) == actions.ButtonValue(samples.DOCUMENTED_ID, thread_ts=ts)
    assert stack.slack.calls_to("chat.postMessage") == []

    url = stack.slack.new_response_url()
    await stack.sender.action(actions.POST_IN_THREAD, post_in_thread["value"], response_url=url, is_ephemeral=True)

    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert post.params["channel"] == DEFAULT_CHANNEL
    assert post.params["thread_ts"] == ts
    shared = json.dumps(post.params["blocks"], ensure_ascii=False)
    assert f"Shared by <@{DEFAULT_USER}>" in shared
    assert "1234567890" not in json.dumps(post.params, ensure_ascii=False)
    (deleted,) = await stack.slack.wait_for_responses(1, url=url)
    assert deleted.body == {"delete_original": True}


async def test_the_shortcut_on_a_reply_posts_under_the_root_of_the_thread(stack: Stack) -> None:
    root, reply = new_ts(), new_ts()

    preview = await shortcut(stack, {"ts": reply, "thread_ts": root, "text": samples.FAILED_ID})

    value = actions.decode(button(preview["blocks"], actions.POST_IN_THREAD)["value"])
    assert value == actions.ButtonValue(samples.FAILED_ID, thread_ts=root)


async def test_post_in_thread_where_the_bot_is_not_a_member_uses_the_response_url(stack: Stack) -> None:
    stack.slack.non_member_channels.add("C0PRIVATE")
    ts = new_ts()
    url = stack.slack.new_response_url()
    value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID, thread_ts=ts))

    await stack.sender.action(
        actions.POST_IN_THREAD, value, response_url=url, is_ephemeral=True, channel_id="C0PRIVATE"
    )

    shared, deleted = await stack.slack.wait_for_responses(2, url=url)
    assert shared.body["response_type"] == "in_channel"
    assert shared.body["thread_ts"] == ts
    assert deleted.body == {"delete_original": True}


async def test_the_shortcut_on_a_message_without_a_reference_says_so(stack: Stack) -> None:
    preview = await shortcut(stack, {"text": "the call from this morning went badly"})

    assert preview["text"] == messages.NO_REFERENCE_IN_MESSAGE
    assert section_texts(preview["blocks"])[0] == messages.NO_REFERENCE_IN_MESSAGE
    assert stack.hamsa.count() == 0


async def test_the_shortcut_ignores_ids_inside_links_to_other_sites(stack: Stack) -> None:
    preview = await shortcut(stack, {"text": f"<https://example.com/x/{samples.DOCUMENTED_ID}>"})

    assert preview["text"] == messages.NO_REFERENCE_IN_MESSAGE
