"""``hamsa-bot preview``: one conversation's summary (or logs) in the terminal, from Hamsa or the samples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.hamsa.client import HamsaClient
from bot.hamsa.errors import HamsaError
from bot.hamsa.models import Conversation
from bot.messages import NOT_A_REFERENCE, error_text, new_reference, notice_blocks
from bot.policy import Place, Policy
from bot.refs import parse_conversation_ref
from bot.render.logs import render_logs_page
from bot.render.summary import render_summary
from bot.render.terminal import block_kit_builder_url, blocks_to_text
from bot.sandbox.samples import SAMPLES
from bot.settings import Settings


@dataclass(frozen=True)
class Preview:
    blocks: list[dict[str, Any]]
    text: str


def as_preview(blocks: list[dict[str, Any]]) -> Preview:
    return Preview(blocks, f"{blocks_to_text(blocks)}\n\nSee it as Slack draws it: {block_kit_builder_url(blocks)}")


async def preview(settings: Settings, reference: str, *, sample: bool, logs: bool) -> tuple[Preview, int]:
    """The rendered preview and the exit code (0 when the conversation was shown)."""
    conversation_id = parse_conversation_ref(reference, settings.hamsa_link_domains)
    if conversation_id is None:
        return as_preview(notice_blocks(NOT_A_REFERENCE)), 2
    if sample:
        data = SAMPLES.get(conversation_id)
        if data is None:
            known = "\n".join(f"  {sample_id}  {d.get('title')}" for sample_id, d in SAMPLES.items())
            return Preview([], f"No sample with that ID. The samples are:\n{known}"), 1
        conversation = Conversation.model_validate(data)
    else:
        if settings.hamsa_api_key is None:
            return Preview([], "HAMSA_API_KEY is not set (or use --sample for the built-in samples)."), 2
        async with HamsaClient.from_settings(settings) as client:
            try:
                conversation = await client.get_conversation(conversation_id)
            except HamsaError as error:
                ref = new_reference()
                return Preview([], f"{error_text(error, ref)}\n  detail: {error}"), 1
    # As a channel of the organisation sees it, with the settings' defaults (each workspace may change them).
    seen = Policy.defaults(settings).visibility(Place.CHANNEL)
    if logs:
        return as_preview(render_logs_page(conversation, 1, show_caller_number=seen.full_numbers).blocks), 0
    blocks = render_summary(conversation, show_caller_number=seen.full_numbers, recording=seen.recording)
    return as_preview(blocks), 0
