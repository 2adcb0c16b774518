"""The Workflow Builder step "Get Hamsa conversation" end to end over HTTP.

Slack's documented ``function_executed`` event goes to the app; the app ends the step with
``functions.completeSuccess`` (the outputs) or ``functions.completeError`` (why), using the execution's own
token, which the Slack stand-in checks.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from bot import messages
from bot.render.workflow import NO_INPUT, OUTPUTS, STEP_CALLBACK_ID, STEP_INPUT, not_a_reference
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import Fault
from bot.sandbox.fake_slack import SANDBOX_TEAM, FunctionExecution, SandboxTeam
from bot.sandbox.slack_requests import function_executed_event
from bot.sandbox.stack import Stack, start_stack

REFERENCE = re.compile(r"\(ref `H-[0-9A-F]{6}`\)$")


async def run(stack: Stack, inputs: dict[str, Any], team: SandboxTeam = SANDBOX_TEAM) -> FunctionExecution:
    execution = stack.slack.new_function_execution(team)
    event = function_executed_event(
        execution.execution_id, execution.bot_access_token, inputs, callback_id=STEP_CALLBACK_ID, outputs=OUTPUTS
    )
    response = await stack.sender.event(event, team=team)
    assert (response.status_code, response.text) == (200, "")
    return await stack.slack.wait_for_function_end(execution)


async def test_a_conversation_id_completes_the_step_with_its_outputs(stack: Stack) -> None:
    execution = await run(stack, {STEP_INPUT: samples.DOCUMENTED_ID})

    assert execution.error is None
    assert execution.outputs == {
        "title": "Customer Support Call",
        "status": "completed",
        "duration_seconds": 125,
        "channel_type": "Telephone",
        "recording_url": "https://storage.example.com/recordings/123.mp3",
        "summary": "Customer Support Call — Completed, 2m 05s",
    }
    (success,) = stack.slack.calls_to("functions.completeSuccess")
    assert success.headers["Authorization"] == f"Bearer {execution.bot_access_token}"


async def test_a_dashboard_link_works_as_well_and_a_failed_call_says_why(stack: Stack) -> None:
    link = f"https://dashboard.tryhamsa.com/call-history?conversationId={samples.FAILED_ID}"

    execution = await run(stack, {STEP_INPUT: f"<{link}>"})

    assert execution.outputs is not None
    assert execution.outputs["status"] == "failed"
    assert execution.outputs["failure_reason"] == "SIP 486: callee busy"
    assert "duration_seconds" not in execution.outputs and "recording_url" not in execution.outputs


async def test_outputs_are_escaped_and_mask_phone_numbers_a_channel_would_see(stack: Stack) -> None:
    conversation_id = str(uuid.UUID(int=99))
    data = samples.failed_call()
    data.update(id=conversation_id, title="<!channel> call back +971501234567 & co")
    stack.hamsa.conversations[conversation_id] = data

    execution = await run(stack, {STEP_INPUT: conversation_id})

    assert execution.outputs is not None
    assert execution.outputs["title"] == "&lt;!channel&gt; call back •••• 4567 &amp; co"
    assert "501234567" not in str(execution.outputs)


@pytest.mark.parametrize("given", ["not a conversation", "", "   ", f"https://example.com/c/{samples.DOCUMENTED_ID}"])
async def test_an_input_that_is_no_conversation_fails_the_step_without_asking_hamsa(stack: Stack, given: str) -> None:
    execution = await run(stack, {STEP_INPUT: given})

    assert execution.outputs is None
    assert execution.error == not_a_reference(given)
    assert stack.hamsa.count() == 0


async def test_a_missing_input_fails_the_step(stack: Stack) -> None:
    execution = await run(stack, {})

    assert execution.error == NO_INPUT


@pytest.mark.parametrize(
    ("fault", "notice"),
    [
        (Fault.status(404), messages.NOT_FOUND),
        (Fault.status(401), messages.UNAUTHORIZED),
        (Fault.html(503), messages.UNAVAILABLE),
        (Fault.malformed_json(), messages.BAD_RESPONSE),
    ],
)
async def test_hamsa_errors_fail_the_step_with_a_clear_message(stack: Stack, fault: Fault, notice: str) -> None:
    stack.hamsa.inject(fault, times=-1)

    execution = await run(stack, {STEP_INPUT: samples.DOCUMENTED_ID})

    assert execution.outputs is None
    assert execution.error is not None
    assert execution.error.startswith(notice) and REFERENCE.search(execution.error)


async def test_a_bug_after_the_ack_still_ends_the_step(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr("bot.listeners.workflow.step_outputs", broken)

    execution = await run(stack, {STEP_INPUT: samples.DOCUMENTED_ID})

    assert execution.error is not None
    assert execution.error.startswith(messages.UNEXPECTED) and REFERENCE.search(execution.error)


async def test_in_a_workspace_installed_by_oauth_the_step_uses_that_workspaces_hamsa_account() -> None:
    other = SandboxTeam(team_id="T0OTHER", name="Other Co", bot_user_id="U0OTHERBOT", bot_id="B0OTHERBOT")
    async with await start_stack(multi_workspace=True) as multi:
        multi.hamsa.add_account("other-key", {samples.FAILED_ID})
        await multi.install(other)
        await multi.connect_hamsa(other, api_key="other-key")
        await multi.services.background.drain(5)

        mine = await run(multi, {STEP_INPUT: samples.FAILED_ID}, team=other)
        hidden = await run(multi, {STEP_INPUT: samples.DOCUMENTED_ID}, team=other)

        assert mine.outputs is not None and mine.outputs["status"] == "failed"
        assert hidden.error is not None and hidden.error.startswith(messages.NOT_FOUND)
        looked_up = [r for r in multi.hamsa.requests if r.conversation_id]
        assert {r.headers["Authorization"] for r in looked_up} == {"Token other-key"}
