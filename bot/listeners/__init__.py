"""Bolt listeners, one module per kind of Slack request; each has ``register(app, services)``."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import actions, commands, events, shortcuts
from bot.services import Services


def register_all(app: AsyncApp, services: Services) -> None:
    for module in (commands, events, actions, shortcuts):
        module.register(app, services)
