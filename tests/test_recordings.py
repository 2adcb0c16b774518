"""Recordings: a signed link to a customer's voice never lands in a channel; who presses Play gets it privately.

End to end over HTTP: what Slack received (unfurls, posts, response_url answers) and what Hamsa was asked.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot import actions, messages
from bot.render.summary import PLAY_RECORDING
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import Fault
from bot.sandbox.slack_requests import BOT_USER_ID, app_mention_event, link_shared_event, unfurl_block_actions
from bot.sandbox.stack import Stack

LONG_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.LONG_ID}"
SIGNED = samples.long_call()["mediaUrl"]
RESIGNED = f"https://storage.example.com/recordings/{samples.LONG_ID}.mp3?X-Amz-Expires=3600&X-Amz-Signature=fresh42"


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [element for block in blocks if block["type"] == "actions" for element in block["elements"]]


def play_button(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = [element for element in buttons(blocks) if element["text"]["text"] == PLAY_RECORDING]
    return found


async def unfurl_long_call(stack: Stack) -> list[dict[str, Any]]:
    # The long sample holds 3,000 logs; trim them, this is about the recording.
    stack.hamsa.conversations[samples.LONG_ID]["logs"] = stack.hamsa.conversations[samples.LONG_ID]["logs"][:5]
    await stack.sender.event(link_shared_event([LONG_LINK]))
    (call,) = await stack.slack.wait_for_calls("chat.unfurl")
    blocks: list[dict[str, Any]] = call.params["unfurls"][LONG_LINK]["blocks"]
    return blocks


async def press_play_in_unfurl(stack: Stack, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Press Play recording on the unfurl; the app's one answer through the click's response_url."""
    url = stack.slack.new_response_url()
    click = unfurl_block_actions(
        actions.GET_RECORDING,
        play_button(blocks)["value"],
        response_url=url,
        app_unfurl_url=LONG_LINK,
        blocks=blocks,
    )
    ack = await stack.sender.post(*click)
    assert ack.status_code == 200
    (response,) = await stack.slack.wait_for_responses(1, url=url)
    return response.body


async def test_an_unfurl_and_a_channel_message_carry_no_recording_link(stack: Stack) -> None:
    blocks = await unfurl_long_call(stack)
    await stack.sender.event(app_mention_event(f"<@{BOT_USER_ID}> {samples.LONG_ID}"))
    (post,) = await stack.slack.wait_for_calls("chat.postMessage")

    for sent in (blocks, post.params):
        raw = json.dumps(sent, ensure_ascii=False)
        assert SIGNED not in raw
        assert "storage.example.com" not in raw and "X-Amz-Signature" not in raw
    for shown in (blocks, post.params["blocks"]):
        play = play_button(shown)
        assert play["action_id"] == actions.GET_RECORDING
        assert "url" not in play
        assert actions.decode(play["value"]) == actions.ButtonValue(samples.LONG_ID)


async def test_play_on_an_unfurl_answers_the_clicker_privately_with_a_link_fresh_from_hamsa(stack: Stack) -> None:
    blocks = await unfurl_long_call(stack)
    assert stack.hamsa.count(samples.LONG_ID) == 1
    # Meanwhile the signed link expired and Hamsa signs a new one.
    stack.hamsa.conversations[samples.LONG_ID]["mediaUrl"] = RESIGNED

    answer = await press_play_in_unfurl(stack, blocks)

    assert stack.hamsa.count(samples.LONG_ID) == 2  # asked again, though the call was cached
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert "Late order follow-up" in answer["text"]
    (link,) = buttons(answer["blocks"])
    assert (link["action_id"], link["url"], link["text"]["text"]) == (actions.OPEN_RECORDING, RESIGNED, PLAY_RECORDING)
    assert stack.slack.calls_to("chat.postMessage") == []


async def test_play_on_a_channel_message_answers_privately_too(stack: Stack) -> None:
    await stack.sender.event(app_mention_event(f"<@{BOT_USER_ID}> {samples.DOCUMENTED_ID}"))
    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert post.answer is not None
    message = post.answer["message"]  # the app's answer in the thread, as Slack stored it
    url = stack.slack.new_response_url()

    await stack.sender.action(
        actions.GET_RECORDING, play_button(message["blocks"])["value"], response_url=url, message=message
    )

    (response,) = await stack.slack.wait_for_responses(1, url=url)
    assert response.body["response_type"] == "ephemeral"
    assert buttons(response.body["blocks"])[0]["url"] == samples.documented_example()["mediaUrl"]


async def test_play_on_a_call_without_a_recording_yet_says_so_privately(stack: Stack) -> None:
    just_ended = samples.documented_example() | {"mediaUrl": None, "updatedAt": datetime.now(UTC).isoformat()}
    stack.hamsa.conversations[samples.DOCUMENTED_ID] = just_ended
    for conversation_id, said in ((samples.DOCUMENTED_ID, "still processing"), (samples.FAILED_ID, "no recording")):
        url = stack.slack.new_response_url()
        value = actions.encode(actions.ButtonValue(conversation_id))

        await stack.sender.action(actions.GET_RECORDING, value, response_url=url)

        (response,) = await stack.slack.wait_for_responses(1, url=url)
        assert response.body["response_type"] == "ephemeral"
        assert response.body["replace_original"] is False
        assert said in response.body["text"]
        assert buttons(response.body["blocks"]) == []


async def test_play_when_hamsa_fails_answers_privately_with_the_error(stack: Stack) -> None:
    blocks = await unfurl_long_call(stack)
    stack.hamsa.inject(Fault.status(401), times=-1)

    answer = await press_play_in_unfurl(stack, blocks)

    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert answer["text"].startswith(messages.UNAUTHORIZED)
    assert SIGNED not in json.dumps(answer)


async def test_a_private_hamsa_answer_keeps_the_direct_link(stack: Stack) -> None:
    stack.hamsa.conversations[samples.LONG_ID]["logs"] = []
    url = stack.slack.new_response_url()

    await stack.sender.command(samples.LONG_ID, url)

    (response,) = await stack.slack.wait_for_responses(1, url=url)
    play = play_button(response.body["blocks"])
    assert (play["action_id"], play["url"]) == (actions.OPEN_RECORDING, SIGNED)
