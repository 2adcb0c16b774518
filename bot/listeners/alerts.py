"""Triage on an alert: Take it, Resolved, Reopen. Anyone in the channel may; the store decides who wins."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.following.alerts import Triage, triage
from bot.listeners.payload import part, text
from bot.render.alerts import ALERT_ACTIONS, decode_alert_value
from bot.services import Services

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def register(app: AsyncApp, services: Services) -> None:
    @app.action(re.compile("^(" + "|".join(ALERT_ACTIONS) + ")$"))
    async def on_triage(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        ref = context["ref"]
        alert_id = decode_alert_value(action.get("value"))
        user_id = text(part(body, "user"), "id")
        if alert_id is None or not _USER_ID.match(user_id):
            return  # not a value a button of ours sends
        click = Triage(text(action, "action_id"), alert_id, user_id, text(body, "response_url"), ref)
        tell = services.tell_privately(click.response_url, ref)
        services.background.spawn(_run(services, context, click), ref, tell=tell)


async def _run(services: Services, context: AsyncBoltContext, click: Triage) -> None:
    await triage(services, await services.workspace(context), click)
