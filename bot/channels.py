"""Whether a channel is shared with other organisations (Slack Connect), for the place a message is shown in.

Events say it in their envelope (``is_ext_shared_channel``). Slash commands and clicks don't, so the app
asks ``conversations.info`` (scopes ``channels:read`` for public channels, ``groups:read`` for private
ones) and remembers the answer for a while, as it remembers what events said about a channel.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from cachetools import TTLCache
from slack_sdk.errors import SlackApiError

from bot.policy import Place
from bot.store.workspaces import WorkspaceKey
from bot.workspaces import Workspace

logger = logging.getLogger(__name__)

# A channel shared (or unshared) since is seen as such within this; its events say so at once.
SHARED_SECONDS = 300.0


class ChannelSharing:
    """What Slack said about channels, per workspace, for ``SHARED_SECONDS``."""

    def __init__(self, seconds: float = SHARED_SECONDS, max_channels: int = 20_000) -> None:
        self._shared: TTLCache[tuple[str, str], bool] = TTLCache(maxsize=max_channels, ttl=seconds)

    async def place(self, workspace: Workspace, channel: str | None, said: object = None) -> Place:
        """Where a message in ``channel`` is seen; ``said``: the event envelope's ``is_ext_shared_channel``."""
        if isinstance(said, bool) and channel:
            self.heard(workspace.key, channel, shared=said)
            return Place.SHARED if said else Place.CHANNEL
        return Place.SHARED if await self.is_shared(workspace, channel) else Place.CHANNEL

    def heard(self, key: WorkspaceKey, channel: str, *, shared: bool) -> None:
        cached = (key.id, channel)
        if self._shared.get(cached) is not shared:
            self._shared[cached] = shared

    async def is_shared(self, workspace: Workspace, channel: str | None) -> bool:
        """Whether ``channel`` is shared with another organisation, or is about to be (an invitation pending).

        When Slack can't say (a private channel or DM the bot is not in answers ``channel_not_found``, a
        missing scope, Slack unreachable), the answer is yes: the safe side, as a shared channel is shown
        less.
        """
        return await self.shared(workspace, channel) is not False

    async def shared(self, workspace: Workspace, channel: str | None) -> bool | None:
        """What Slack says about ``channel``: shared or not, or None when it can't say (not remembered)."""
        if not channel:
            return None
        cached = self._shared.get((workspace.key.id, channel))
        if cached is not None:
            return cached
        try:
            answer = await workspace.slack.conversations_info(channel=channel)
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else "?"
            logger.info("conversations.info failed channel=%.40s error=%.60s: taken as shared", channel, code)
            return None
        except (aiohttp.ClientError, TimeoutError) as error:
            kind = type(error).__name__
            logger.warning("conversations.info failed channel=%.40s error=%s: taken as shared", channel, kind)
            return None
        info: Any = answer.get("channel")
        if not isinstance(info, dict):
            return None
        shared = bool(info.get("is_ext_shared") or info.get("is_pending_ext_shared"))
        self._shared[workspace.key.id, channel] = shared
        return shared
