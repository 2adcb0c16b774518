"""The outputs of the Workflow Builder step "Get Hamsa conversation" (pure).

manifest.yml declares the same names under ``functions.get_hamsa_conversation.output_parameters``.
Text outputs are escaped like any message text, and bounded: a workflow may post them in a channel,
so phone numbers show their last four digits unless the workspace shows them in full.
"""

from __future__ import annotations

from typing import Any

from bot.hamsa.models import Conversation, status_word
from bot.render.summary import UNKNOWN, channel_label, phone_mask, recording_url, summary_text, title_of
from bot.render.text import inline

STEP_CALLBACK_ID = "get_hamsa_conversation"
STEP_INPUT = "conversation"
OUTPUTS = (
    "title",
    "status",
    "duration_seconds",
    "channel_type",
    "recording_url",
    "failure_reason",
    "summary",
)
NOT_A_REFERENCE = "That is not a Hamsa conversation ID or link (the step's input was: {given})."
NO_INPUT = "The step got no conversation ID or link: set its input in Workflow Builder."


def step_outputs(conversation: Conversation, *, show_numbers: bool) -> dict[str, Any]:
    """The step's outputs; those Hamsa does not know yet (a duration, a recording) are left out."""
    mask = phone_mask(conversation, show_numbers=show_numbers)
    status = conversation.status
    outputs: dict[str, Any] = {
        "title": inline(title_of(conversation, 200, mask), 250),
        "status": status_word(status) or inline((status or "unknown").lower(), 40),
        "summary": summary_text(conversation, show_numbers=show_numbers),
    }
    if conversation.call_duration:
        outputs["duration_seconds"] = round(conversation.call_duration)
    channel = channel_label(conversation.channel_type)
    if channel != UNKNOWN:
        outputs["channel_type"] = channel
    url = recording_url(conversation)
    if url:
        outputs["recording_url"] = url
    if conversation.failure_reason:
        outputs["failure_reason"] = inline(conversation.failure_reason, 1000, mask)
    return outputs


def not_a_reference(given: object) -> str:
    """Why the step failed when its input is no conversation (the input quoted, escaped and bounded)."""
    text = given if isinstance(given, str) else ""
    return NOT_A_REFERENCE.format(given=inline(text, 100)) if text.strip() else NO_INPUT
