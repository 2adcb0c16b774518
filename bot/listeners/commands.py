"""``/hamsa``: acknowledged at once, answered privately through the response_url.

``/hamsa <ID or link>`` previews a call; a first word found in ``SUBCOMMANDS`` (``/hamsa recent …``)
hands the rest of the text to that feature's handler, which answers the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.following import alerts
from bot.following.previews import RESPONSE_URL, Preview
from bot.listeners import workspace_settings
from bot.listeners.payload import text
from bot.listeners.recent import recent
from bot.looks import Look
from bot.messages import NOT_A_REFERENCE, USAGE, notice_blocks
from bot.policy import Place
from bot.refs import parse_conversation_ref
from bot.services import Services
from bot.workspaces import Workspace

HELP_WORDS = frozenset({"", "help", "-h", "--help", "?"})


@dataclass(frozen=True, slots=True)
class Command:
    """One ``/hamsa`` as Slack sent it: who, where, what followed the subcommand, and where to answer."""

    context: AsyncBoltContext
    body: dict[str, Any]
    args: str  # the text after the subcommand's word (the whole text for a preview)
    ref: str

    @property
    def response_url(self) -> str:
        return text(self.body, "response_url")

    @property
    def user_id(self) -> str:
        return text(self.body, "user_id")

    @property
    def channel_id(self) -> str:
        return text(self.body, "channel_id")

    async def answer(self, services: Services, **message: Any) -> bool:
        """A private answer to whoever typed the command."""
        return await services.delivery.respond(self.response_url, self.ref, response_type="ephemeral", **message)


Subcommand = Callable[[Services, Workspace, Command], Awaitable[None]]
# The first word of the text → the feature that answers it.
SUBCOMMANDS: dict[str, Subcommand] = {
    "recent": recent,
    "mute": workspace_settings.mute,
    "unmute": workspace_settings.unmute,
    "settings": workspace_settings.show_settings,
    "subscribe": alerts.subscribe,
    "unsubscribe": alerts.unsubscribe,
    "subscriptions": alerts.subscriptions,
}


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/hamsa")
    async def hamsa_command(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()  # first, whatever Hamsa does: Slack gives up after 3 seconds
        ref = context["ref"]
        tell = services.tell_privately(text(command, "response_url"), ref)
        services.background.spawn(answer(services, context, command, ref), ref, tell=tell)


async def answer(services: Services, context: AsyncBoltContext, body: dict[str, Any], ref: str) -> None:
    said = text(body, "text").strip()
    if said.lower() in HELP_WORDS:
        await Command(context, body, said, ref).answer(services, text=USAGE, blocks=notice_blocks(USAGE))
        return
    word, _, rest = said.partition(" ")
    handler = SUBCOMMANDS.get(word.lower())
    workspace = await services.workspace(context)
    if handler is not None:
        await handler(services, workspace, Command(context, body, rest.strip(), ref))
        return
    await preview(services, workspace, Command(context, body, said, ref))


async def preview(services: Services, workspace: Workspace, command: Command) -> None:
    """``/hamsa <ID or link>``: the call's summary, just for the person, with Share in channel."""
    conversation_id = parse_conversation_ref(command.args, workspace.policy.link_domains)
    if conversation_id is None:
        blocks = notice_blocks(NOT_A_REFERENCE, with_usage=True)
        await command.answer(services, text=NOT_A_REFERENCE, blocks=blocks)
        return
    found = await services.lookup(workspace, conversation_id, command.ref)
    look = Look(place=Place.PRIVATE, share_button=True)
    if (
        await command.answer(services, **found.message(lambda c: services.show(workspace, c, look)))
        and found.conversation
    ):
        place = Preview(RESPONSE_URL, look, response_url=command.response_url)
        await services.remember(workspace, found.conversation, place)
