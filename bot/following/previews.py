"""Previews that update themselves: places showing a call that is not settled yet, drawn again when it changes.

Whenever the app shows a call that is still going (pending, in progress) or finished but still being
processed (no recording or transcript yet) somewhere it can change later, it remembers the place for a
while: an unfurl (its channel, message and link; composer unfurls can't be changed), a message it
posted (``chat.update``), an alert, or a private answer while its response_url lasts (30 minutes, 5
uses). When the call changes (a webhook, or a poll), every remembered place is drawn again, showing
when it was updated; once the call is settled the places are forgotten.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, select, update

from bot.following.outbox import insert_or_ignore
from bot.following.pacing import TIER_3
from bot.following.worker import Later, Retry
from bot.hamsa.models import Conversation
from bot.looks import Look
from bot.workspaces import Workspace

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)

PREVIEW_SECONDS = 6 * 3600.0
RESPONSE_URL_SECONDS = 30 * 60.0
RESPONSE_URL_USES = 5  # Slack's limit; the first answer used one
POLL_FOR_SECONDS = 2 * 3600.0
POLL_MAX_INTERVAL = 120.0
# Slack's answers that mean the place is gone (deleted message, archived channel): forget it.
GONE = frozenset(
    {
        "cannot_find_message",
        "message_not_found",
        "channel_not_found",
        "is_archived",
        "cannot_unfurl_message",
        "cannot_unfurl_url",
        "not_in_channel",
        "cant_update_message",
        "edit_window_closed",
    }
)
UNFURL, MESSAGE, ALERT, RESPONSE_URL = "unfurl", "message", "alert", "response_url"
USED_UP = "used_up"  # a response_url past its five uses or thirty minutes
POLL = "poll"


@dataclass(frozen=True, slots=True)
class Preview:
    """A place showing a call that the app can change later, and how it shows it."""

    kind: str
    look: Look
    channel_id: str | None = None
    message_ts: str | None = None
    url: str | None = None
    response_url: str | None = None


def fingerprint(conversation: Conversation) -> str:
    """What a preview shows of a call, in a few bytes: when it differs, the preview is out of date."""
    shown = (
        conversation.status,
        conversation.call_duration,
        conversation.media_url,
        conversation.title,
        len(conversation.transcript),
        len(conversation.logs),
        conversation.failure_reason,
        conversation.settled,
    )
    return hashlib.sha256(repr(shown).encode()).hexdigest()


async def remember(services: Services, workspace: Workspace, conversation: Conversation, place: Preview) -> None:
    """Keeps ``place`` up to date with ``conversation`` while the call is not settled."""
    if conversation.settled:
        return
    if place.kind == RESPONSE_URL and services.store.box is None:
        return  # a response_url is a capability to post: kept only sealed, so only with ENCRYPTION_KEYS
    now = time.time()
    lasts = RESPONSE_URL_SECONDS if place.kind == RESPONSE_URL else PREVIEW_SECONDS
    values: dict[str, Any] = {
        "workspace_id": workspace.key.id,
        "conversation_id": conversation.id,
        "place": place.kind,
        "channel_id": place.channel_id,
        "message_ts": place.message_ts,
        "url": place.url,
        "response_url": place.response_url,
        "uses_left": RESPONSE_URL_USES - 1 if place.kind == RESPONSE_URL else None,
        "look": place.look.to_json(),
        "shown": fingerprint(conversation),
        "created_at": now,
        "expires_at": now + lasts,
    }
    store = services.store
    async with store.engine.begin() as db:
        await db.execute(insert_or_ignore(store.engine.dialect.name, store.tables.live_previews, values))
    await watch(services, workspace, conversation)


async def watch(services: Services, workspace: Workspace, conversation: Conversation) -> None:
    """Polls the call when nothing else will say it changed.

    A workspace that sends no webhooks gets its live calls polled. Every workspace gets its calls polled
    while Hamsa is still processing them: no webhook says when the recording or transcript is added.
    """
    if conversation.settled:
        return
    if conversation.is_finished or not await services.webhooks.sends_webhooks(workspace.key):
        first = services.settings.live_poll_seconds
        payload = {"conversation_id": conversation.id, "interval": first, "until": time.time() + POLL_FOR_SECONDS}
        key = f"poll:{workspace.key.id}:{conversation.id}"
        await services.outbox.arm(workspace.key.id, POLL, key, payload, at=time.time() + first)
        services.worker.wake()


async def places_of(services: Services, workspace: Workspace, conversation_id: str) -> int:
    """How many places show this call now (a cheap look before asking Hamsa anything)."""
    table = services.store.tables.live_previews
    mine = and_(table.c.workspace_id == workspace.key.id, table.c.conversation_id == conversation_id)
    async with services.store.engine.connect() as db:
        query = select(func.count()).select_from(table).where(mine, table.c.expires_at > time.time())
        return int((await db.execute(query)).scalar_one())


async def refresh(services: Services, workspace: Workspace, conversation: Conversation, ref: str) -> int:
    """Draws every remembered place of this call again where it shows something else; returns how many remain.

    Raises :class:`Retry` when Slack could not take some of them now (the others are done and not redone).
    """
    store = services.store
    table = store.tables.live_previews
    now = time.time()
    mine = and_(table.c.workspace_id == workspace.key.id, table.c.conversation_id == conversation.id)
    async with store.engine.connect() as db:
        rows = (await db.execute(select(table).where(mine, table.c.expires_at > now))).mappings().all()
    shown = fingerprint(conversation)
    passing: list[str] = []
    remaining = 0
    for row in rows:
        changed = row["shown"] != shown
        error = await _redraw(services, workspace, conversation, row, ref) if changed else None
        if error is not None and error not in GONE and error != USED_UP:
            passing.append(error)
            remaining += 1
            continue
        async with store.engine.begin() as db:
            if error is not None or conversation.settled:
                await db.execute(delete(table).where(table.c.id == row["id"]))
                continue
            remaining += 1
            if changed:
                changes: dict[str, Any] = {"shown": shown}
                if row["place"] == RESPONSE_URL:
                    changes["uses_left"] = (row["uses_left"] or 1) - 1
                await db.execute(update(table).where(table.c.id == row["id"]).values(changes))
    if passing:
        raise Retry(f"slack could not take {len(passing)} preview update(s): {passing[0]}")
    return remaining


async def _redraw(
    services: Services, workspace: Workspace, conversation: Conversation, row: Any, ref: str
) -> str | None:
    """Draws one place again; None when it worked, else Slack's error (or ``used_up``)."""
    kind, look = row["place"], Look.from_json(row["look"])
    if kind == ALERT:
        from bot.following.alerts import redraw_alert  # alerts build on previews, not the other way round

        return await redraw_alert(services, workspace, conversation, row["channel_id"], row["message_ts"], ref)
    message = services.show(workspace, conversation, look, updated_at=time.time())
    slack = workspace.slack
    if kind == UNFURL:
        await services.pacer.wait(f"{workspace.key.id}:chat.unfurl", TIER_3)
        unfurl = slack.chat_unfurl(
            channel=row["channel_id"], ts=row["message_ts"], unfurls={row["url"]: {"blocks": message["blocks"]}}
        )
        return (await services.delivery.send(ref, "chat.unfurl", unfurl)).error
    if kind == MESSAGE:
        await services.pacer.wait(f"{workspace.key.id}:chat.update", TIER_3)
        return (
            await services.delivery.update(slack, ref, channel=row["channel_id"], ts=row["message_ts"], **message)
        ).error
    if kind == RESPONSE_URL:
        if not row["uses_left"] or not row["response_url"]:
            return USED_UP
        sent = await services.delivery.respond(row["response_url"], ref, replace_original=True, **message)
        return None if sent else USED_UP
    logger.warning("live preview of unknown kind=%.20s id=%s dropped", kind, row["id"])
    return USED_UP


async def prune(services: Services) -> None:
    """Forgets places past their time (the worker runs it now and then)."""
    table = services.store.tables.live_previews
    async with services.store.engine.begin() as db:
        await db.execute(delete(table).where(table.c.expires_at <= time.time()))


async def poll(services: Services, workspace_id: str, payload: dict[str, Any], ref: str) -> Later | None:
    """One look at a live call: draw its places again if it changed; look again later, less often."""
    from bot.following.calls import fresh_conversation  # calls builds on previews

    found = await fresh_conversation(services, workspace_id, payload.get("conversation_id"), ref)
    if found is None:
        return None
    workspace, conversation = found
    remaining = await refresh(services, workspace, conversation, ref)
    until = float(payload.get("until") or 0)
    if conversation.settled or not remaining or time.time() >= until:
        return None
    interval = min(POLL_MAX_INTERVAL, float(payload.get("interval") or services.settings.live_poll_seconds) * 2)
    return Later(time.time() + interval, {**payload, "interval": interval})
