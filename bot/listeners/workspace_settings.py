"""Each workspace decides: ``/hamsa mute|unmute|settings`` in a channel, and the Settings of App Home.

Anyone in a channel may stop or restart its link previews; the channel is told who did. The workspace's
settings are changed in App Home by the people who manage the app. Every change is checked again when it
arrives (anyone could forge one), goes through ``Workspaces.change_settings`` (which logs who changed what
and clears the cached policy, so the next request on any path follows it), and the Home tab is published
again for the person who made it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.listeners.home import BAD_DOMAINS, NOT_A_MANAGER, publish_home
from bot.listeners.payload import part, text
from bot.messages import notice_blocks
from bot.policy import EXTRA_LINK_DOMAINS, MAX_EXTRA_DOMAINS, parse_domains, parse_switch
from bot.render.modals import DOMAINS_BLOCK, FIELD, LINK_DOMAINS_VIEW, link_domains_modal
from bot.render.settings import (
    ALREADY_MUTED,
    EDIT_LINK_DOMAINS,
    MUTED_NOTICE,
    NO_CHANNEL,
    NOT_MUTED,
    SWITCH_ACTION,
    UNMUTED_NOTICE,
    ChannelFacts,
    channel_settings,
)
from bot.services import Services
from bot.workspaces import Workspace

if TYPE_CHECKING:  # commands.py lists these handlers, so it can't be imported from here at run time
    from bot.listeners.commands import Command

logger = logging.getLogger(__name__)

TOO_MANY_DOMAINS = f"At most {MAX_EXTRA_DOMAINS} hosts."
_CHANNEL = re.compile(r"^[CDG][A-Z0-9]{2,30}$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def register(app: AsyncApp, services: Services) -> None:
    @app.action(re.compile("^" + re.escape(SWITCH_ACTION)))
    async def switch_changed(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        user = text(part(body, "user"), "id")
        key = text(action, "action_id").removeprefix(SWITCH_ACTION)
        option = text(part(action, "selected_option"), "value")
        services.background.spawn(change_switch(services, context, user, key, option), context["ref"])

    @app.action(EDIT_LINK_DOMAINS)
    async def edit_domains_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        user = text(part(body, "user"), "id")
        work = open_link_domains(services, context, user, text(body, "trigger_id"))
        services.background.spawn(work, context["ref"])

    @app.view(LINK_DOMAINS_VIEW)
    async def domains_submitted(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await submit_link_domains(services, context, ack, body)


# ---- App Home ---------------------------------------------------------------------------------


async def change_switch(services: Services, context: AsyncBoltContext, user_id: str, key: str, option: str) -> None:
    """One of App Home's selects: a manager chose ``option`` for the switch ``key``."""
    ref = context["ref"]
    workspace = await services.workspace(context)
    if not await services.workspaces.can_manage(workspace, user_id):
        logger.warning(
            "refused: setting changed by someone who may not manage ref=%s user=%.40s", context["ref"], user_id
        )
        return
    value = parse_switch(key, option)
    if value is None:
        logger.info("setting ignored ref=%s setting=%.60s: not one of its options", ref, key)
        return
    if workspace.policy.switch(key) != option:
        await services.workspaces.change_settings(workspace.key, {key: value}, user_id=user_id)
    await publish_home(services, context, user_id)


async def open_link_domains(services: Services, context: AsyncBoltContext, user_id: str, trigger_id: str) -> None:
    workspace = await services.workspace(context)
    if not await services.workspaces.can_manage(workspace, user_id):
        logger.warning("refused: link domains by someone who may not manage ref=%s user=%.40s", context["ref"], user_id)
        return
    try:
        await workspace.slack.views_open(
            trigger_id=trigger_id, view=link_domains_modal(workspace.policy.extra_link_domains)
        )
    except SlackApiError as error:
        logger.warning("views.open failed ref=%s error=%.60s", context["ref"], error.response.get("error"))


async def submit_link_domains(
    services: Services, context: AsyncBoltContext, ack: AsyncAck, body: dict[str, Any]
) -> None:
    """The link domains modal: checked (who, and each host) within Slack's 3 seconds, then stored."""
    ref = context["ref"]
    workspace = await services.workspace(context)
    user_id = text(part(body, "user"), "id")
    if not await services.workspaces.can_manage(workspace, user_id):
        logger.warning("refused: link domains submitted by someone who may not manage ref=%s user=%.40s", ref, user_id)
        managers = services.workspaces.managers_in_words(workspace)
        await ack(response_action="errors", errors={DOMAINS_BLOCK: NOT_A_MANAGER.format(managers=managers)})
        return
    values = part(part(part(body, "view"), "state"), "values")
    domains, bad = parse_domains(text(part(part(values, DOMAINS_BLOCK), FIELD), "value"))
    if bad:
        await ack(response_action="errors", errors={DOMAINS_BLOCK: BAD_DOMAINS.format(bad=", ".join(bad))[:150]})
        return
    if len(domains) > MAX_EXTRA_DOMAINS:
        await ack(response_action="errors", errors={DOMAINS_BLOCK: TOO_MANY_DOMAINS})
        return
    await ack()
    services.background.spawn(_save_link_domains(services, context, workspace, user_id, domains), ref)


async def _save_link_domains(
    services: Services, context: AsyncBoltContext, workspace: Workspace, user_id: str, domains: tuple[str, ...]
) -> None:
    if domains != workspace.policy.extra_link_domains:
        await services.workspaces.change_settings(workspace.key, {EXTRA_LINK_DOMAINS: list(domains)}, user_id=user_id)
    await publish_home(services, context, user_id)


# ---- /hamsa mute, unmute, settings -----------------------------------------------------------------


async def mute(services: Services, workspace: Workspace, command: Command) -> None:
    """``/hamsa mute``: links posted in this channel stop unfurling; explicit requests are still answered."""
    await _set_muted(services, workspace, command, muted=True)


async def unmute(services: Services, workspace: Workspace, command: Command) -> None:
    """``/hamsa unmute``: links posted in this channel unfurl again."""
    await _set_muted(services, workspace, command, muted=False)


async def _set_muted(services: Services, workspace: Workspace, command: Command, *, muted: bool) -> None:
    channel, user = command.channel_id, command.user_id
    if not _CHANNEL.match(channel) or not _USER.match(user):
        await command.answer(services, text=NO_CHANNEL, blocks=notice_blocks(NO_CHANNEL))
        return
    if workspace.policy.is_muted(channel) == muted:
        already = ALREADY_MUTED if muted else NOT_MUTED
        await command.answer(services, text=already, blocks=notice_blocks(already))
        return
    await services.workspaces.mute(workspace.key, channel, muted=muted, user_id=user)
    notice = (MUTED_NOTICE if muted else UNMUTED_NOTICE).format(user=user)
    blocks = notice_blocks(notice)
    if await services.delivery.post(workspace.slack, command.ref, channel=channel, text=notice, blocks=blocks) is None:
        # The bot is not in this channel; the command's response_url can still post there.
        await services.delivery.respond(
            command.response_url, command.ref, response_type="in_channel", text=notice, blocks=blocks
        )


async def show_settings(services: Services, workspace: Workspace, command: Command) -> None:
    """``/hamsa settings``: this channel's state and the workspace's settings, just for the person."""
    channel = command.channel_id
    if not _CHANNEL.match(channel):
        await command.answer(services, text=NO_CHANNEL, blocks=notice_blocks(NO_CHANNEL))
        return
    muted = await services.store.workspaces.muted_channel(workspace.key, channel)
    facts = ChannelFacts(
        muted_by=muted.muted_by if muted else None,
        muted_at=muted.muted_at if muted else None,
        shared=await services.sharing.shared(workspace, channel),
    )
    managers = services.workspaces.managers_in_words(workspace)
    await command.answer(services, **channel_settings(workspace.policy, facts, managers=managers))
