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
    # Bolt tries the listeners in order, building each matcher's arguments, until one matches: the
    # busiest requests (link_shared, mentions, /hamsa) go first, and the catch-alls for every event and
    # every button go after the specific ones.
    for module in (events, commands, home, workspace_settings, installs, alerts, recent, workflow, actions, shortcuts):
        module.register(app, services)
    events.register_catch_all(app)
