"""The logs button: in the thread of the message it sits on, in place for private answers, paged."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from bot import actions, messages
from bot.hamsa.models import Conversation
from bot.render.logs import NEWER, OLDER, PAGE_SIZE, render_logs_page
from bot.sandbox import samples
from bot.sandbox.blockkit import block_kit_problems
from bot.sandbox.slack_requests import DEFAULT_CHANNEL, link_shared_event, new_ts
from bot.sandbox.stack import Stack

DOCUMENTED_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"
SHOW_LOGS = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))


def conversation(data: dict[str, Any]) -> Conversation:
    return Conversation.model_validate(data)


async def unfurl(stack: Stack, conversation_id: str = samples.DOCUMENTED_ID, **where: Any) -> tuple[str, str]:
    """Post a conversation link (``where``: channel, thread_ts) and let the app unfurl it.

    Returns the ts of the message holding the link and the value of the unfurl's logs button.
    """
    link = f"https://dashboard.tryhamsa.com/conversations/{conversation_id}"
    event = link_shared_event([link], **where)
    before = len(stack.slack.calls_to("chat.unfurl"))
    await stack.sender.event(event)
    unfurl_call = (await stack.slack.wait_for_calls("chat.unfurl", before + 1))[before]
    (logs,) = [
        element
        for block in unfurl_call.params["unfurls"][link]["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == actions.SHOW_LOGS
    ]
    return event["message_ts"], logs["value"]


async def click_logs_on_unfurl(stack: Stack, ts: str, *, channel: str = DEFAULT_CHANNEL, value: str = SHOW_LOGS) -> str:
    """Click Show logs inside the unfurl of the message ``ts``, as Slack reports such a click."""
    url = stack.slack.new_response_url()
    ack = await stack.sender.unfurl_action(
        actions.SHOW_LOGS,
        value,
        response_url=url,
        channel_id=channel,
        message_ts=ts,
        app_unfurl_url=DOCUMENTED_LINK,
    )
    assert ack.status_code == 200
    return url


def paging_buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Label → the Older/Newer button on a logs page."""
    paging = (actions.LOGS_PAGE, actions.LOGS_PAGE_OLDER)
    return {
        element["text"]["text"]: element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] in paging
    }


async def test_logs_from_an_unfurl_go_into_the_thread_of_that_message(stack: Stack) -> None:
    ts, value = await unfurl(stack)

    await click_logs_on_unfurl(stack, ts, value=value)

    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert post.params["channel"] == DEFAULT_CHANNEL
    assert post.params["thread_ts"] == ts
    expected = render_logs_page(conversation(samples.documented_example()), 1)
    assert post.params["blocks"] == expected.blocks
    assert post.params["text"] == expected.text
    assert post.answer is not None and post.answer["ok"]


async def test_logs_from_a_shared_summary_go_into_its_thread(stack: Stack) -> None:
    ts = new_ts()  # the app's own summary, shared in the channel

    await stack.sender.action(actions.SHOW_LOGS, SHOW_LOGS, response_url=stack.slack.new_response_url(), message_ts=ts)

    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert (post.params["channel"], post.params["thread_ts"]) == (DEFAULT_CHANNEL, ts)


async def test_logs_posted_in_a_thread_mask_the_caller_number(stack: Stack) -> None:
    await click_logs_on_unfurl(stack, new_ts(), value=actions.encode(actions.ButtonValue(samples.FAILED_ID)))

    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    posted = json.dumps(post.params, ensure_ascii=False)
    assert "Dialling •••• 4567" in posted
    assert "501234567" not in posted


async def test_logs_from_the_unfurl_of_a_link_posted_in_a_thread_go_into_that_thread(stack: Stack) -> None:
    root = new_ts()
    reply, value = await unfurl(stack, thread_ts=root)

    # The click names only the reply (message_ts); the thread comes from the unfurl's button.
    await click_logs_on_unfurl(stack, reply, value=value)

    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert (post.params["channel"], post.params["thread_ts"]) == (DEFAULT_CHANNEL, root)


async def test_logs_from_a_private_answer_replace_it_in_place(stack: Stack) -> None:
    url = stack.slack.new_response_url()

    await stack.sender.action(actions.SHOW_LOGS, SHOW_LOGS, response_url=url, is_ephemeral=True)

    (response,) = await stack.slack.wait_for_responses(1, url=url)
    expected = render_logs_page(conversation(samples.documented_example()), 1, private=True)
    assert response.body["replace_original"] is True
    assert response.body["blocks"] == expected.blocks
    await stack.services.background.drain(5)
    assert stack.slack.calls_to("chat.postMessage") == []


async def test_back_to_summary_from_private_logs_restores_the_private_summary(stack: Stack) -> None:
    url = stack.slack.new_response_url()
    back = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))

    await stack.sender.action(actions.SHOW_SUMMARY, back, response_url=url, is_ephemeral=True)

    (response,) = await stack.slack.wait_for_responses(1, url=url)
    assert response.body["replace_original"] is True
    assert action_ids(response.body["blocks"]) == [actions.OPEN_RECORDING, actions.SHOW_LOGS, actions.SHARE_SUMMARY]


async def test_a_second_click_does_not_post_the_same_logs_again(stack: Stack) -> None:
    ts = new_ts()
    await click_logs_on_unfurl(stack, ts)
    await stack.slack.wait_for_calls("chat.postMessage")

    second = await click_logs_on_unfurl(stack, ts)

    (notice,) = await stack.slack.wait_for_responses(1, url=second)
    assert notice.body["text"] == messages.LOGS_ALREADY_POSTED
    assert notice.body["response_type"] == "ephemeral"
    assert notice.body["replace_original"] is False
    await stack.services.background.drain(5)
    assert len(stack.slack.calls_to("chat.postMessage")) == 1


async def test_two_fast_clicks_post_the_logs_once(stack: Stack) -> None:
    ts = new_ts()

    first, second = await asyncio.gather(click_logs_on_unfurl(stack, ts), click_logs_on_unfurl(stack, ts))
    await stack.slack.wait_for_calls("chat.postMessage")
    await stack.slack.wait_for_responses(1)
    await stack.services.background.drain(5)

    assert len(stack.slack.calls_to("chat.postMessage")) == 1
    (notice,) = stack.slack.responses
    assert notice.url in (first, second)
    assert notice.body["text"] == messages.LOGS_ALREADY_POSTED


async def test_logs_of_another_message_in_the_same_channel_are_posted_too(stack: Stack) -> None:
    await click_logs_on_unfurl(stack, new_ts())
    await click_logs_on_unfurl(stack, new_ts())

    first, second = await stack.slack.wait_for_calls("chat.postMessage", 2)
    assert first.params["thread_ts"] != second.params["thread_ts"]


async def test_where_the_bot_cannot_post_the_logs_are_shown_privately(stack: Stack) -> None:
    stack.slack.non_member_channels.add("C0ELSEWHERE")

    url = await click_logs_on_unfurl(stack, new_ts(), channel="C0ELSEWHERE")

    (response,) = await stack.slack.wait_for_responses(1, url=url)
    private = render_logs_page(conversation(samples.documented_example()), 1, private=True)
    note, *blocks = response.body["blocks"]
    assert note == {"type": "context", "elements": [{"type": "mrkdwn", "text": messages.POSTED_PRIVATELY}]}
    assert blocks == private.blocks
    assert response.body["response_type"] == "ephemeral"
    (refused,) = stack.slack.calls_to("chat.postMessage")
    assert refused.answer == {"ok": False, "error": "not_in_channel"}


async def test_once_the_bot_is_invited_a_second_click_posts_the_logs_in_the_thread(stack: Stack) -> None:
    stack.slack.non_member_channels.add("C0ELSEWHERE")
    ts = new_ts()
    first = await click_logs_on_unfurl(stack, ts, channel="C0ELSEWHERE")
    await stack.slack.wait_for_responses(1, url=first)

    stack.slack.non_member_channels.discard("C0ELSEWHERE")  # someone ran /invite @Hamsa
    second = await click_logs_on_unfurl(stack, ts, channel="C0ELSEWHERE")

    refused, posted = await stack.slack.wait_for_calls("chat.postMessage", 2)
    assert refused.answer is not None and refused.answer["error"] == "not_in_channel"
    assert (posted.params["channel"], posted.params["thread_ts"]) == ("C0ELSEWHERE", ts)
    assert posted.answer is not None and posted.answer["ok"]
    await stack.services.background.drain(5)
    assert stack.slack.responses_to(second) == []


async def test_logs_of_a_missing_conversation_say_not_found(stack: Stack) -> None:
    missing = actions.encode(actions.ButtonValue(str(uuid.UUID(int=5))))

    url = await click_logs_on_unfurl(stack, new_ts(), value=missing)

    (response,) = await stack.slack.wait_for_responses(1, url=url)
    assert response.body["text"].startswith(messages.NOT_FOUND)
    assert stack.slack.calls_to("chat.postMessage") == []


async def test_forged_button_values_are_ignored(stack: Stack) -> None:
    url = stack.slack.new_response_url()

    ack = await stack.sender.action(actions.SHOW_LOGS, '{"id": "../../admin"}', response_url=url, is_ephemeral=True)
    await stack.services.background.drain(5)

    assert ack.status_code == 200
    assert stack.hamsa.count() == 0
    assert stack.slack.responses == []


async def click_page(stack: Stack, blocks: list[dict[str, Any]], label: str, *, private: bool) -> tuple[int, Any]:
    """Click the Older or Newer button of a page; the next page replaces it in place."""
    button = paging_buttons(blocks)[label]
    value = actions.decode(button["value"])
    assert value is not None
    url = stack.slack.new_response_url()
    await stack.sender.action(button["action_id"], button["value"], response_url=url, is_ephemeral=private)
    (response,) = await stack.slack.wait_for_responses(1, url=url)
    assert response.body["replace_original"] is True
    assert block_kit_problems(response.body["blocks"]) == []
    return value.page, response.body["blocks"]


async def page_through(
    stack: Stack, blocks: list[dict[str, Any]], *, private: bool, back: int = 2
) -> tuple[list[int], list[dict[str, Any]]]:
    """Click Newer on every page until the last one, then Older ``back`` times: the pages visited, the last one."""
    visited: list[int] = []
    while NEWER in paging_buttons(blocks):
        page, blocks = await click_page(stack, blocks, NEWER, private=private)
        visited.append(page)
    assert OLDER in paging_buttons(blocks)
    for _ in range(back):
        page, blocks = await click_page(stack, blocks, OLDER, private=private)
        visited.append(page)
    return visited, blocks


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [element["action_id"] for block in blocks if block["type"] == "actions" for element in block["elements"]]


async def test_paging_through_the_long_call_in_a_thread(stack: Stack) -> None:
    long_call = conversation(samples.long_call())
    await click_logs_on_unfurl(stack, new_ts(), value=actions.encode(actions.ButtonValue(samples.LONG_ID)))
    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    pages = render_logs_page(long_call, 1).pages
    assert pages == -(-(len(long_call.transcript) + 3000) // PAGE_SIZE)
    assert OLDER not in paging_buttons(post.params["blocks"])

    visited, last = await page_through(stack, post.params["blocks"], private=False)

    assert visited == [*range(2, pages + 1), pages - 1, pages - 2]
    # Past the last page's Older and Newer: the errors filter, the first error, the whole call as a file.
    assert action_ids(last) == [
        actions.LOGS_PAGE_OLDER,
        actions.LOGS_PAGE,
        actions.LOGS_ERRORS,
        actions.LOGS_FIRST_ERROR,
        actions.LOGS_DOWNLOAD,
    ]
    assert stack.hamsa.count(samples.LONG_ID) == 1  # every page came from the cache


async def test_paging_a_generated_three_thousand_entry_call_privately(stack: Stack) -> None:
    conversation_id = str(uuid.uuid4())
    data = samples.documented_example()
    data["id"] = conversation_id
    data["logs"] = [
        {
            "id": f"log_{n}",
            "type": ("INFO", "ERROR", "WARNING", "DEBUG")[n % 4],
            "category": "<!channel> tool" if n % 7 == 0 else "flow",
            "message": f"step {n} <!here> " + "x" * 600,
            "payload": {"n": n, "blob": "y" * 600, "nested": {"deeper": [{"k": "<@U123>"}] * 10}},
            "timestamp": f"2024-01-15T10:{30 + n // 600:02d}:{(n // 10) % 60:02d}Z",
        }
        for n in range(3000)
    ]
    stack.hamsa.conversations[conversation_id] = data
    generated = conversation(data)
    pages = 3000 // PAGE_SIZE
    for page in range(1, pages + 1):
        assert block_kit_problems(render_logs_page(generated, page, private=True).blocks) == [], page
    url = stack.slack.new_response_url()

    await stack.sender.action(
        actions.SHOW_LOGS, actions.encode(actions.ButtonValue(conversation_id)), response_url=url, is_ephemeral=True
    )
    (first,) = await stack.slack.wait_for_responses(1, url=url)
    second_page, _ = await click_page(stack, first.body["blocks"], NEWER, private=True)
    # From the page before the last (as Slack shows it), on to the last page and back.
    before_last = render_logs_page(generated, pages - 1, private=True).blocks
    last_page, last = await click_page(stack, before_last, NEWER, private=True)
    back, _ = await click_page(stack, last, OLDER, private=True)

    assert (second_page, last_page, back) == (2, pages, pages - 1)
    assert NEWER not in paging_buttons(last)
    # Private pages keep their way back to the summary.
    assert action_ids(last) == [
        actions.LOGS_PAGE_OLDER,
        actions.LOGS_ERRORS,
        actions.LOGS_FIRST_ERROR,
        actions.LOGS_DOWNLOAD,
        actions.SHOW_SUMMARY,
    ]
