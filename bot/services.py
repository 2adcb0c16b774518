"""What every listener needs, built once per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache

from bot.background import Background
from bot.delivery import Delivery
from bot.errors import ConversationNotFound, HamsaError, InvalidConversationId
from bot.hamsa_client import HamsaClient
from bot.identity import BotIdentity
from bot.messages import error_text, notice_blocks
from bot.models import Conversation
from bot.render.logs import LogsPage, render_logs_page
from bot.render.summary import render_summary, summary_text
from bot.settings import Settings

logger = logging.getLogger("bot.lookup")

# Slack retries an event up to 3 times within about 5 minutes; an hour covers them all.
_EVENT_MEMORY_SECONDS = 3600
# A logs button pressed again within a day does not post the same logs again.
_POSTED_LOGS_MEMORY_SECONDS = 24 * 3600
# Answers about the conversation, not faults of the app or of Hamsa.
_EXPECTED = (ConversationNotFound, InvalidConversationId)


@dataclass
class Services:
    settings: Settings
    hamsa: HamsaClient
    delivery: Delivery
    identity: BotIdentity
    background: Background = field(default_factory=Background)
    seen_events: TTLCache[str, bool] = field(default_factory=lambda: TTLCache(20_000, _EVENT_MEMORY_SECONDS))
    posted_logs: TTLCache[tuple[str, str, str], bool] = field(
        default_factory=lambda: TTLCache(20_000, _POSTED_LOGS_MEMORY_SECONDS)
    )

    def first_delivery(self, event_id: str | None) -> bool:
        """False for an event Slack delivers again (same ``event_id``)."""
        if not event_id:
            return True
        if event_id in self.seen_events:
            return False
        self.seen_events[event_id] = True
        return True

    async def lookup(self, conversation_id: str, ref: str) -> Conversation | dict[str, Any]:
        """The conversation, or the message to show instead (the error is logged with ``ref``)."""
        try:
            return await self.hamsa.get_conversation(conversation_id)
        except HamsaError as error:
            level = logging.INFO if isinstance(error, _EXPECTED) else logging.WARNING
            logger.log(level, "lookup failed ref=%s error=%s detail=%s", ref, type(error).__name__, error)
            text = error_text(error, ref)
            return {"text": text, "blocks": notice_blocks(text)}

    def caller_number_visible(self, *, private: bool) -> bool:
        """The caller's number is personal data: in full only privately, or where configured."""
        return private or self.settings.show_full_caller_number

    def summary(self, conversation: Conversation, *, private: bool, **options: Any) -> dict[str, Any]:
        """The summary message; caller numbers are masked wherever the channel could see them."""
        show_number = self.caller_number_visible(private=private)
        return {
            "text": summary_text(conversation),
            "blocks": render_summary(conversation, show_caller_number=show_number, **options),
        }

    def logs_page(self, conversation: Conversation, page: int, *, private: bool) -> LogsPage:
        """A logs page; caller numbers are masked wherever the channel could see them."""
        show_number = self.caller_number_visible(private=private)
        return render_logs_page(conversation, page, private=private, show_caller_number=show_number)

    async def aclose(self, drain_seconds: float = 10.0) -> None:
        await self.identity.aclose()
        await self.background.drain(drain_seconds)
        await self.hamsa.aclose()
        await self.delivery.aclose()
