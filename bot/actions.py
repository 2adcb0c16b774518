"""Interactive elements: action IDs, the buttons that carry them, and their values.

Button values come back from Slack in requests anyone could forge (if they had the signing secret),
so decoding is strict: a value that does not decode to what a button sends is ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.hamsa.errors import InvalidConversationId
from bot.refs import normalize_conversation_id

SHOW_LOGS = "show_logs"
LOGS_PAGE = "logs_page"
# Slack refuses two buttons with one action_id in a block, so "Older" has its own.
LOGS_PAGE_OLDER = "logs_page_older"
# The logs view's filter and shortcuts (pages like LOGS_PAGE), and the whole call as a file.
LOGS_ERRORS = "logs_errors"
LOGS_ALL = "logs_all"
LOGS_FIRST_ERROR = "logs_first_error"
LOGS_DOWNLOAD = "logs_download"
SHOW_SUMMARY = "show_summary"
SHARE_SUMMARY = "share_summary"
POST_IN_THREAD = "post_in_thread"
# The recording's link button (private messages), and the button that sends it privately (shared ones).
OPEN_RECORDING = "open_recording"
GET_RECORDING = "get_recording"
PREVIEW_SHORTCUT = "preview_hamsa_conversation"
# /hamsa recent: a call's summary, and the pages of the list (values: bot.recent.encode_page).
RECENT_VIEW = "recent_view"
RECENT_NEWER = "recent_newer"
RECENT_OLDER = "recent_older"

_TS = re.compile(r"^\d{1,12}\.\d{1,8}$")


@dataclass(frozen=True, slots=True)
class ButtonValue:
    conversation_id: str
    page: int = 1
    thread_ts: str | None = None
    errors: bool = False  # a logs page of the error entries only


def encode(value: ButtonValue) -> str:
    data: dict[str, Any] = {"id": value.conversation_id}
    if value.page != 1:
        data["p"] = value.page
    if value.thread_ts:
        data["t"] = value.thread_ts
    if value.errors:
        data["e"] = 1
    return json.dumps(data, separators=(",", ":"))


def decode(raw: object) -> ButtonValue | None:
    """The value a button of ours sent, or None for anything else."""
    if not isinstance(raw, str) or len(raw) > 2000:
        return None
    try:
        data = json.loads(raw)
        conversation_id = normalize_conversation_id(data["id"])
    except (ValueError, TypeError, KeyError, InvalidConversationId):
        return None
    page = data.get("p", 1)
    thread_ts = data.get("t")
    errors = data.get("e", 0)
    if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= 100_000:
        return None
    if thread_ts is not None and not (isinstance(thread_ts, str) and _TS.match(thread_ts)):
        return None
    if type(errors) is not int or errors not in (0, 1):
        return None
    return ButtonValue(conversation_id, page, thread_ts, errors=errors == 1)


def is_slack_ts(value: object) -> bool:
    return isinstance(value, str) and bool(_TS.match(value))


def button(text: str, action_id: str, value: ButtonValue, *, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": encode(value),
    }
    if style:
        element["style"] = style
    return element


def share_button(conversation_id: str) -> dict[str, Any]:
    return button("Share in channel", SHARE_SUMMARY, ButtonValue(conversation_id))


def post_in_thread_button(conversation_id: str, thread_ts: str) -> dict[str, Any]:
    return button("Post in thread", POST_IN_THREAD, ButtonValue(conversation_id, thread_ts=thread_ts), style="primary")
