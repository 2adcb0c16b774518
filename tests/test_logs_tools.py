"""The logs view's tools end to end over HTTP: Errors only, Jump to first error, and the whole call as a file.

The file goes up with files.uploadV2 exactly as slack_sdk sends it (files.getUploadURLExternal, the bytes
to the upload URL, files.completeUploadExternal) to the Slack stand-in, which keeps what it received.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from bot import actions, messages
from bot.hamsa.models import Conversation
from bot.render.logs import ALL_ENTRIES, DOWNLOAD, ERRORS_ONLY, FIRST_ERROR, PAGE_SIZE, first_error_page
from bot.render.logs_text import render_logs_text
from bot.sandbox import samples
from bot.sandbox.fake_slack import SlackFault, dm_channel_of
from bot.sandbox.slack_requests import DEFAULT_CHANNEL, DEFAULT_USER, new_ts
from bot.sandbox.stack import Stack

LONG_WITH_NUMBERS = str(uuid.UUID(int=77))
CALLER = "+971501234567"


def long_call_with_numbers() -> dict[str, Any]:
    """A 3,000-entry call whose caller and logs hold a phone number (masked wherever a channel sees it)."""
    data = samples.long_call(3000)
    data.update(id=LONG_WITH_NUMBERS, callParams={"userNumber": CALLER})
    data["logs"][5]["message"] = f"Dialling {CALLER}"
    return data


@pytest.fixture
def long_stack(stack: Stack) -> Stack:
    stack.hamsa.conversations[LONG_WITH_NUMBERS] = long_call_with_numbers()
    return stack


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Label → button, for every button of a logs page."""
    return {e["text"]["text"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def log_lines(blocks: list[dict[str, Any]]) -> list[str]:
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    return [line for line in text.splitlines() if line.startswith("`")]


async def press(stack: Stack, button: dict[str, Any], **where: Any) -> dict[str, Any]:
    """Press a button on a private (ephemeral) logs page, or on a message given by ``where``."""
    url = stack.slack.new_response_url()
    if not where:
        where = {"is_ephemeral": True}
    await stack.sender.action(button["action_id"], button["value"], response_url=url, **where)
    (reply,) = await stack.slack.wait_for_responses(1, url=url)
    return reply.body


async def private_logs(stack: Stack, conversation_id: str) -> dict[str, Any]:
    show = {"action_id": actions.SHOW_LOGS, "value": actions.encode(actions.ButtonValue(conversation_id))}
    return await press(stack, show)


async def logs_in_thread(stack: Stack, conversation_id: str) -> tuple[dict[str, Any], str]:
    """Show logs on a message in the channel: the first page, posted in its thread; (that message, the thread)."""
    root = new_ts()
    value = actions.encode(actions.ButtonValue(conversation_id))
    await stack.sender.action(actions.SHOW_LOGS, value, response_url=stack.slack.new_response_url(), message_ts=root)
    (post,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert post.answer is not None
    return post.answer["message"], root


async def test_errors_only_lists_the_error_entries_a_page_at_a_time(long_stack: Stack) -> None:
    data = long_call_with_numbers()
    errors = [entry for entry in data["logs"] if entry["type"] == "ERROR"]
    page = await private_logs(long_stack, LONG_WITH_NUMBERS)
    label = f"{ERRORS_ONLY} ({len(errors)})"
    assert label in buttons(page["blocks"])

    first = await press(long_stack, buttons(page["blocks"])[label])

    assert first["replace_original"] is True
    lines = log_lines(first["blocks"])
    assert len(lines) == PAGE_SIZE
    assert all(":red_circle:*ERROR*" in line for line in lines)
    assert [line.split(" · ")[-2] for line in lines] == [e["message"] for e in errors[:PAGE_SIZE]]
    context = json.dumps(first["blocks"], ensure_ascii=False)
    assert (
        f"Errors only · Page 1 of {-(-len(errors) // PAGE_SIZE)} · errors 1 to {PAGE_SIZE} of {len(errors)}" in context
    )

    second = await press(long_stack, buttons(first["blocks"])["Newer ▶"])
    assert all(":red_circle:*ERROR*" in line for line in log_lines(second["blocks"]))
    assert "errors 21 to 40" in json.dumps(second["blocks"], ensure_ascii=False)

    everything = await press(long_stack, buttons(second["blocks"])[ALL_ENTRIES])
    shown = json.dumps(everything["blocks"], ensure_ascii=False)
    assert "Page 1 of " in shown and "*Transcript*" in shown


async def test_jump_to_first_error_opens_the_page_holding_it(long_stack: Stack) -> None:
    page = await private_logs(long_stack, LONG_WITH_NUMBERS)
    jump = buttons(page["blocks"])[FIRST_ERROR]

    found = await press(long_stack, jump)

    expected = first_error_page(Conversation.model_validate(long_call_with_numbers()))
    assert f"Page {expected} of" in json.dumps(found["blocks"], ensure_ascii=False)
    assert any(":red_circle:*ERROR*" in line for line in log_lines(found["blocks"]))
    assert FIRST_ERROR not in buttons(found["blocks"])  # already there


async def test_a_call_without_errors_offers_no_error_tools(stack: Stack) -> None:
    page = await private_logs(stack, samples.DOCUMENTED_ID)

    assert not {ERRORS_ONLY, FIRST_ERROR, DOWNLOAD} & {label.split(" (")[0] for label in buttons(page["blocks"])}


async def test_download_in_a_thread_posts_the_whole_call_there_as_a_file_with_numbers_masked(
    long_stack: Stack,
) -> None:
    posted, root = await logs_in_thread(long_stack, LONG_WITH_NUMBERS)
    download = buttons(posted["blocks"])[DOWNLOAD]
    url = long_stack.slack.new_response_url()

    await long_stack.sender.action(actions.LOGS_DOWNLOAD, download["value"], response_url=url, message=posted)
    await long_stack.slack.wait_for_calls("files.completeUploadExternal")

    (upload,) = long_stack.slack.calls_to("files.getUploadURLExternal")
    (file,) = long_stack.slack.completed_files()
    assert (file.channel, file.thread_ts) == (DEFAULT_CHANNEL, root)
    assert file.filename == f"hamsa-{LONG_WITH_NUMBERS}.txt" and int(upload.params["length"]) == len(
        file.content or b""
    )
    assert file.title == "Transcript and logs of Late order follow-up"
    assert file.initial_comment == (
        f"The transcript and every log entry of *Late order follow-up*, as a file (asked for by <@{DEFAULT_USER}>)."
    )
    conversation = Conversation.model_validate(long_call_with_numbers())
    assert file.text == render_logs_text(conversation, show_numbers=False)
    assert len(file.text.splitlines()) > 3000
    assert "Dialling •••• 4567" in file.text and "501234567" not in file.text
    await long_stack.services.background.drain(5)
    assert long_stack.slack.responses_to(url) == []  # the file in the thread is the answer


async def test_a_second_download_click_in_the_thread_posts_one_file(long_stack: Stack) -> None:
    posted, _ = await logs_in_thread(long_stack, LONG_WITH_NUMBERS)
    download = buttons(posted["blocks"])[DOWNLOAD]

    urls = [long_stack.slack.new_response_url() for _ in range(2)]
    for url in urls:
        await long_stack.sender.action(actions.LOGS_DOWNLOAD, download["value"], response_url=url, message=posted)
    await long_stack.slack.wait_for_responses(1)
    await long_stack.services.background.drain(5)

    assert len(long_stack.slack.completed_files()) == 1
    assert [r.body["text"] for r in long_stack.slack.responses] == [messages.LOGS_FILE_ALREADY_POSTED]


async def test_download_from_private_logs_goes_to_the_apps_messages_with_full_numbers(long_stack: Stack) -> None:
    page = await private_logs(long_stack, LONG_WITH_NUMBERS)

    told = await press(long_stack, buttons(page["blocks"])[DOWNLOAD])

    assert told["text"] == messages.LOGS_FILE_SENT and told["response_type"] == "ephemeral"
    (intro,) = long_stack.slack.calls_to("chat.postMessage")
    assert intro.params["channel"] == DEFAULT_USER
    (file,) = long_stack.slack.completed_files()
    assert file.channel == dm_channel_of(DEFAULT_USER) and file.thread_ts is None
    assert f"Dialling {CALLER}" in file.text


async def test_a_thread_that_refuses_the_file_sends_it_privately_instead(long_stack: Stack) -> None:
    posted, _ = await logs_in_thread(long_stack, LONG_WITH_NUMBERS)
    long_stack.slack.inject("files.completeUploadExternal", SlackFault.error("not_in_channel"))

    told = await press(long_stack, buttons(posted["blocks"])[DOWNLOAD], message=posted)

    assert told["text"] == messages.LOGS_FILE_SENT
    (file,) = long_stack.slack.completed_files()
    assert file.channel == dm_channel_of(DEFAULT_USER)


async def test_when_slack_takes_the_file_nowhere_the_person_is_told(long_stack: Stack) -> None:
    long_stack.slack.inject("files.getUploadURLExternal", SlackFault.error("ratelimited"), times=-1)
    page = await private_logs(long_stack, LONG_WITH_NUMBERS)

    told = await press(long_stack, buttons(page["blocks"])[DOWNLOAD])

    assert told["text"] == messages.LOGS_FILE_FAILED
    assert long_stack.slack.completed_files() == []


@pytest.mark.parametrize("errors", ["true", "2", "1.0", '"1"'])
def test_an_errors_flag_this_app_did_not_write_is_refused(errors: str) -> None:
    assert actions.decode(f'{{"id":"{samples.LONG_ID}","e":{errors}}}') is None
    assert actions.decode(f'{{"id":"{samples.LONG_ID}","e":1}}') == actions.ButtonValue(samples.LONG_ID, errors=True)
