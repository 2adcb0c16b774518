"""``/hamsa <ID or link>``: acknowledged at once, answered privately through the response_url."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.actions import share_button
from bot.messages import NOT_A_REFERENCE, USAGE, notice_blocks
from bot.refs import parse_conversation_ref
from bot.services import Services

HELP_WORDS = frozenset({"", "help", "-h", "--help", "?"})


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/hamsa")
    async def hamsa_command(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()  # first, whatever Hamsa does: Slack gives up after 3 seconds
        ref = context["ref"]
        response_url = str(command.get("response_url") or "")
        tell = services.tell_privately(response_url, ref)
        services.background.spawn(answer(services, context, command, response_url, ref), ref, tell=tell)


async def answer(
    services: Services, context: AsyncBoltContext, command: dict[str, Any], response_url: str, ref: str
) -> None:
    text = str(command.get("text") or "").strip()
    if text.lower() in HELP_WORDS:
        await services.delivery.respond(response_url, ref, text=USAGE, blocks=notice_blocks(USAGE))
        return
    workspace = await services.workspace(context)
    conversation_id = parse_conversation_ref(text, workspace.policy.link_domains)
    if conversation_id is None:
        blocks = notice_blocks(NOT_A_REFERENCE, with_usage=True)
        await services.delivery.respond(response_url, ref, text=NOT_A_REFERENCE, blocks=blocks)
        return
    found = await services.lookup(workspace, conversation_id, ref)
    message = found.message(lambda c: services.summary(workspace, c, private=True, extra_buttons=(share_button(c.id),)))
    await services.delivery.respond(response_url, ref, response_type="ephemeral", **message)
