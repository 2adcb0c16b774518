"""The App Home tab: whether Hamsa is connected, how to use the app, its settings, and (for managers) the controls.

Pure: facts in, a ``home`` view out. Everyone sees the status; only the people who manage the app
(the installer, workspace admins and owners) get buttons, and every click is checked again on arrival.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.hamsa.models import ListedCall
from bot.policy import Policy
from bot.render.recent import call_section
from bot.render.settings import settings_blocks
from bot.render.summary import slack_date
from bot.render.text import code, inline

CONNECT_HAMSA = "hamsa_connect"
DISCONNECT_HAMSA = "hamsa_disconnect"

HEADER = "Hamsa for Slack"
CONNECTED = ":large_green_circle: *Hamsa is connected.*"
NOT_CONNECTED = ":white_circle: *Hamsa is not connected yet.* Until it is, the app can't show any call."
FROM_ENVIRONMENT = (
    "This app is set up for one workspace: its Hamsa key comes from the app's settings (`HAMSA_API_KEY`), "
    "so it is changed where the app runs, not here."
)
CONNECT_LABEL = "Connect Hamsa"
CHANGE_LABEL = "Change"
DISCONNECT_LABEL = "Disconnect"
DISCONNECT_CONFIRM = (
    "The app will stop showing calls in this workspace until someone connects Hamsa again. "
    "The API key is deleted from the app."
)
HOW_TO_USE = (
    "*How to use it*\n"
    "• Paste a Hamsa conversation link in any channel or DM: it turns into a preview.\n"
    "• `/hamsa <conversation ID or link>` shows a call just to you, with *Share in channel*.\n"
    "• `/hamsa recent [failed] [agent &lt;name&gt;] [today]` lists the latest calls, just for you.\n"
    "• In a thread, mention `@Hamsa <ID or link>` or use the message shortcut *Preview Hamsa conversation*.\n"
    "• *Show logs* on a preview puts the transcript and logs in the thread."
)
REGIONS = {"eu": "EU", "uae": "UAE"}
REGENERATE_WEBHOOK_SECRET = "hamsa_webhook_regenerate"
FOLLOWING = (
    "*Follow calls live*\nWith Hamsa's webhooks, previews of calls in progress update themselves and "
    "channels get alerts (`/hamsa subscribe` in a channel). In Hamsa, add a webhook for your agents with:"
)
WEBHOOK_URL = "• URL: `{url}`"
NOT_PUBLIC = " _(on this app's public address: set `PUBLIC_URL` to see it in full)_"
WEBHOOK_AUTH = "• Authorization header: {value}"
WEBHOOK_NO_SECRET = (
    "• The app can't keep a webhook secret until `ENCRYPTION_KEYS` is set (or `HAMSA_WEBHOOK_SECRET`, "
    "for an app set up for one workspace). Until then, calls in progress are polled instead."
)
WEBHOOK_FROM_ENVIRONMENT = "• The secret is `HAMSA_WEBHOOK_SECRET`, set where the app runs."
REGENERATE_LABEL = "New secret"
REGENERATE_CONFIRM = "Hamsa's webhooks with the current secret will be refused until you paste the new one in Hamsa."
NO_ALERTS = "No channel gets alerts yet: type `/hamsa subscribe` in a channel."
MAX_LISTED_RULES = 30
RECENT_HEADING = "*Recent calls*"
NO_RECENT_CALLS = "No calls yet."
RECENT_MORE = (
    "*View* sends you a call's summary here, in Messages. For more calls, with filters, type "
    "`/hamsa recent` in any channel, e.g. `/hamsa recent failed today`."
)


@dataclass(frozen=True, slots=True)
class RecentFacts:
    """App Home's latest calls, or the notice saying why Hamsa could not list them."""

    calls: tuple[ListedCall, ...]
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionFacts:
    """What App Home says about a workspace's Hamsa account (never the key itself)."""

    region: str
    key_last4: str
    connected_by: str | None
    connected_at: datetime | None


@dataclass(frozen=True, slots=True)
class WebhookFacts:
    """Where Hamsa sends webhooks for this workspace, and what it must send (shown to managers only)."""

    url: str  # the full URL, or the path when PUBLIC_URL is not set
    path_only: bool  # PUBLIC_URL is not set: only the path is known
    authorization: str | None  # "Bearer …", or None when the app can't keep a secret
    from_environment: bool = False  # HAMSA_WEBHOOK_SECRET sets it (single-workspace mode)


@dataclass(frozen=True, slots=True)
class HomeFacts:
    connection: ConnectionFacts | None
    from_environment: bool
    can_manage: bool
    managers: str  # who may manage, in words (mrkdwn written by the app)
    policy: Policy  # what the workspace decided: its Settings section
    webhook: WebhookFacts | None = None
    subscriptions: tuple[str, ...] = ()  # each rule in words (mrkdwn written by the app)
    recent: RecentFacts | None = None  # None: not shown (Hamsa is not connected)


def region_label(region: str) -> str:
    return REGIONS.get(region, inline(region, 20))


def _button(
    text: str, action_id: str, *, style: str | None = None, confirm: dict[str, Any] | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": action_id,
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def _connection_blocks(facts: HomeFacts) -> list[dict[str, Any]]:
    connection = facts.connection
    if connection is None:
        lines = [NOT_CONNECTED]
    else:
        detail = f"Region {region_label(connection.region)} · API key ending {code(connection.key_last4, 10)}"
        if connection.connected_by:
            detail += f" · connected by <@{connection.connected_by}>"
        if connection.connected_at:
            detail += f" on {slack_date(connection.connected_at)}"
        lines = [CONNECTED, detail]
    if facts.from_environment:
        lines.append(FROM_ENVIRONMENT)
    elif not facts.can_manage:
        lines.append(f"{facts.managers} can connect or change it here.")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]
    if facts.can_manage and not facts.from_environment:
        buttons = [
            _button(
                CHANGE_LABEL if connection else CONNECT_LABEL, CONNECT_HAMSA, style=None if connection else "primary"
            )
        ]
        if connection:
            confirm = {
                "title": {"type": "plain_text", "text": "Disconnect Hamsa?"},
                "text": {"type": "plain_text", "text": DISCONNECT_CONFIRM},
                "confirm": {"type": "plain_text", "text": DISCONNECT_LABEL},
                "deny": {"type": "plain_text", "text": "Keep it"},
                "style": "danger",
            }
            buttons.append(_button(DISCONNECT_LABEL, DISCONNECT_HAMSA, style="danger", confirm=confirm))
        blocks.append({"type": "actions", "block_id": "hamsa_connection", "elements": buttons})
    return blocks


def _following_blocks(facts: HomeFacts) -> list[dict[str, Any]]:
    """Live updates and alerts: the webhook for managers to paste into Hamsa, and every channel's alerts."""
    lines = [FOLLOWING]
    webhook = facts.webhook
    blocks: list[dict[str, Any]] = []
    if not facts.can_manage:
        lines.append(f"{facts.managers} can see how Hamsa's webhooks are set up here.")
    elif webhook is not None:
        where = WEBHOOK_URL.format(url=inline(webhook.url, 300))
        if webhook.path_only:
            where += NOT_PUBLIC
        lines.append(where)
        if webhook.authorization:
            lines.append(WEBHOOK_AUTH.format(value=code(webhook.authorization, 200)))
        else:
            lines.append(WEBHOOK_NO_SECRET)
        if webhook.from_environment:
            lines.append(WEBHOOK_FROM_ENVIRONMENT)
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    if facts.can_manage and webhook is not None and webhook.authorization and not webhook.from_environment:
        confirm = {
            "title": {"type": "plain_text", "text": "New webhook secret?"},
            "text": {"type": "plain_text", "text": REGENERATE_CONFIRM},
            "confirm": {"type": "plain_text", "text": REGENERATE_LABEL},
            "deny": {"type": "plain_text", "text": "Keep it"},
        }
        button = _button(REGENERATE_LABEL, REGENERATE_WEBHOOK_SECRET, confirm=confirm)
        blocks.append({"type": "actions", "block_id": "hamsa_webhook", "elements": [button]})
    rules = "\n".join(f"• {line}" for line in facts.subscriptions[:MAX_LISTED_RULES]) or NO_ALERTS
    if len(facts.subscriptions) > MAX_LISTED_RULES:
        rules += f"\n… and {len(facts.subscriptions) - MAX_LISTED_RULES} more"
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Channel alerts*\n{rules}"}})
    return blocks


def _recent_blocks(recent: RecentFacts | None) -> list[dict[str, Any]]:
    if recent is None:
        return []
    lead = recent.problem or (RECENT_HEADING if recent.calls else f"{RECENT_HEADING}\n{NO_RECENT_CALLS}")
    return [
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": lead}},
        *(call_section(call) for call in recent.calls),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": RECENT_MORE}]},
    ]


def render_home(facts: HomeFacts) -> dict[str, Any]:
    """The ``home`` view for one person."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": HEADER}},
        *_connection_blocks(facts),
        *_recent_blocks(facts.recent),
        {"type": "divider"},
        *_following_blocks(facts),
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": HOW_TO_USE}},
        {"type": "divider"},
        *settings_blocks(facts.policy, can_manage=facts.can_manage),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Who can change settings: {facts.managers}."}]},
    ]
    return {"type": "home", "blocks": blocks}
