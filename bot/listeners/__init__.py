"""Bolt listeners, one module per kind of Slack request; each has ``register(app, services)``."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import (
    actions,
    alerts,
    commands,
    events,
    home,
    installs,
    recent,
    shortcuts,
    workflow,
    workspace_settings,
)
from bot.services import Services


def register_all(app: AsyncApp, services: Services) -> None:
    # Bolt runs the first listener that matches: the specific ones go before the catch-alls of
    # ``events`` (every event) and ``actions`` (every button).
    for module in (home, workspace_settings, installs, alerts, commands, recent, workflow, events, actions, shortcuts):
        module.register(app, services)
