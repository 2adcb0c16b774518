"""Phone numbers in anything a channel sees show only their last four digits, however they were written.

End to end over HTTP: a transcript and logs posted in a thread, an unfurl, a mention's answer; the
private ``/hamsa`` answer keeps them in full. What counts as a number is phonenumbers' call, read in the
caller's region, so order numbers, amounts, dates and times stay as they were.
"""

from __future__ import annotations

import json
from typing import Any

from bot import actions
from bot.sandbox import samples
from bot.sandbox.slack_requests import BOT_USER_ID, app_mention_event, link_shared_event, new_ts
from bot.sandbox.stack import Stack

CALL_ID = samples.FAILED_ID  # a UAE caller: +971501234567
LINK = f"https://dashboard.tryhamsa.com/conversations/{CALL_ID}"
CALLER_WRITTEN = ["050 123 4567", "00971501234567", "+971 50 123 4567"]
OTHERS = {"055 987 6543": "•••• 6543", "+1 415 555 2671": "•••• 2671"}
NOT_NUMBERS = ["order 123456789", "AED 1500.00", "on 2025-03-02", "at 09:14:07", "card ending in 4421"]


def saying(*said: str, caller: str = "+971501234567") -> dict[str, Any]:
    data = samples.failed_call()
    data["callParams"]["userNumber"] = caller
    data["jobResponse"] = {"transcription": [{"User": text} for text in said]}
    data["logs"] = [{"type": "INFO", "message": text, "payload": {"said": text}} for text in said]
    return data


async def logs_posted_in_a_thread(stack: Stack) -> str:
    """Press Show logs on a summary in the channel; the posted page as Slack received it."""
    value = actions.encode(actions.ButtonValue(CALL_ID))
    await stack.sender.action(
        actions.SHOW_LOGS, value, response_url=stack.slack.new_response_url(), message_ts=new_ts()
    )
    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    return json.dumps(post.params, ensure_ascii=False)


async def test_logs_posted_in_a_thread_mask_every_phone_number_in_any_format(stack: Stack) -> None:
    stack.hamsa.conversations[CALL_ID] = saying(*CALLER_WRITTEN, *OTHERS, *NOT_NUMBERS)

    posted = await logs_posted_in_a_thread(stack)

    for written in (*CALLER_WRITTEN, *OTHERS):
        assert written not in posted
    assert posted.count("•••• 4567") == 3 * len(CALLER_WRITTEN)  # the turn, the log message and its payload
    for masked in OTHERS.values():
        assert posted.count(masked) == 3
    for kept in NOT_NUMBERS:
        assert posted.count(kept) == 3, kept
    assert "501234567" not in posted and "9876" not in posted and "555 2671" not in posted


async def test_a_fifteen_digit_caller_number_is_masked_in_posted_logs(stack: Stack) -> None:
    stack.hamsa.conversations[CALL_ID] = saying("+493012345678901", "030 12345678901", caller="+493012345678901")

    posted = await logs_posted_in_a_thread(stack)

    assert posted.count("•••• 8901") == 6
    assert "12345678" not in posted


async def test_unfurls_and_mentions_mask_numbers_in_titles_and_failure_reasons(stack: Stack) -> None:
    data = samples.failed_call()
    data["title"] = "Callback to 050 123 4567"
    data["callAnalysis"] = {"error": {"message": "Transfer to +971 55 987 6543 failed", "statusCode": 486}}
    stack.hamsa.conversations[CALL_ID] = data

    await stack.sender.event(link_shared_event([LINK]))
    # A mention's links are left to their unfurl; a bare ID gets its summary in the thread.
    await stack.sender.event(app_mention_event(f"<@{BOT_USER_ID}> {CALL_ID}"))
    (unfurl,) = await stack.slack.wait_for_calls("chat.unfurl")
    (post,) = await stack.slack.wait_for_calls("chat.postMessage")

    for sent in (unfurl.params, post.params):
        shown = json.dumps(sent, ensure_ascii=False)
        assert "Callback to •••• 4567" in shown
        assert "Transfer to •••• 6543 failed" in shown
        assert "123 4567" not in shown and "987 6543" not in shown and "501234567" not in shown


async def test_the_private_answer_shows_numbers_in_full(stack: Stack) -> None:
    data = saying(*CALLER_WRITTEN)
    data["title"] = "Callback to 050 123 4567"
    stack.hamsa.conversations[CALL_ID] = data
    url = stack.slack.new_response_url()

    await stack.sender.command(CALL_ID, url)

    (response,) = await stack.slack.wait_for_responses(1, url=url)
    shown = json.dumps(response.body, ensure_ascii=False)
    assert "Callback to 050 123 4567" in shown
    assert "+971501234567" in shown
