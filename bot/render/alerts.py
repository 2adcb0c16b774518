"""Channel alerts and subscriptions, as Block Kit: pure functions of what they show.

An alert is the call's channel summary with a line inviting the team to talk in its thread, and the
triage buttons: **Take it**, **Resolved**, **Reopen**. A resolved alert collapses to one line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.hamsa.models import WORD_OF_STATUS
from bot.render.summary import slack_date, status_emoji, status_label
from bot.render.text import inline

ALERT_TAKE = "alert_take"
ALERT_RESOLVE = "alert_resolve"
ALERT_REOPEN = "alert_reopen"
ALERT_ACTIONS = (ALERT_TAKE, ALERT_RESOLVE, ALERT_REOPEN)

DISCUSS = ":speech_balloon: Discuss this call in this message's thread."
TAKE_LABEL = "Take it"
RESOLVE_LABEL = "Resolved"
REOPEN_LABEL = "Reopen"
HANDLING = ":raising_hand: <@{user}> is handling this call."
RESOLVED = ":white_check_mark: *Resolved* by <@{user}>{when} · {title} · {status}"
NOTE_TAKEN = "<@{user}> is handling this call."
NOTE_RESOLVED = "<@{user}> marked this call resolved."
NOTE_REOPENED = "<@{user}> reopened this call."
ALREADY_TAKEN = ":raising_hand: <@{owner}> is already handling this call."
OPEN, TAKEN, RESOLVED_STATE = "open", "taken", "resolved"


@dataclass(frozen=True, slots=True)
class AlertFacts:
    id: int
    state: str
    owner: str | None = None
    resolved_by: str | None = None
    resolved_at: float | None = None


def alert_value(alert_id: int) -> str:
    return json.dumps({"alert": alert_id}, separators=(",", ":"))


def decode_alert_value(raw: object) -> int | None:
    """The alert a triage button names, or None for anything a button of ours would not send."""
    if not isinstance(raw, str) or len(raw) > 100:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    value = data.get("alert") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**53 else None


def _button(text: str, action_id: str, alert_id: int, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": alert_value(alert_id),
    }
    if style:
        element["style"] = style
    return element


def render_alert(summary: dict[str, Any], alert: AlertFacts, *, title: str, status: str | None) -> dict[str, Any]:
    """The alert message: ``summary`` (the call as the channel sees it, already rendered) and its triage.

    ``title`` is the call's title as safe mrkdwn (for the collapsed line).
    """
    if alert.state == RESOLVED_STATE:
        when = ""
        if alert.resolved_at:
            when = f" {slack_date(datetime.fromtimestamp(alert.resolved_at, UTC))}"
        line = RESOLVED.format(
            user=alert.resolved_by or "",
            when=when,
            title=title,
            status=f"{status_emoji(status)} {status_label(status)}",
        )
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": line}},
            {
                "type": "actions",
                "block_id": "alert_triage",
                "elements": [_button(REOPEN_LABEL, ALERT_REOPEN, alert.id)],
            },
        ]
        return {"text": f"Resolved: {summary['text']}", "blocks": blocks}
    lines = [DISCUSS]
    if alert.state == TAKEN and alert.owner:
        lines.insert(0, HANDLING.format(user=alert.owner))
    buttons = []
    if alert.state != TAKEN:
        buttons.append(_button(TAKE_LABEL, ALERT_TAKE, alert.id, "primary"))
    buttons.append(_button(RESOLVE_LABEL, ALERT_RESOLVE, alert.id))
    if alert.state == TAKEN:
        buttons.append(_button(REOPEN_LABEL, ALERT_REOPEN, alert.id))
    blocks = [
        *summary["blocks"],
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " ".join(lines)}]},
        {"type": "actions", "block_id": "alert_triage", "elements": buttons},
    ]
    return {"text": summary["text"], "blocks": blocks}


@dataclass(frozen=True, slots=True)
class RuleFacts:
    channel_id: str
    statuses: Sequence[str]
    agent: str | None
    created_by: str
    disabled_reason: str | None = None


def rule_line(rule: RuleFacts, *, with_channel: bool = False) -> str:
    """One subscription in words: ``failed, no-answer calls of agent Billing, by @ann``."""
    words = ", ".join(WORD_OF_STATUS.get(s, inline(s, 20)) for s in rule.statuses)
    line = f"{words} calls"
    if rule.agent:
        line += f" of agent *{inline(rule.agent, 100)}*"
    line += f", by <@{rule.created_by}>"
    if with_channel:
        line = f"<#{rule.channel_id}>: {line}"
    if rule.disabled_reason:
        line += f" _(stopped: {inline(rule.disabled_reason, 40)})_"
    return line
