"""Workflow Builder: the custom step "Get Hamsa conversation" (Bolt's ``app.function``).

Slack sends ``function_executed`` when a workflow reaches the step; Bolt acknowledges it and hands its
``complete`` and ``fail`` (which call ``functions.completeSuccess`` / ``functions.completeError`` with
the execution's own token). The lookup runs in the background like every other, and the step always
ends: with the conversation's outputs, or failed with the words a person would get.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail
from slack_sdk.errors import SlackApiError

from bot.policy import Place
from bot.refs import parse_conversation_ref
from bot.render.workflow import STEP_CALLBACK_ID, STEP_INPUT, not_a_reference, step_outputs
from bot.services import Services

logger = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    @app.function(STEP_CALLBACK_ID)
    async def get_conversation(
        inputs: dict[str, Any], complete: AsyncComplete, fail: AsyncFail, context: AsyncBoltContext
    ) -> None:
        ref = context["ref"]

        async def tell(text: str) -> None:  # a bug after the ack still ends the step, with a reference
            await _end(fail(text), ref)

        services.background.spawn(run_step(services, context, inputs, complete, fail, ref), ref, tell=tell)


async def run_step(
    services: Services,
    context: AsyncBoltContext,
    inputs: dict[str, Any],
    complete: AsyncComplete,
    fail: AsyncFail,
    ref: str,
) -> None:
    workspace = await services.workspace(context)
    given = inputs.get(STEP_INPUT) if isinstance(inputs, dict) else None
    conversation_id = parse_conversation_ref(given, workspace.policy.link_domains) if isinstance(given, str) else None
    if conversation_id is None:
        await _end(fail(not_a_reference(given)), ref)
        return
    found = await services.lookup(workspace, conversation_id, ref)
    if found.conversation is None:
        await _end(fail(found.notice), ref)
        return
    # A workflow may post its outputs anywhere: numbers as in a channel of this workspace.
    show_numbers = services.visibility(workspace, Place.CHANNEL).full_numbers
    await _end(complete(outputs=step_outputs(found.conversation, show_numbers=show_numbers)), ref)


async def _end(ending: Any, ref: str) -> None:
    """Sends the step's end to Slack; Slack refusing it (the run was cancelled, say) is only logged."""
    try:
        await ending
    except SlackApiError as error:
        code = error.response.get("error", "unknown") if error.response is not None else "unknown"
        logger.warning("slack function end failed ref=%s error=%.60s", ref, code)
