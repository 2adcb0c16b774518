"""The App Home tab: whether Hamsa is connected, how to use the app, and (for managers) the controls.

Pure: facts in, a ``home`` view out. Everyone sees the status; only the people who manage the app
(the installer, workspace admins and owners) get buttons, and every click is checked again on arrival.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.hamsa.models import ListedCall
from bot.render.recent import call_section
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
class HomeFacts:
    connection: ConnectionFacts | None
    from_environment: bool
    can_manage: bool
    managers: str  # who may manage, in words (mrkdwn written by the app)
    link_domains: tuple[str, ...] = ()
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
    if facts.link_domains:
        lines.append("Links that count as conversations: " + ", ".join(code(d, 100) for d in facts.link_domains))
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
        {"type": "section", "text": {"type": "mrkdwn", "text": HOW_TO_USE}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Who can change settings: {facts.managers}."}]},
    ]
    return {"type": "home", "blocks": blocks}
