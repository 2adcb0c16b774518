"""A call that just ended: Hamsa adds its recording, transcript and logs minutes later.

Until then the app says "processing" and keeps the call only briefly, so what Hamsa adds shows at once;
a failed or unanswered call gets none of these, so it is kept as long as any finished call.
End to end over HTTP; the short time-to-live is 0 here, so "kept briefly" is "asked again next time".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot import actions
from bot.render.logs import NO_ENTRIES_PROCESSING
from bot.render.summary import NO_RECORDING, PLAY_RECORDING, PROCESSING, RECORDING_NOT_READY
from bot.sandbox import samples
from bot.sandbox.stack import Stack, start_stack

CALL_ID = samples.DOCUMENTED_ID


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with await start_stack(cache_ttl_active=0, cache_ttl_finished=300) as running:
        yield running


def just_ended(status: str = "COMPLETED") -> dict[str, Any]:
    """The call a moment after it ended: no recording, transcript or logs yet."""
    now = datetime.now(UTC).isoformat()
    return samples.documented_example() | {
        "status": status,
        "updatedAt": now,
        "mediaUrl": None,
        "jobResponse": {},
        "logs": [],
    }


async def ask(stack: Stack) -> dict[str, Any]:
    url = stack.slack.new_response_url()
    await stack.sender.command(CALL_ID, url)
    (response,) = await stack.slack.wait_for_responses(1, url=url)
    return response.body


def context_of(answer: dict[str, Any]) -> str:
    (context,) = [block for block in answer["blocks"] if block["type"] == "context"]
    return " ".join(element["text"] for element in context["elements"])


def labels(answer: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for block in answer["blocks"] if block["type"] == "actions" for e in block["elements"]]


async def test_a_call_being_processed_says_so_and_shows_its_recording_as_soon_as_hamsa_has_it(stack: Stack) -> None:
    stack.hamsa.conversations[CALL_ID] = just_ended()

    first = await ask(stack)

    assert PROCESSING in context_of(first)
    assert RECORDING_NOT_READY not in context_of(first)
    assert PLAY_RECORDING not in labels(first)

    # Hamsa adds the recording; the next look shows it instead of a five-minute-old "not ready".
    stack.hamsa.conversations[CALL_ID]["mediaUrl"] = "https://storage.example.com/recordings/123.mp3"
    second = await ask(stack)

    assert stack.hamsa.count(CALL_ID) == 2
    assert PLAY_RECORDING in labels(second)
    assert PROCESSING in context_of(second)  # the transcript and logs are still to come


async def test_a_call_with_everything_hamsa_adds_is_kept_as_finished(stack: Stack) -> None:
    call = just_ended()
    call |= {"mediaUrl": "https://storage.example.com/recordings/123.mp3", "logs": samples.failed_call()["logs"]}
    call["jobResponse"] = {"transcription": [{"Agent": "Hello!"}]}
    stack.hamsa.conversations[CALL_ID] = call

    await ask(stack)
    answer = await ask(stack)

    assert stack.hamsa.count(CALL_ID) == 1
    assert PROCESSING not in context_of(answer)


@pytest.mark.parametrize("status", ["FAILED", "NO_ANSWER"])
async def test_a_failed_or_unanswered_call_is_not_waited_for(stack: Stack, status: str) -> None:
    # Such a call may never get a recording: it is kept like any finished call, not fetched again and again.
    stack.hamsa.conversations[CALL_ID] = just_ended(status)

    await ask(stack)
    answer = await ask(stack)

    assert stack.hamsa.count(CALL_ID) == 1
    assert NO_RECORDING in context_of(answer)
    assert PROCESSING not in context_of(answer)


async def test_logs_of_a_call_being_processed_say_they_are_coming(stack: Stack) -> None:
    stack.hamsa.conversations[CALL_ID] = just_ended()
    url = stack.slack.new_response_url()

    await stack.sender.action(
        actions.SHOW_LOGS, actions.encode(actions.ButtonValue(CALL_ID)), response_url=url, is_ephemeral=True
    )

    (response,) = await stack.slack.wait_for_responses(1, url=url)
    assert NO_ENTRIES_PROCESSING in [block.get("text", {}).get("text") for block in response.body["blocks"]]
