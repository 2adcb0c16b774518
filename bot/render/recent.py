"""The latest calls, a page at a time: ``/hamsa recent`` and App Home's "Recent calls" (pure).

One line per call: status, start time (Slack shows it in the reader's own time zone), agent, duration,
channel and the caller's number (its last four digits only), with a **View** button for its summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.actions import RECENT_NEWER, RECENT_OLDER, RECENT_VIEW, ButtonValue, button
from bot.hamsa.models import CallPage, ListedCall
from bot.recent import MAX_AGENT_NAME, PAGE_SIZE, CallFilters, encode_page
from bot.render.summary import (
    UNKNOWN,
    channel_label,
    format_duration,
    mask_number,
    slack_date,
    status_emoji,
    status_label,
)
from bot.render.text import code, inline

HEADING = "*Recent calls*"
VIEW = "View"
NEWER = "◀ Newer"
OLDER = "Older ▶"
NO_CALLS = ":mag: No calls found for {filters}."
ALL_CALLS = "all calls"
WHEN = {"today": "today", "24h": "the last 24 hours", "7d": "the last 7 days"}
UNKNOWN_AGENT = "Unknown agent"
# The words /hamsa recent knows: answered when it was given one it does not know.
USAGE = (
    "*Find calls* with `/hamsa recent [statuses] [agent &lt;name or ID&gt;] [today | 24h | 7d | YYYY-MM-DD]`, "
    "for example:\n"
    "• `/hamsa recent failed today`\n"
    "• `/hamsa recent no-answer failed agent Billing Assistant 7d`\n"
    '• `/hamsa recent agent "Order Desk" 2025-03-02`\n'
    "Statuses: `completed`, `no-answer`, `failed`, `forwarded`, `terminated`, `in-progress`, `pending`. "
    "`today` and a date start at midnight in your own time zone."
)
NOT_UNDERSTOOD = ":thinking_face: I don't know {word} here."
UNKNOWN_AGENT_NAMED = ":mag: No agent called *{name}* made any of the latest calls."
AMBIGUOUS_AGENT = ":thinking_face: Several agents answer to *{name}*."
AGENTS_SEEN = "Agents in the latest calls: {names}. Give one of these names (in quotes if it has spaces) or its ID."
AGENT_IDS = "Their IDs: {ids}."
NO_AGENTS_SEEN = "No agent names were in the latest calls: give the agent's ID instead."
MAX_NAMES_SHOWN = 20


def describe(filters: CallFilters) -> str:
    """The filters in words (mrkdwn): ``failed, no-answer · agent *Billing Assistant* · today``."""
    parts = []
    if filters.statuses:
        parts.append(", ".join(filters.statuses))
    if filters.agent_id:
        name = inline(filters.agent_name, MAX_AGENT_NAME) if filters.agent_name else code(filters.agent_id, 40)
        parts.append(f"agent *{name}*")
    if filters.when:
        parts.append(WHEN.get(filters.when) or f"on {filters.when}")
    return " · ".join(parts) or ALL_CALLS


def call_line(call: ListedCall) -> str:
    """One call on one line; the caller's number shows its last four digits wherever this is seen."""
    agent = inline(call.agent_name, 60) if call.agent_name else UNKNOWN_AGENT
    parts = [
        f"{status_emoji(call.status)} {status_label(call.status)}",
        slack_date(call.created_at),
        f"*{agent}*",
        format_duration(call.duration),
        channel_label(call.channel_type),
        mask_number(call.caller_number, show_full=False) or UNKNOWN,
    ]
    return " · ".join(part for part in parts if part != UNKNOWN)


def call_section(call: ListedCall) -> dict[str, Any]:
    view = button(VIEW, RECENT_VIEW, ButtonValue(call.id))
    return {"type": "section", "text": {"type": "mrkdwn", "text": call_line(call)}, "accessory": view}


def render_recent(page: CallPage, filters: CallFilters) -> dict[str, Any]:
    """The message for one page (``text`` and ``blocks``): newest first, with Newer and Older buttons."""
    described = describe(filters)
    if not page.calls:
        text = NO_CALLS.format(filters=described)
        if page.page > 1:  # paged past the end (calls were deleted meanwhile): offer the way back
            return {"text": text, "blocks": [_section(text), _paging(page, filters, older=False)]}
        return {"text": text, "blocks": [_section(text)]}
    blocks: list[dict[str, Any]] = [_section(f"{HEADING} · {described}")]
    blocks.extend(call_section(call) for call in page.calls[:PAGE_SIZE])
    first = (page.page - 1) * page.per_page + 1
    shown = f"{first} to {first + min(len(page.calls), PAGE_SIZE) - 1}"
    where = f"Calls {shown} of {page.matching}" if page.matching is not None else f"Calls {shown}"
    if page.pages is not None:
        where = f"Page {page.page} of {page.pages} · {where.lower()}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"{where} · newest first"}]})
    paging = _paging(page, filters, older=page.has_older)
    if paging["elements"]:
        blocks.append(paging)
    return {"text": f"Recent calls ({described}): {where}", "blocks": blocks}


def _paging(page: CallPage, filters: CallFilters, *, older: bool) -> dict[str, Any]:
    buttons = []
    if page.page > 1:
        buttons.append(_page_button(NEWER, RECENT_NEWER, encode_page(filters, page.page - 1)))
    if older:
        buttons.append(_page_button(OLDER, RECENT_OLDER, encode_page(filters, page.page + 1)))
    return {"type": "actions", "elements": buttons}


def _page_button(text: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def agent_names(names: Sequence[str], ids: Sequence[str] = ()) -> str:
    """The names seen, for choosing one (escaped, bounded), and the IDs of the agents a name could mean."""
    if not names:
        return NO_AGENTS_SEEN
    shown = ", ".join(f"*{inline(n, 60)}*" for n in names[:MAX_NAMES_SHOWN])
    if len(names) > MAX_NAMES_SHOWN:
        shown += f" and {len(names) - MAX_NAMES_SHOWN} more"
    said = AGENTS_SEEN.format(names=shown)
    if ids:
        said += " " + AGENT_IDS.format(ids=", ".join(code(i, 40) for i in ids[:MAX_NAMES_SHOWN]))
    return said
