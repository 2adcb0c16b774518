"""An app uninstalled, or its tokens revoked: everything the app holds for that workspace goes.

https://api.slack.com/events/app_uninstalled and https://api.slack.com/events/tokens_revoked. Bolt
delivers both without authorizing them (the token is already dead).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.listeners.payload import part
from bot.services import Services
from bot.workspaces import key_of

logger = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_uninstalled")
    async def uninstalled(context: AsyncBoltContext) -> None:
        await services.workspaces.forget(key_of(context))

    @app.event("tokens_revoked")
    async def revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        tokens = part(event, "tokens")
        bots = tokens.get("bot")
        if isinstance(bots, list) and bots:
            # The bot's token is gone: the app can do nothing more here, so it keeps nothing either.
            await services.workspaces.forget(key_of(context))
            return
        users = tokens.get("oauth")
        installations = services.workspaces.installations
        if installations is None or not isinstance(users, list):
            return
        key = key_of(context)
        for user_id in users:
            if isinstance(user_id, str):
                await installations.async_delete_installation(
                    enterprise_id=key.enterprise_id, team_id=key.team_id, user_id=user_id
                )
        logger.info("user tokens revoked workspace=%s users=%d", key.id, len(users))
