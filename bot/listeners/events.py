"""Events API: link unfurls and ``@Hamsa`` mentions. Bolt acknowledges events before these run."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.actions import is_slack_ts
from bot.listeners.payload import part, text
from bot.messages import NO_REFERENCE_IN_MESSAGE, notice_blocks
from bot.models import Conversation
from bot.refs import conversation_id_from_url, find_conversation_refs
from bot.render.summary import render_condensed, render_summary, summary_text
from bot.services import Services

logger = logging.getLogger(__name__)

MAX_LINKS = 10
MAX_MENTIONED = 5
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def register(app: AsyncApp, services: Services) -> None:
    @app.event("link_shared")
    async def link_shared(body: dict[str, Any], context: AsyncBoltContext) -> None:
        _first_delivery_only(services, body, context["ref"], unfurl)

    @app.event("app_mention")
    async def app_mention(body: dict[str, Any], context: AsyncBoltContext) -> None:
        _first_delivery_only(services, body, context["ref"], answer_mention)

    @app.event(re.compile(".*"))
    async def other_event(event: dict[str, Any], context: AsyncBoltContext) -> None:
        # Subscribed events the app has no use for are acknowledged quietly, never refused.
        logger.debug("event ignored ref=%s type=%.40s", context["ref"], event.get("type"))


def _first_delivery_only(
    services: Services,
    body: dict[str, Any],
    ref: str,
    work: Callable[[Services, dict[str, Any], str], Coroutine[Any, Any, None]],
) -> None:
    """Starts ``work`` for an event unless Slack already delivered it (retries carry the same event_id)."""
    event_id = body.get("event_id")
    if services.first_delivery(event_id):
        services.background.spawn(work(services, part(body, "event"), ref), ref)
    else:
        logger.info("duplicate event ignored ref=%s event_id=%.40s", ref, event_id)


async def unfurl(services: Services, event: dict[str, Any], ref: str) -> None:
    """One chat.unfurl per event: a full summary for one conversation, condensed ones for several."""
    domains = services.settings.hamsa_link_domains
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
        found = [await services.lookup(ids[0], ref)]
    else:
        found = await asyncio.gather(*(services.lookup(conversation_id, ref) for conversation_id in ids))
    conversations = {c.id: c for c in found if isinstance(c, Conversation)}
    if not conversations:
        return  # missing or unreadable: skipped quietly (each was logged by the lookup)
    show_number = services.caller_number_visible(private=False)  # an unfurl is seen by the whole channel
    unfurls: dict[str, Any] = {}
    for url, conversation_id in by_url.items():
        conversation = conversations.get(conversation_id)
        if conversation is None:
            continue
        if len(ids) == 1:
            blocks = render_summary(conversation, show_caller_number=show_number)
        else:
            blocks = render_condensed(conversation)
        unfurls[url] = {"blocks": blocks}
    await services.delivery.unfurl(ref, unfurls=unfurls, event=event)


async def answer_mention(services: Services, event: dict[str, Any], ref: str) -> None:
    """Answer in the thread the app was mentioned in (starting one under a top-level message)."""
    channel = event.get("channel")
    thread_ts = event.get("thread_ts") or event.get("ts")
    if not isinstance(channel, str) or not is_slack_ts(thread_ts):
        return
    said = _MENTION.sub(" ", text(event, "text"))
    ids = find_conversation_refs(said, services.settings.hamsa_link_domains, limit=MAX_MENTIONED)
    if not ids:
        message: dict[str, Any] = {
            "text": NO_REFERENCE_IN_MESSAGE,
            "blocks": notice_blocks(NO_REFERENCE_IN_MESSAGE, with_usage=True),
        }
    else:
        found = await asyncio.gather(*(services.lookup(conversation_id, ref) for conversation_id in ids))
        if len(found) == 1:
            only = found[0]
            message = services.summary(only, private=False) if isinstance(only, Conversation) else only
        else:
            message = _several(found)
    await services.delivery.post(ref, channel=channel, thread_ts=thread_ts, **message)


def _several(found: list[Conversation | dict[str, Any]]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    lines: list[str] = []
    for item in found:
        if isinstance(item, Conversation):
            blocks.extend(render_condensed(item))
            lines.append(summary_text(item))
        else:
            blocks.extend(item["blocks"])
            lines.append(item["text"])
    return {"text": "\n".join(lines), "blocks": blocks}
