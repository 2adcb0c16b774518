"""What every listener needs, built once per process: workspaces, lookups, renderers with policy, delivery."""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from cachetools import LRUCache
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.actions import post_in_thread_button, share_button
from bot.background import Background, Tell
from bot.channels import ChannelSharing
from bot.delivery import Delivery
from bot.following import previews
from bot.following.calls import handle_call, handle_poll
from bot.following.outbox import Outbox
from bot.following.pacing import Pacer
from bot.following.previews import POLL, Preview
from bot.following.webhooks import CALL, WebhookSecrets
from bot.following.worker import Worker
from bot.hamsa.client import HamsaClient
from bot.hamsa.errors import ConversationNotFound, HamsaError, InvalidConversationId
from bot.hamsa.models import Conversation
from bot.identity import BotIdentity
from bot.looks import Look
from bot.messages import NOT_CONNECTED, NOT_SHOWN_HERE, error_text, notice_blocks, store_unavailable
from bot.policy import Place, Visibility
from bot.recent import CallFinder
from bot.render.logs import LogsPage, render_logs_page
from bot.render.summary import render_condensed, render_summary, slack_date, summary_text
from bot.settings import Settings
from bot.state import SharedState
from bot.state.memory import MemoryState
from bot.store.database import ping
from bot.store.store import Store
from bot.store.workspaces import WorkspaceKey
from bot.workspaces import Workspace, Workspaces, key_of

logger = logging.getLogger("bot.lookup")

# Slack retries an event up to 3 times within about 5 minutes; an hour covers them all.
EVENT_MEMORY_SECONDS = 3600
# A logs button pressed again within a day does not post the same logs again.
POSTED_LOGS_MEMORY_SECONDS = 24 * 3600
# Slack delivers a mention again each time its message is edited; a day covers the edits that matter.
MENTION_MEMORY_SECONDS = 24 * 3600
# A load balancer's health checks come often: the database is asked at most this often.
HEALTH_SECONDS = 1.0
DRAWN_MESSAGES = 1024
# Answers about the conversation, not faults of the app or of Hamsa.
_EXPECTED = (ConversationNotFound, InvalidConversationId)


@dataclass(frozen=True, slots=True)
class Lookup:
    """What looking a conversation up gave: the conversation, or the notice to show instead."""

    conversation: Conversation | None
    notice: str = ""

    def message(self, render: Callable[[Conversation], dict[str, Any]]) -> dict[str, Any]:
        """``render(conversation)`` when it was found, else the notice."""
        if self.conversation is None:
            return self.notice_message()
        return render(self.conversation)

    def notice_message(self) -> dict[str, Any]:
        """The notice as a message (it carries the reference code of the request)."""
        return {"text": self.notice, "blocks": notice_blocks(self.notice)}


@dataclass
class Services:
    settings: Settings
    hamsa: HamsaClient
    delivery: Delivery
    store: Store
    workspaces: Workspaces
    outbox: Outbox
    webhooks: WebhookSecrets
    identity: BotIdentity | None = None  # single-workspace mode: the one bot token's identity
    background: Background = field(default_factory=Background)
    state: SharedState = field(default_factory=MemoryState)
    sharing: ChannelSharing = field(default_factory=ChannelSharing)
    pacer: Pacer = field(default_factory=Pacer)
    _health_at: float = field(default=-HEALTH_SECONDS, init=False)
    _database_up: bool = field(default=True, init=False)
    recent: CallFinder = field(default_factory=CallFinder)  # /hamsa recent: agents by name
    worker: Worker = field(init=False)
    # How each call was last drawn, by look: a warm unfurl reuses its message instead of drawing it again.
    # Keyed by the Conversation object (weakly: it lives as long as the lookup cache keeps it), which is
    # replaced, never changed, when the call changes.
    _drawn: LRUCache[tuple[int, Visibility, Look], tuple[weakref.ref[Conversation], dict[str, Any]]] = field(
        default_factory=lambda: LRUCache(DRAWN_MESSAGES), init=False
    )

    def __post_init__(self) -> None:
        self.worker = Worker(
            self.outbox,
            {CALL: partial(handle_call, self), POLL: partial(handle_poll, self)},
            housekeeping=partial(previews.prune, self),
        )

    async def workspace_by_id(self, workspace_id: str) -> Workspace | None:
        """A workspace for work with no request behind it (webhooks, polls); None once the app is gone from it."""
        key = WorkspaceKey.parse(workspace_id)
        token = await self.workspaces.bot_token(key)
        if not token:
            return None
        return await self.workspaces.get(key, self.delivery.client_for(token))

    async def remember(self, workspace: Workspace, conversation: Conversation, preview: Preview) -> None:
        """Keeps ``preview`` showing the call as it changes (nothing to do once the call is settled).

        The answer is already delivered: a database that does not answer now costs only its updates.
        """
        if conversation.settled:
            return
        try:
            await previews.remember(self, workspace, conversation, preview)
        except Exception as error:
            if not store_unavailable(error):
                raise
            logger.warning("live preview not kept: the database is not answering (%s)", type(error).__name__)

    async def health(self) -> dict[str, Any]:
        """Ready when the database answers; Redis lost only degrades (each process falls back on itself)."""
        now = time.monotonic()
        if now - self._health_at > HEALTH_SECONDS:
            self._database_up = await ping(self.store.engine)
            self._health_at = now
        if not self.settings.redis_url:
            redis = "off"
        else:  # on this process's memory: Redis was lost, or unreachable at start with REDIS_REQUIRED=false
            redis = "degraded" if isinstance(self.state, MemoryState) or self.state.degraded else "ok"
        return {"ok": self._database_up, "database": "ok" if self._database_up else "unreachable", "redis": redis}

    def single_workspace(self) -> WorkspaceKey | None:
        """Single-workspace mode: the one workspace, once Slack said which it is."""
        return self.identity.workspace if self.identity is not None else None

    async def workspace(self, context: AsyncBoltContext) -> Workspace:
        """The request's workspace, resolved once and handed down."""
        return await self.workspaces.resolve(context)

    async def first_delivery(self, context: AsyncBoltContext, event_id: str | None) -> bool:
        """False for an event Slack delivers again (same ``event_id``)."""
        if not event_id:
            return True
        return await self.state.first(f"event:{key_of(context).id}:{event_id}", EVENT_MEMORY_SECONDS)

    async def first_mention(self, context: AsyncBoltContext, channel: str, ts: str, *, edited: bool) -> bool:
        """False for a message already answered: Slack delivers a mention again on every edit.

        An edit of a message older than this memory is taken as answered, as it may well have been.
        """
        key = f"mention:{key_of(context).id}:{channel}:{ts}"
        if edited and float(ts) < time.time() - MENTION_MEMORY_SECONDS:
            return False
        return await self.state.first(key, MENTION_MEMORY_SECONDS)

    async def lookup(self, workspace: Workspace, conversation_id: str, ref: str, *, fresh: bool = False) -> Lookup:
        """The conversation, or the notice to show instead (the error is logged with ``ref``)."""
        if workspace.hamsa is None:
            return Lookup(None, self.not_connected(workspace))
        try:
            return Lookup(await workspace.hamsa.get_conversation(conversation_id, fresh=fresh))
        except HamsaError as error:
            level = logging.INFO if isinstance(error, _EXPECTED) else logging.WARNING
            logger.log(level, "lookup failed ref=%s error=%s detail=%s", ref, type(error).__name__, error)
            return Lookup(None, error_text(error, ref))

    def not_connected(self, workspace: Workspace) -> str:
        return NOT_CONNECTED.format(managers=self.workspaces.managers_in_words(workspace))

    def tell_privately(self, response_url: str, ref: str) -> Tell:
        """Telling the person behind a command, button or shortcut: a private reply to them."""

        async def tell(text: str) -> None:
            blocks = notice_blocks(text)
            await self.delivery.respond(
                response_url, ref, response_type="ephemeral", replace_original=False, text=text, blocks=blocks
            )

        return tell

    def tell_in_thread(self, slack: AsyncWebClient, channel: str, thread_ts: str, ref: str) -> Tell:
        """Telling the person behind a mention: a reply in its thread."""

        async def tell(text: str) -> None:
            await self.delivery.post(
                slack, ref, channel=channel, thread_ts=thread_ts, text=text, blocks=notice_blocks(text)
            )

        return tell

    async def place(self, workspace: Workspace, channel: str | None, *, said: object = None) -> Place:
        """Where a message posted in ``channel`` is seen (see ChannelSharing.place)."""
        return await self.sharing.place(workspace, channel, said)

    @staticmethod
    def visibility(workspace: Workspace, place: Place) -> Visibility:
        return workspace.policy.visibility(place)

    def show(
        self, workspace: Workspace, conversation: Conversation, look: Look, *, updated_at: float | None = None
    ) -> dict[str, Any]:
        """The message for a call as ``look`` shows it; ``updated_at`` (epoch) says when it was last drawn again.

        The message may be shared with other requests showing the same call alike: never change it.
        """
        if updated_at is not None:
            return self._draw(workspace, conversation, look, updated_at)
        key = (id(conversation), self.visibility(workspace, look.place), look)
        drawn = self._drawn.get(key)
        if drawn is not None and drawn[0]() is conversation:
            return drawn[1]
        message = self._draw(workspace, conversation, look, None)
        self._drawn[key] = (weakref.ref(conversation), message)
        return message

    def _draw(
        self, workspace: Workspace, conversation: Conversation, look: Look, updated_at: float | None
    ) -> dict[str, Any]:
        notes = []
        if look.shared_by:
            notes.append(f"Shared by <@{look.shared_by}>")
        if updated_at is not None:
            notes.append(f"Updated {slack_date(datetime.fromtimestamp(updated_at, UTC))}")
        footer = " · ".join(notes) or None
        if look.condensed:
            return self.condensed(
                workspace, conversation, place=look.place, logs_thread_ts=look.logs_thread_ts, footer=footer
            )
        buttons = []
        if look.share_button:
            buttons.append(share_button(conversation.id))
        if look.post_in_thread_ts:
            buttons.append(post_in_thread_button(conversation.id, look.post_in_thread_ts))
        return self.summary(
            workspace,
            conversation,
            place=look.place,
            extra_buttons=tuple(buttons),
            footer=footer,
            logs_thread_ts=look.logs_thread_ts,
        )

    def summary(
        self,
        workspace: Workspace,
        conversation: Conversation,
        *,
        private: bool = False,
        place: Place | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """The summary as ``place`` may show it (``private``: for one person; else a channel of this organisation).

        Where the workspace shows only a condensed line (shared channels, by default), that line, with the
        ``footer``. Where it shows nothing, a notice saying so: callers that can stay silent check
        ``visibility(...).shown`` first.
        """
        place = place or (Place.PRIVATE if private else Place.CHANNEL)
        seen = self.visibility(workspace, place)
        if not seen.shown:
            return {"text": NOT_SHOWN_HERE, "blocks": notice_blocks(NOT_SHOWN_HERE)}
        if seen.condensed:
            return self.condensed(workspace, conversation, place=place, footer=options.get("footer"))
        return {
            "text": summary_text(conversation, show_numbers=seen.full_numbers),
            "blocks": render_summary(
                conversation,
                private=place is Place.PRIVATE,
                show_caller_number=seen.full_numbers,
                recording=seen.recording,
                quote=seen.quotes,
                **options,
            ),
        }

    def condensed(
        self, workspace: Workspace, conversation: Conversation, *, place: Place = Place.CHANNEL, **options: Any
    ) -> dict[str, Any]:
        """One line for a conversation (among several, or where the workspace shows no more)."""
        seen = self.visibility(workspace, place)
        if not seen.shown:
            return {"text": NOT_SHOWN_HERE, "blocks": notice_blocks(NOT_SHOWN_HERE)}
        return {
            "text": summary_text(conversation, show_numbers=seen.full_numbers),
            "blocks": render_condensed(conversation, show_numbers=seen.full_numbers, logs=seen.logs, **options),
        }

    def logs_page(
        self,
        workspace: Workspace,
        conversation: Conversation,
        page: int,
        *,
        private: bool,
        place: Place | None = None,
        errors_only: bool = False,
    ) -> LogsPage:
        """A logs page (every entry, or the errors only); phone numbers are masked wherever the workspace says so."""
        place = place or (Place.PRIVATE if private else Place.CHANNEL)
        seen = self.visibility(workspace, place)
        return render_logs_page(
            conversation,
            page,
            private=place is Place.PRIVATE,
            show_caller_number=seen.full_numbers,
            errors_only=errors_only,
        )

    async def aclose(self, drain_seconds: float = 10.0) -> None:
        await self.worker.stop(drain_seconds)
        await self.background.drain(drain_seconds)
        await self.hamsa.aclose()
        await self.delivery.aclose()
        await self.store.aclose()
        await self.state.aclose()
