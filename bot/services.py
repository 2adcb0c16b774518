"""What every listener needs, built once per process: workspaces, lookups, renderers with policy, delivery."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import Background, Tell
from bot.delivery import Delivery
from bot.hamsa.client import HamsaClient
from bot.hamsa.errors import ConversationNotFound, HamsaError, InvalidConversationId
from bot.hamsa.models import Conversation
from bot.identity import BotIdentity
from bot.messages import NOT_CONNECTED, error_text, notice_blocks
from bot.recent import CallFinder
from bot.render.logs import LogsPage, render_logs_page
from bot.render.summary import render_condensed, render_summary, summary_text
from bot.settings import Settings
from bot.state.memory import MemoryState
from bot.store.store import Store
from bot.workspaces import Workspace, Workspaces, key_of

logger = logging.getLogger("bot.lookup")

# Slack retries an event up to 3 times within about 5 minutes; an hour covers them all.
EVENT_MEMORY_SECONDS = 3600
# A logs button pressed again within a day does not post the same logs again.
POSTED_LOGS_MEMORY_SECONDS = 24 * 3600
# Slack delivers a mention again each time its message is edited; a day covers the edits that matter.
MENTION_MEMORY_SECONDS = 24 * 3600
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
    identity: BotIdentity | None = None  # single-workspace mode: the one bot token's identity
    background: Background = field(default_factory=Background)
    state: MemoryState = field(default_factory=MemoryState)
    recent: CallFinder = field(default_factory=CallFinder)  # /hamsa recent: time zones, agents by name

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

    @staticmethod
    def caller_number_visible(workspace: Workspace, *, private: bool) -> bool:
        """The caller's number is personal data: in full only privately, or where the workspace says so."""
        return private or workspace.policy.show_full_caller_number

    def summary(
        self, workspace: Workspace, conversation: Conversation, *, private: bool, **options: Any
    ) -> dict[str, Any]:
        """The summary message; caller numbers are masked wherever the channel could see them."""
        show_number = self.caller_number_visible(workspace, private=private)
        return {
            "text": summary_text(conversation, show_numbers=show_number),
            "blocks": render_summary(conversation, private=private, show_caller_number=show_number, **options),
        }

    def condensed(self, workspace: Workspace, conversation: Conversation, **options: Any) -> dict[str, Any]:
        """One line for a conversation among several, in a message the channel sees."""
        show_numbers = self.caller_number_visible(workspace, private=False)
        return {
            "text": summary_text(conversation, show_numbers=show_numbers),
            "blocks": render_condensed(conversation, show_numbers=show_numbers, **options),
        }

    def logs_page(
        self, workspace: Workspace, conversation: Conversation, page: int, *, private: bool, errors_only: bool = False
    ) -> LogsPage:
        """A logs page (every entry, or the errors only); caller numbers are masked wherever the channel sees them."""
        show_number = self.caller_number_visible(workspace, private=private)
        return render_logs_page(
            conversation, page, private=private, show_caller_number=show_number, errors_only=errors_only
        )

    async def aclose(self, drain_seconds: float = 10.0) -> None:
        await self.background.drain(drain_seconds)
        await self.hamsa.aclose()
        await self.delivery.aclose()
        await self.store.aclose()
