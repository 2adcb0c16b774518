"""Threads: ``@Hamsa <id or link>`` answers in its thread; the message shortcut previews privately."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from bot import actions, messages
from bot.hamsa.models import Conversation
from bot.render.summary import render_condensed, render_summary, summary_text
from bot.sandbox import samples
from bot.sandbox.slack_requests import (
    BOT_USER_ID,
    DEFAULT_CHANNEL,
    DEFAULT_USER,
    app_mention_event,
    link_shared_event,
    new_ts,
)
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


async def mention_with_its_unfurl(stack: Stack, text: str, *, thread_ts: str | None = None) -> dict[str, Any]:
    """Post a message mentioning the app: Slack sends ``link_shared`` for its links and ``app_mention``.

    Returns the mention event, once the app has done all the work both started.
    """
    event = app_mention_event(text, thread_ts=thread_ts)
    links = [m.group(1) for m in re.finditer(r"<(https://[^|>]+)(?:\|[^>]*)?>", text)]
    if links:
        await stack.sender.event(link_shared_event(links, message_ts=event["ts"], thread_ts=thread_ts))
    await stack.sender.event(event)
    await stack.services.background.drain(5)
    return event


async def test_a_mention_with_a_link_leaves_the_summary_to_the_unfurl(stack: Stack) -> None:
    root = new_ts()

    event = await mention_with_its_unfurl(stack, f"{MENTION} can you look at <{LINK}|the call>?", thread_ts=root)

    (unfurl,) = stack.slack.calls_to("chat.unfurl")
    assert unfurl.params["ts"] == event["ts"]
    assert unfurl.params["unfurls"][LINK]["blocks"][0]["type"] == "header"
    assert stack.slack.calls_to("chat.postMessage") == []  # one conversation, one full summary
    assert stack.hamsa.count() == 1


async def test_a_mention_with_a_link_and_a_bare_id_answers_the_bare_id(stack: Stack) -> None:
    root = new_ts()

    await mention_with_its_unfurl(stack, f"{MENTION} <{LINK}> and {samples.FAILED_ID}", thread_ts=root)

    (unfurl,) = stack.slack.calls_to("chat.unfurl")
    assert set(unfurl.params["unfurls"]) == {LINK}
    (post,) = stack.slack.calls_to("chat.postMessage")
    assert post.params["thread_ts"] == root
    assert post.params["blocks"] == render_summary(conversation(samples.FAILED_ID), show_caller_number=False)


async def test_a_bare_id_that_the_message_also_links_is_left_to_the_unfurl(stack: Stack) -> None:
    await mention_with_its_unfurl(stack, f"{MENTION} {samples.DOCUMENTED_ID} <{LINK}>")

    assert len(stack.slack.calls_to("chat.unfurl")) == 1
    assert stack.slack.calls_to("chat.postMessage") == []


async def test_a_mention_with_a_link_to_a_missing_conversation_says_not_found(stack: Stack) -> None:
    missing = f"https://dashboard.tryhamsa.com/conversations/{uuid.UUID(int=7)}"
    root = new_ts()

    await mention_with_its_unfurl(stack, f"{MENTION} <{missing}>", thread_ts=root)

    assert stack.slack.calls_to("chat.unfurl") == []  # nothing to show: the link stays plain
    (post,) = stack.slack.calls_to("chat.postMessage")
    assert post.params["thread_ts"] == root
    assert post.params["text"].startswith(messages.NOT_FOUND)
    assert REFERENCE.search(post.params["text"])


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


async def test_an_edited_mention_is_not_answered_again(stack: Stack) -> None:
    root = new_ts()
    event, _ = await mention(stack, f"{MENTION} {samples.DOCUMENTED_ID}", thread_ts=root)

    for n, text in enumerate((f"{MENTION} {samples.DOCUMENTED_ID} (typo fixed)", f"{MENTION} {samples.FAILED_ID}")):
        edit = app_mention_event(text, ts=event["ts"], thread_ts=root, edited=True)
        ack = await stack.sender.event(edit, event_id=f"Ev0EDITED{n}")
        assert ack.status_code == 200
    await stack.services.background.drain(5)

    assert len(stack.slack.calls_to("chat.postMessage")) == 1


async def test_a_mention_added_by_an_edit_is_answered(stack: Stack) -> None:
    root = new_ts()  # the message did not mention the app until it was edited

    edit = app_mention_event(f"{MENTION} {samples.FAILED_ID}", ts=new_ts(), thread_ts=root, edited=True)
    await stack.sender.event(edit)

    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert post.params["thread_ts"] == root


async def test_an_edit_of_a_message_older_than_the_app_remembers_is_not_answered(stack: Stack) -> None:
    two_days_ago = f"{int(time.time()) - 2 * 24 * 3600}.000100"

    edit = app_mention_event(f"{MENTION} {samples.FAILED_ID}", ts=two_days_ago, edited=True)
    await stack.sender.event(edit)
    await stack.services.background.drain(5)

    assert stack.slack.calls_to("chat.postMessage") == []


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


async def test_the_shortcut_on_the_apps_own_summary_finds_the_conversation_in_its_blocks(stack: Stack) -> None:
    failed = conversation(samples.FAILED_ID)
    summary = {  # as Slack stores the app's message: the ID is in the blocks, the text is only the fallback
        "user": BOT_USER_ID,
        "bot_id": "B0HAMSABOT",
        "text": summary_text(failed),
        "blocks": render_summary(failed),
    }

    preview = await shortcut(stack, summary)

    assert preview["blocks"][0]["text"]["text"] == render_summary(failed)[0]["text"]["text"]
    assert stack.hamsa.count(samples.FAILED_ID) == 1


async def test_the_shortcut_finds_a_link_held_only_in_rich_text_blocks(stack: Stack) -> None:
    rich_text = {
        "type": "rich_text",
        "block_id": "x1",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "escalated: "},
                    {"type": "link", "url": LINK, "text": "the call"},
                ],
            }
        ],
    }

    preview = await shortcut(stack, {"text": "New escalation", "blocks": [rich_text]})

    assert preview["response_type"] == "ephemeral"
    assert stack.hamsa.count(samples.DOCUMENTED_ID) == 1


async def test_the_shortcut_finds_a_link_in_an_attachment(stack: Stack) -> None:
    failed_link = f"https://dashboard.tryhamsa.com/call-history?conversationId={samples.FAILED_ID}"
    attachments = [
        [{"id": 1, "from_url": failed_link, "original_url": failed_link, "fallback": "Hamsa", "title": "Call"}],
        [{"id": 1, "app_unfurl_url": failed_link, "is_app_unfurl": True, "blocks": [], "fallback": "[no preview]"}],
        [{"id": 1, "fallback": "forwarded", "text": f"from the on-call bot: <{failed_link}|the call>"}],
    ]
    for n, attachment in enumerate(attachments, start=1):
        preview = await shortcut(stack, {"text": "", "attachments": attachment})

        assert preview["response_type"] == "ephemeral", attachment
        assert stack.hamsa.count(samples.FAILED_ID) == 1  # then cached
        assert len(stack.slack.responses) == n


async def test_the_shortcut_on_an_unfurled_message_previews_the_unfurled_conversation(stack: Stack) -> None:
    documented = conversation(samples.DOCUMENTED_ID)
    unfurl = {"id": 1, "app_unfurl_url": LINK, "is_app_unfurl": True, "blocks": render_summary(documented)}

    preview = await shortcut(stack, {"text": "see this, <@U0CAROL>", "attachments": [unfurl]})

    value = actions.decode(button(preview["blocks"], actions.SHOW_LOGS)["value"])
    assert value is not None and value.conversation_id == samples.DOCUMENTED_ID
