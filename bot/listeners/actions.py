"""Buttons: logs (in the thread, or in place when private), paging, sharing, posting in a thread, recordings."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot import actions
from bot.actions import ButtonValue, is_slack_ts
from bot.following.previews import MESSAGE, Preview
from bot.hamsa.models import Conversation
from bot.listeners.payload import part, text
from bot.looks import Look
from bot.messages import (
    LOGS_ALREADY_POSTED,
    LOGS_FILE_ALREADY_POSTED,
    LOGS_FILE_FAILED,
    LOGS_FILE_IN_MESSAGES,
    LOGS_FILE_IN_THREAD,
    LOGS_FILE_SENT,
    LOGS_NOT_HERE,
    NOT_SHOWN_HERE,
    POSTED_PRIVATELY,
    RECORDING_NOT_HERE,
    TRANSCRIPT_KEPT_PRIVATE,
    notice_blocks,
)
from bot.policy import Place
from bot.render.logs_text import logs_file_title, logs_filename, render_logs_text
from bot.render.summary import phone_mask, render_recording, title_of
from bot.render.text import inline
from bot.services import POSTED_LOGS_MEMORY_SECONDS, Services
from bot.workspaces import Workspace

logger = logging.getLogger(__name__)
# Two fast clicks on Download in a thread post one file.
POSTED_FILE_MEMORY_SECONDS = 60
Handler = Callable[[Services, Workspace, "Click"], Awaitable[None]]
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def register(app: AsyncApp, services: Services) -> None:
    handlers = {
        actions.SHOW_LOGS: show_logs,
        actions.LOGS_PAGE: turn_page,
        actions.LOGS_PAGE_OLDER: turn_page,
        actions.LOGS_ERRORS: turn_page,
        actions.LOGS_ALL: turn_page,
        actions.LOGS_FIRST_ERROR: turn_page,
        actions.LOGS_DOWNLOAD: download_logs,
        actions.SHOW_SUMMARY: back_to_summary,
        actions.SHARE_SUMMARY: post_summary,
        actions.POST_IN_THREAD: post_summary,
        actions.GET_RECORDING: send_recording,
    }

    @app.action(re.compile(".*"))
    async def on_action(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        ref = context["ref"]
        handler = handlers.get(text(action, "action_id"))
        value = actions.decode(action.get("value"))
        if handler is None or value is None:
            # URL buttons (the recording) also send an action; they and unknown ones need only the ack.
            return
        click = Click(body, value, ref, context)
        tell = services.tell_privately(click.response_url, ref)
        services.background.spawn(run(services, handler, click), ref, tell=tell)


async def run(services: Services, handler: Handler, click: Click) -> None:
    """Resolves the clicker's workspace, then handles the click (in the background, after the ack)."""
    await handler(services, await services.workspace(click.context), click)


class Click:
    """Where a button was pressed: the channel, the thread, and whether the message was private."""

    def __init__(self, body: dict[str, Any], value: ButtonValue, ref: str, context: AsyncBoltContext) -> None:
        self.context = context
        container, message, channel = part(body, "container"), part(body, "message"), part(body, "channel")
        self.value = value
        self.ref = ref
        self.response_url = text(body, "response_url")
        self.private = bool(container.get("is_ephemeral")) or (not message and not container.get("is_app_unfurl"))
        self.channel = container.get("channel_id") or channel.get("id")
        # Logs go under the thread's root, also when the button sits on a reply inside the thread.
        candidates = (
            value.thread_ts,
            message.get("thread_ts"),
            container.get("thread_ts"),
            container.get("message_ts"),
            message.get("ts"),
        )
        self.thread_ts = next((ts for ts in candidates if is_slack_ts(ts)), None)
        user_id = text(part(body, "user"), "id")
        self.user_id = user_id if _USER_ID.match(user_id) else None


async def _clicked_conversation(services: Services, workspace: Workspace, click: Click) -> Conversation | None:
    """The conversation of the clicked button; when it can't be had, the clicker is told privately.

    It is looked up with the clicker's own workspace's key: a button value naming a conversation of
    another workspace (forged, or pasted across) finds nothing.
    """
    found = await services.lookup(workspace, click.value.conversation_id, click.ref)
    if found.conversation is None:
        await services.delivery.respond(click.response_url, click.ref, replace_original=False, **found.notice_message())
    return found.conversation


async def _place(services: Services, workspace: Workspace, click: Click) -> Place:
    """Who sees the message the button sits on."""
    return Place.PRIVATE if click.private else await services.place(workspace, click.channel)


async def _say_privately(services: Services, click: Click, notice: str) -> None:
    await services.tell_privately(click.response_url, click.ref)(notice)


async def show_logs(services: Services, workspace: Workspace, click: Click) -> None:
    """The logs in the thread; or in place when the message was private; or privately when this channel
    may see no transcript (the workspace's settings), or the bot can't post here.
    """
    found = await _clicked_conversation(services, workspace, click)
    if found is None:
        return
    if click.private or not click.channel or not click.thread_ts:
        page = services.logs_page(workspace, found, 1, private=True)
        await services.delivery.respond(
            click.response_url, click.ref, replace_original=True, text=page.text, blocks=page.blocks
        )
        return
    place = await _place(services, workspace, click)
    seen = services.visibility(workspace, place)
    if not seen.logs:
        await _say_privately(services, click, LOGS_NOT_HERE)
        return
    if not seen.quotes:
        await _respond_privately(services, workspace, click, found, TRANSCRIPT_KEPT_PRIVATE)
        return
    page = services.logs_page(workspace, found, 1, private=False, place=place)
    # Remembered before the post, so a second fast click sees it; forgotten if the post fails.
    key = f"logs:{workspace.key.id}:{click.channel}:{click.thread_ts}:{found.id}"
    if not await services.state.first(key, POSTED_LOGS_MEMORY_SECONDS):
        await _say_privately(services, click, LOGS_ALREADY_POSTED)
        return
    posted = await services.delivery.post(
        workspace.slack, click.ref, channel=click.channel, thread_ts=click.thread_ts, text=page.text, blocks=page.blocks
    )
    if posted is None:
        await services.state.forget(key)
        await _respond_privately(services, workspace, click, found, POSTED_PRIVATELY)


async def _respond_privately(
    services: Services, workspace: Workspace, click: Click, conversation: Conversation, why: str, page: int = 1
) -> None:
    """A logs page for the clicker alone, under a note saying why it is not in the thread."""
    private = services.logs_page(workspace, conversation, page, private=True)
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": why}]}
    await services.delivery.respond(
        click.response_url,
        click.ref,
        response_type="ephemeral",
        replace_original=False,
        text=private.text,
        blocks=[note, *private.blocks],
    )


async def turn_page(services: Services, workspace: Workspace, click: Click) -> None:
    found = await _clicked_conversation(services, workspace, click)
    if found is None:
        return
    place = await _place(services, workspace, click)
    seen = services.visibility(workspace, place)
    # Logs posted before the workspace kept them out of this channel: no further page there.
    if not seen.logs:
        await _say_privately(services, click, LOGS_NOT_HERE)
        return
    if not seen.quotes:
        await _respond_privately(services, workspace, click, found, TRANSCRIPT_KEPT_PRIVATE, click.value.page)
        return
    page = services.logs_page(
        workspace, found, click.value.page, private=click.private, place=place, errors_only=click.value.errors
    )
    await services.delivery.respond(
        click.response_url, click.ref, replace_original=True, text=page.text, blocks=page.blocks
    )


async def download_logs(services: Services, workspace: Workspace, click: Click) -> None:
    """The whole call as a text file: in the thread the logs are in, or privately in the app's messages.

    A long call is read in a worker thread: masking numbers in 10,000 entries takes about a second.
    """
    found = await _clicked_conversation(services, workspace, click)
    if found is None:
        return
    seen = services.visibility(workspace, await _place(services, workspace, click))
    # Into the thread only where the workspace posts logs and transcripts; else privately.
    if not click.private and click.channel and click.thread_ts and seen.logs and seen.quotes:
        key = f"logs-file:{workspace.key.id}:{click.channel}:{click.thread_ts}:{found.id}"
        if not await services.state.first(key, POSTED_FILE_MEMORY_SECONDS):
            await _say_privately(services, click, LOGS_FILE_ALREADY_POSTED)
            return
        show_numbers = seen.full_numbers
        title = inline(title_of(found, 120, phone_mask(found, show_numbers=show_numbers)), 200)
        who = f"<@{click.user_id}>" if click.user_id else "someone"
        posted = await services.delivery.upload(
            workspace.slack,
            click.ref,
            channel=click.channel,
            thread_ts=click.thread_ts,
            filename=logs_filename(found),
            content=await asyncio.to_thread(render_logs_text, found, show_numbers=show_numbers),
            title=logs_file_title(found, show_numbers=show_numbers),
            initial_comment=LOGS_FILE_IN_THREAD.format(title=title, who=who),
        )
        if posted:
            return
        await services.state.forget(key)
    if click.user_id is None:
        await _say_privately(services, click, LOGS_FILE_FAILED)
        return
    intro = LOGS_FILE_IN_MESSAGES.format(title=inline(title_of(found, 120), 200))
    direct = await services.delivery.post_direct(
        workspace.slack, click.ref, user_id=click.user_id, text=intro, blocks=notice_blocks(intro)
    )
    sent = direct is not None and await services.delivery.upload(
        workspace.slack,
        click.ref,
        channel=direct,
        filename=logs_filename(found),
        content=await asyncio.to_thread(render_logs_text, found, show_numbers=True),
        title=logs_file_title(found, show_numbers=True),
    )
    await _say_privately(services, click, LOGS_FILE_SENT if sent else LOGS_FILE_FAILED)


async def back_to_summary(services: Services, workspace: Workspace, click: Click) -> None:
    found = await services.lookup(workspace, click.value.conversation_id, click.ref)
    message = found.message(lambda c: services.show(workspace, c, Look(place=Place.PRIVATE, share_button=True)))
    await services.delivery.respond(click.response_url, click.ref, replace_original=True, **message)


async def post_summary(services: Services, workspace: Workspace, click: Click) -> None:
    """Share a private summary where everyone can see it: the channel, or the thread it came from."""
    found = await _clicked_conversation(services, workspace, click)
    if found is None:
        return
    place = await services.place(workspace, click.channel)
    if not services.visibility(workspace, place).shown:
        await _say_privately(services, click, NOT_SHOWN_HERE)
        return
    look = Look(place=place, shared_by=click.user_id)
    message = services.show(workspace, found, look)
    thread_ts = click.value.thread_ts
    posted = None
    if click.channel:
        posted = await services.delivery.post(
            workspace.slack, click.ref, channel=click.channel, thread_ts=thread_ts, **message
        )
    if posted is not None and click.channel:
        await services.remember(workspace, found, Preview(MESSAGE, look, channel_id=click.channel, message_ts=posted))
    if posted is None:
        # The bot is not in this conversation; the interaction's response_url can still post there.
        delivered = await services.delivery.respond(
            click.response_url,
            click.ref,
            response_type="in_channel",
            replace_original=False,
            thread_ts=thread_ts,
            **message,
        )
        if not delivered:
            return
    await services.delivery.respond(click.response_url, click.ref, delete_original=True)


async def send_recording(services: Services, workspace: Workspace, click: Click) -> None:
    """The recording's link for the person who pressed the button alone, fetched fresh: signed links expire.

    A button on a message in a channel where the workspace now hands out no recording gets a notice.
    """
    place = await _place(services, workspace, click)
    if not services.visibility(workspace, place).recording:
        await _say_privately(services, click, RECORDING_NOT_HERE)
        return
    found = await services.lookup(workspace, click.value.conversation_id, click.ref, fresh=True)
    message = found.message(render_recording)
    await services.delivery.respond(
        click.response_url, click.ref, response_type="ephemeral", replace_original=False, **message
    )
