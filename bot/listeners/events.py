"""Events API: link unfurls and ``@Hamsa`` mentions. Bolt acknowledges events before these run."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.actions import is_slack_ts
from bot.delivery import in_composer
from bot.following.previews import MESSAGE, UNFURL, Preview
from bot.listeners.payload import part, text
from bot.looks import Look
from bot.messages import NO_REFERENCE_IN_MESSAGE, NOT_SHOWN_HERE, notice_blocks
from bot.policy import Place
from bot.refs import conversation_id_from_url, linked_and_bare_refs
from bot.services import Lookup, Services
from bot.workspaces import Workspace

logger = logging.getLogger(__name__)

MAX_LINKS = 10
MAX_MENTIONED = 5
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def register(app: AsyncApp, services: Services) -> None:
    @app.event("link_shared")
    async def link_shared(body: dict[str, Any], context: AsyncBoltContext) -> None:
        ref, event_id = context["ref"], body.get("event_id")
        if not await services.first_delivery(context, event_id):  # Slack's retries carry the same event_id
            logger.info("duplicate event ignored ref=%s event_id=%.40s", ref, event_id)
            return
        # Nobody asked for an unfurl, so there is nobody to tell if it fails: it is only logged.
        shared = body.get("is_ext_shared_channel")
        services.background.spawn(unfurl(services, context, part(body, "event"), ref, shared), ref)

    @app.event("app_mention")
    async def app_mention(body: dict[str, Any], context: AsyncBoltContext) -> None:
        ref = context["ref"]
        mention = Mention.read(part(body, "event"))
        if mention is None:
            return
        # Retries and edits of the message arrive as new deliveries of the same channel and ts.
        if not await services.first_mention(context, mention.channel, mention.ts, edited=mention.edited):
            logger.info("mention already answered ref=%s", ref)
            return
        tell = services.tell_in_thread(context.client, mention.channel, mention.thread_ts, ref)
        shared = body.get("is_ext_shared_channel")
        services.background.spawn(answer_mention(services, context, mention, ref, shared), ref, tell=tell)


async def unfurl(
    services: Services, context: AsyncBoltContext, event: dict[str, Any], ref: str, shared: object = None
) -> None:
    """One chat.unfurl per event: a full summary for one conversation, condensed ones for several.

    ``shared`` is the envelope's ``is_ext_shared_channel``. Until the workspace connects Hamsa, links stay
    plain: nothing calls Hamsa, and nobody is told. Links stay plain too in a muted channel, in shared
    channels the workspace shows nothing in, and in the message composer when the unfurl would depend on
    the channel (composer events name none): the posted message's own event unfurls them then.
    """
    workspace = await services.workspace(context)
    if workspace.hamsa is None:
        return
    if in_composer(event):
        if not workspace.policy.channel_blind:
            return
        place = Place.CHANNEL
    else:
        channel = text(event, "channel")
        if workspace.policy.is_muted(channel):
            return
        place = await services.place(workspace, channel, said=shared)
        if not services.visibility(workspace, place).shown:
            return
    domains = workspace.policy.link_domains
    links = event.get("links")
    by_url: dict[str, str] = {}
    for link in links[:MAX_LINKS] if isinstance(links, list) else []:
        url = text(link, "url")
        conversation_id = conversation_id_from_url(url, domains)
        if conversation_id:
            by_url[url] = conversation_id
    ids = list(dict.fromkeys(by_url.values()))
    if not ids:
        return
    if len(ids) == 1:  # the usual case: awaited directly, without a task per lookup
        found = [await services.lookup(workspace, ids[0], ref)]
    else:
        found = await asyncio.gather(*(services.lookup(workspace, conversation_id, ref) for conversation_id in ids))
    conversations = {c.id: c for c in (f.conversation for f in found) if c is not None}
    if not conversations:
        return  # missing or unreadable: skipped quietly (each was logged by the lookup)
    # A click inside an unfurl does not say which thread its message is in, so the logs button
    # carries the thread of a link posted as a reply.
    thread_ts = event.get("thread_ts") if is_slack_ts(event.get("thread_ts")) else None
    # An unfurl is seen by the whole channel.
    look = Look(place=place, condensed=len(ids) > 1, logs_thread_ts=thread_ts)
    shown = {url: conversations[c] for url, c in by_url.items() if c in conversations}
    unfurls = {url: {"blocks": services.show(workspace, c, look)["blocks"]} for url, c in shown.items()}
    unfurled = await services.delivery.unfurl(workspace.slack, ref, unfurls=unfurls, event=event)
    message_ts = event.get("message_ts")
    if unfurled and not in_composer(event) and is_slack_ts(message_ts):
        # Unfurls of calls still going are drawn again as they change (a composer's can't be).
        for url, conversation in shown.items():
            preview = Preview(UNFURL, look, channel_id=text(event, "channel"), message_ts=str(message_ts), url=url)
            await services.remember(workspace, conversation, preview)


@dataclass(frozen=True, slots=True)
class Mention:
    """A message mentioning the app, and the thread its answer goes to."""

    channel: str
    ts: str
    thread_ts: str  # the message's thread, or a new one under the message
    text: str
    edited: bool

    @classmethod
    def read(cls, event: dict[str, Any]) -> Mention | None:
        channel, ts = event.get("channel"), event.get("ts")
        thread_ts = event.get("thread_ts") or ts
        if not isinstance(channel, str) or not is_slack_ts(ts) or not is_slack_ts(thread_ts):
            return None
        return cls(channel, str(ts), str(thread_ts), text(event, "text"), "edited" in event)


async def answer_mention(
    services: Services, context: AsyncBoltContext, mention: Mention, ref: str, shared: object = None
) -> None:
    """Answer in the thread with what the message's own link unfurls do not show.

    Slack unfurls the message's conversation links with the full summary, so those are not repeated:
    bare IDs get their summary (condensed when there are several), a link gets words only when its
    conversation can't be shown (its unfurl then stays plain), and a message whose references are
    all links that unfurl gets no reply. In a muted channel links don't unfurl, so they are answered
    like bare IDs. Until the workspace connects Hamsa, its links can't unfurl, so any reference gets
    the one notice saying so. ``shared`` is the envelope's ``is_ext_shared_channel``.
    """
    workspace = await services.workspace(context)
    linked, bare = linked_and_bare_refs(_MENTION.sub(" ", mention.text), workspace.policy.link_domains)
    if workspace.policy.is_muted(mention.channel):
        linked, bare = [], list(dict.fromkeys(linked + bare))
    linked = linked[:MAX_LINKS]
    bare = [conversation_id for conversation_id in bare if conversation_id not in linked][:MAX_MENTIONED]
    place = await services.place(workspace, mention.channel, said=shared)
    found: list[Lookup] = []
    if not linked and not bare:
        message = {"text": NO_REFERENCE_IN_MESSAGE, "blocks": notice_blocks(NO_REFERENCE_IN_MESSAGE, with_usage=True)}
    elif workspace.hamsa is None:
        notice = services.not_connected(workspace)
        message = {"text": notice, "blocks": notice_blocks(notice)}
    elif not services.visibility(workspace, place).shown:
        message = {"text": NOT_SHOWN_HERE, "blocks": notice_blocks(NOT_SHOWN_HERE)}
    else:
        found = list(
            await asyncio.gather(
                *(services.lookup(workspace, conversation_id, ref) for conversation_id in bare + linked)
            )
        )
        shown = found[: len(bare)] + [item for item in found[len(bare) :] if item.conversation is None]
        if not shown:
            return
        message = _answer(services, workspace, shown, place)
    ts = await services.delivery.post(
        workspace.slack, ref, channel=mention.channel, thread_ts=mention.thread_ts, **message
    )
    only = found[0].conversation if found and len(bare) == 1 and not linked else None
    if ts and only is not None:
        preview = Preview(MESSAGE, Look(place=place), channel_id=mention.channel, message_ts=ts)
        await services.remember(workspace, only, preview)


def _answer(services: Services, workspace: Workspace, found: list[Lookup], place: Place) -> dict[str, Any]:
    """One conversation gets its summary; several get a condensed line (or a notice) each."""
    if len(found) == 1:
        return found[0].message(lambda c: services.show(workspace, c, Look(place=place)))
    parts = [item.message(lambda c: services.show(workspace, c, Look(place=place, condensed=True))) for item in found]
    return {"text": "\n".join(p["text"] for p in parts), "blocks": [b for p in parts for b in p["blocks"]]}


def register_catch_all(app: AsyncApp) -> None:
    """After every module's own events: subscribed events the app has no use for, acknowledged quietly."""

    @app.event(re.compile(".*"))
    async def other_event(event: dict[str, Any], context: AsyncBoltContext) -> None:
        logger.debug("event ignored ref=%s type=%.40s", context["ref"], event.get("type"))
