"""Blocks as readable terminal text, and a Block Kit Builder link to see them as Slack draws them."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

BUILDER_URL = "https://app.slack.com/block-kit-builder/#"

_EMOJI = {
    ":white_check_mark:": "✅",
    ":x:": "❌",
    ":hourglass_flowing_sand:": "⏳",
    ":hourglass:": "⌛",
    ":studio_microphone:": "🎙",
    ":no_bell:": "🔕",
    ":arrow_right_hook:": "↪",
    ":octagonal_sign:": "🛑",
    ":grey_question:": "❔",
    ":warning:": "⚠️",
    ":red_circle:": "🔴",
    ":large_orange_circle:": "🟠",
    ":mag:": "🔍",
    ":lock:": "🔒",
    ":thinking_face:": "🤔",
    ":speech_balloon:": "💬",
}
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")
_BARE_LINK = re.compile(r"<(https?://[^|>]+)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_EMOJI_CODE = re.compile(r":[a-z0-9_+-]+:")


def mrkdwn_to_text(text: str) -> str:
    text = _DATE.sub(r"\1", text)
    text = _LINK.sub(r"\2 (\1)", text)
    text = _BARE_LINK.sub(r"\1", text)
    text = _MENTION.sub(r"@\1", text)
    text = _EMOJI_CODE.sub(lambda m: _EMOJI.get(m.group(0), m.group(0)), text)
    text = text.replace("*", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(obj: Any) -> str:
    if not isinstance(obj, dict):
        return ""
    raw = str(obj.get("text", ""))
    return mrkdwn_to_text(raw) if obj.get("type") == "mrkdwn" else raw


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def blocks_to_text(blocks: list[dict[str, Any]]) -> str:
    """A plain-text rendering of a message, close enough to read what Slack would show."""
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text_of(block.get("text"))
            out.append(f"┏━ {title} " + "━" * max(3, 60 - len(title)))
        elif kind == "section":
            if block.get("text"):
                out.append(_indent(_text_of(block["text"])))
            for field in block.get("fields", []):
                label, _, value = _text_of(field).partition("\n")
                out.append(f"  {label + ':':<10} {value}")
            if block.get("accessory"):
                out.append(_indent(_button(block["accessory"])))
        elif kind == "actions":
            out.append("  " + "  ".join(_button(element) for element in block.get("elements", [])))
        elif kind == "context":
            out.append(_indent(" · ".join(_text_of(element) for element in block.get("elements", []))))
        elif kind == "divider":
            out.append("  " + "─" * 60)
    return "\n".join(out)


def _button(element: dict[str, Any]) -> str:
    label = _text_of(element.get("text"))
    return f"[{label} → {element['url']}]" if element.get("url") else f"[{label}]"


def block_kit_builder_url(blocks: list[dict[str, Any]]) -> str:
    return BUILDER_URL + quote(json.dumps({"blocks": blocks}, separators=(",", ":"), ensure_ascii=False), safe="")
