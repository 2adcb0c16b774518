"""``/hamsa``: acked at once, answered privately through the response_url, end to end over HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from typing import Any

import pytest

from bot import actions, messages
from bot.render.summary import PLAY_RECORDING, SHOW_LOGS_LABEL
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import Fault, GatedHamsa
from bot.sandbox.slack_requests import DEFAULT_CHANNEL, DEFAULT_USER
from bot.sandbox.stack import HAMSA_KEY, Stack, start_stack

LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"
QUERY_LINK = f"https://dashboard.tryhamsa.com/call-history?conversationId={samples.DOCUMENTED_ID}"
REFERENCE = re.compile(r"H-[0-9A-F]{6}")


def elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every interactive element: buttons in actions blocks and section accessories."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        found.extend(block.get("elements", []) if block["type"] == "actions" else [])
        if "accessory" in block:
            found.append(block["accessory"])
    return found


def by_action(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    matches = [element for element in elements(blocks) if element.get("action_id") == action_id]
    assert len(matches) == 1, f"expected one {action_id} element in {blocks}"
    return matches[0]


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [block["text"]["text"] for block in blocks if block["type"] == "section" and "text" in block]


async def command(stack: Stack, text: str) -> dict[str, Any]:
    """Run ``/hamsa text``; the ack is an empty 200, the answer the one response_url post."""
    url = stack.slack.new_response_url()
    ack = await stack.sender.command(text, url)
    assert ack.status_code == 200
    assert ack.text == ""
    (response,) = await stack.slack.wait_for_responses(1, url=url)
    return response.body


async def test_empty_text_or_help_shows_usage(stack: Stack) -> None:
    for text in ("", "help", "  HELP  "):
        answer = await command(stack, text)

        assert answer["text"] == messages.USAGE, text
        assert section_texts(answer["blocks"]) == [messages.USAGE]
    assert stack.hamsa.count() == 0


async def test_text_that_is_no_reference_says_so_with_usage_without_asking_hamsa(stack: Stack) -> None:
    for text in ("hello", "849e77c6", f"https://example.com/conversations/{samples.DOCUMENTED_ID}"):
        answer = await command(stack, text)

        assert answer["text"] == messages.NOT_A_REFERENCE, text
        assert section_texts(answer["blocks"]) == [messages.NOT_A_REFERENCE, messages.USAGE]
    assert stack.hamsa.count() == 0


async def test_valid_id_answers_privately_with_the_full_summary_and_a_share_button(stack: Stack) -> None:
    answer = await command(stack, samples.DOCUMENTED_ID)

    assert answer["response_type"] == "ephemeral"
    blocks = answer["blocks"]
    rendered = json.dumps(blocks, ensure_ascii=False)
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Customer Support Call", "emoji": False},
    }
    for shown in (":white_check_mark: Completed", "2m 05s", "Telephone", samples.DOCUMENTED_ID):
        assert shown in rendered
    # The private answer is for the caller alone, so the number is shown in full there.
    assert "+1234567890" in rendered
    recording = by_action(blocks, actions.OPEN_RECORDING)
    assert recording["url"] == "https://storage.example.com/recordings/123.mp3"
    assert recording["text"]["text"] == PLAY_RECORDING
    logs = by_action(blocks, actions.SHOW_LOGS)
    assert "logs" in logs["text"]["text"].lower()
    assert logs["text"]["text"] == SHOW_LOGS_LABEL
    assert actions.decode(logs["value"]) == actions.ButtonValue(samples.DOCUMENTED_ID)
    share = by_action(blocks, actions.SHARE_SUMMARY)
    assert share["text"]["text"] == "Share in channel"
    assert actions.decode(share["value"]) == actions.ButtonValue(samples.DOCUMENTED_ID)
    assert answer["text"].startswith("Customer Support Call")
    assert stack.hamsa.count(samples.DOCUMENTED_ID) == 1


async def test_links_and_any_case_id_work_like_the_id(stack: Stack) -> None:
    for reference in (LINK, QUERY_LINK, f"<{LINK}>", samples.DOCUMENTED_ID.upper()):
        answer = await command(stack, reference)

        assert answer["response_type"] == "ephemeral"
        logs = by_action(answer["blocks"], actions.SHOW_LOGS)
        assert actions.decode(logs["value"]) == actions.ButtonValue(samples.DOCUMENTED_ID), reference
    assert stack.hamsa.requests[0].path.endswith(samples.DOCUMENTED_ID)


async def test_bolt_payload_quirk_text_is_still_answered(stack: Stack) -> None:
    # Bolt parses a form body containing "payload" (but no payload= field) as empty; the server mends it.
    answer = await command(stack, "payload-7")

    assert answer["text"] == messages.NOT_A_REFERENCE


async def test_link_containing_the_word_payload_is_answered_with_the_summary(stack: Stack) -> None:
    answer = await command(stack, f"{LINK}?from=payload")

    assert answer["response_type"] == "ephemeral"
    assert samples.DOCUMENTED_ID in json.dumps(answer["blocks"])


def _break_hamsa_with(fault: Fault) -> Any:
    return lambda stack: stack.hamsa.inject(fault, times=-1)


def _rotate_the_key(stack: Stack) -> None:
    stack.hamsa.api_key = "a-key-this-app-does-not-have"


@pytest.mark.parametrize(
    ("break_hamsa", "reference", "notice", "error"),
    [
        (lambda stack: None, str(uuid.UUID(int=7)), messages.NOT_FOUND, "ConversationNotFound"),
        (_break_hamsa_with(Fault.status(500)), samples.DOCUMENTED_ID, messages.UNAVAILABLE, "HamsaUnavailable"),
        (_break_hamsa_with(Fault.rate_limited(0)), samples.DOCUMENTED_ID, messages.RATE_LIMITED, "HamsaRateLimited"),
        (_rotate_the_key, samples.DOCUMENTED_ID, messages.UNAUTHORIZED, "HamsaUnauthorized"),
        (_break_hamsa_with(Fault.wrong_shape()), samples.DOCUMENTED_ID, messages.BAD_RESPONSE, "HamsaBadResponse"),
    ],
    ids=["not-found", "hamsa-500", "rate-limited", "wrong-api-key", "unreadable-answer"],
)
async def test_hamsa_trouble_gets_a_clear_notice_with_a_reference_found_in_the_log(
    stack: Stack, caplog: pytest.LogCaptureFixture, break_hamsa: Any, reference: str, notice: str, error: str
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    break_hamsa(stack)

    answer = await command(stack, reference)

    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(notice)
    assert section_texts(answer["blocks"]) == [answer["text"]]
    (code,) = REFERENCE.findall(answer["text"])
    lookup_lines = [r.getMessage() for r in caplog.records if r.name == "bot.lookup"]
    assert [line for line in lookup_lines if f"ref={code}" in line and f"error={error}" in line]
    request_lines = [r.getMessage() for r in caplog.records if r.name == "bot.requests"]
    assert [line for line in request_lines if f"ref={code}" in line and "kind=command:/hamsa" in line]
    assert stack.hamsa.count() >= 1


async def test_not_found_says_the_same_as_not_visible_to_this_key(stack: Stack) -> None:
    # Hamsa answers 404 both for a missing conversation and for one of another account.
    stack.hamsa.inject(Fault.status(404, '{"success": false, "message": "Forbidden resource"}'))

    answer = await command(stack, samples.DOCUMENTED_ID)

    assert answer["text"].startswith(messages.NOT_FOUND)


async def test_every_request_gets_its_own_reference(stack: Stack) -> None:
    missing = str(uuid.UUID(int=9))
    first = await command(stack, missing)
    second = await command(stack, missing)

    assert REFERENCE.findall(first["text"]) != REFERENCE.findall(second["text"])


async def test_fifty_concurrent_commands_are_acked_before_hamsa_answers_any() -> None:
    hamsa = GatedHamsa(api_key=HAMSA_KEY)
    ids = [str(uuid.uuid4()) for _ in range(50)]
    for conversation_id in ids:
        hamsa.conversations[conversation_id] = {**samples.documented_example(), "id": conversation_id}
    async with await start_stack(hamsa=hamsa, hamsa_read_timeout=30.0, hamsa_lookup_budget=30.0) as stack:
        try:
            urls = [stack.slack.new_response_url() for _ in ids]
            acks = await asyncio.gather(
                *(stack.sender.command(conversation_id, url) for conversation_id, url in zip(ids, urls, strict=True))
            )

            assert [ack.status_code for ack in acks] == [200] * 50
            assert stack.slack.responses == []  # nothing answered: Hamsa is still holding every lookup
        finally:
            hamsa.release.set()

        await stack.slack.wait_for_responses(50)
        for conversation_id, url in zip(ids, urls, strict=True):
            (response,) = stack.slack.responses_to(url)
            logs = by_action(response.body["blocks"], actions.SHOW_LOGS)
            assert actions.decode(logs["value"]) == actions.ButtonValue(conversation_id)
        assert sorted(r.conversation_id for r in hamsa.requests) == sorted(ids)


async def test_share_in_channel_posts_the_summary_for_everyone_and_removes_the_private_one(stack: Stack) -> None:
    answer = await command(stack, samples.DOCUMENTED_ID)
    share = by_action(answer["blocks"], actions.SHARE_SUMMARY)
    url = stack.slack.new_response_url()

    ack = await stack.sender.action(actions.SHARE_SUMMARY, share["value"], response_url=url, is_ephemeral=True)

    assert ack.status_code == 200
    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert post.params["channel"] == DEFAULT_CHANNEL
    assert "thread_ts" not in post.params
    shared = json.dumps(post.params["blocks"], ensure_ascii=False)
    assert f"Shared by <@{DEFAULT_USER}>" in shared
    assert "•••• 7890" in shared
    assert "1234567890" not in json.dumps(post.params, ensure_ascii=False)
    assert by_action(post.params["blocks"], actions.SHOW_LOGS)
    assert not [e for e in elements(post.params["blocks"]) if e.get("action_id") == actions.SHARE_SUMMARY]
    (deleted,) = await stack.slack.wait_for_responses(1, url=url)
    assert deleted.body == {"delete_original": True}


async def test_share_where_the_bot_is_not_a_member_goes_through_the_response_url(stack: Stack) -> None:
    stack.slack.non_member_channels.add("C0PRIVATE")
    url = stack.slack.new_response_url()
    value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))

    await stack.sender.action(actions.SHARE_SUMMARY, value, response_url=url, is_ephemeral=True, channel_id="C0PRIVATE")

    shared, deleted = await stack.slack.wait_for_responses(2, url=url)
    assert shared.body["response_type"] == "in_channel"
    assert shared.body["replace_original"] is False
    assert f"Shared by <@{DEFAULT_USER}>" in json.dumps(shared.body["blocks"])
    assert "1234567890" not in json.dumps(shared.body, ensure_ascii=False)
    assert deleted.body == {"delete_original": True}
    (refused,) = stack.slack.calls_to("chat.postMessage")
    assert refused.answer == {"ok": False, "error": "not_in_channel"}
