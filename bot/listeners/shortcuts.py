"""The message shortcut "Preview Hamsa conversation": a private preview that can be posted in the thread."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.actions import PREVIEW_SHORTCUT, is_slack_ts
from bot.following.previews import RESPONSE_URL, Preview
from bot.hamsa.models import Conversation
from bot.listeners.payload import message_text, part, text
from bot.looks import Look
from bot.messages import NO_REFERENCE_IN_MESSAGE, notice_blocks
from bot.policy import Place
from bot.refs import find_conversation_refs
from bot.services import Services


def register(app: AsyncApp, services: Services) -> None:
    @app.message_shortcut(PREVIEW_SHORTCUT)
    async def preview(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        ref = context["ref"]
        response_url = text(body, "response_url")
        tell = services.tell_privately(response_url, ref)
        work = answer(services, context, part(body, "message"), response_url, ref)
        services.background.spawn(work, ref, tell=tell)


async def answer(
    services: Services, context: AsyncBoltContext, message: dict[str, Any], response_url: str, ref: str
) -> None:
    workspace = await services.workspace(context)
    thread_ts = next((ts for ts in (message.get("thread_ts"), message.get("ts")) if is_slack_ts(ts)), None)
    ids = find_conversation_refs(message_text(message), workspace.policy.link_domains, limit=1)
    if not ids:
        blocks = notice_blocks(NO_REFERENCE_IN_MESSAGE, with_usage=True)
        await services.delivery.respond(response_url, ref, text=NO_REFERENCE_IN_MESSAGE, blocks=blocks)
        return

    def preview(conversation: Conversation) -> dict[str, Any]:
        return services.show(workspace, conversation, Look(place=Place.PRIVATE, post_in_thread_ts=thread_ts))

    found = await services.lookup(workspace, ids[0], ref)
    answered = await services.delivery.respond(response_url, ref, response_type="ephemeral", **found.message(preview))
    if answered and found.conversation is not None:
        look = Look(place=Place.PRIVATE, post_in_thread_ts=thread_ts)
        await services.remember(workspace, found.conversation, Preview(RESPONSE_URL, look, response_url=response_url))
