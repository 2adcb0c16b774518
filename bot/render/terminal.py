"""Blocks and the app's web pages as terminal text, and Block Kit Builder links to see views as Slack draws them."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
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
    ":raising_hand:": "🙋",
    ":bell:": "🔔",
    ":large_green_circle:": "🟢",
    ":white_circle:": "⚪",
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
        elif kind == "input":
            out.append(_input(block))
    return "\n".join(out)


def _input(block: dict[str, Any]) -> str:
    element = block.get("element") or {}
    shown = (
        element.get("initial_value")
        or _text_of((element.get("initial_option") or {}).get("text"))
        or _text_of(element.get("placeholder"))
    )
    optional = " (optional)" if block.get("optional") else ""
    line = f"  {_text_of(block.get('label'))}{optional}: [ {shown} ]"
    hint = _text_of(block.get("hint"))
    return f"{line}\n    {hint}" if hint else line


def _button(element: dict[str, Any]) -> str:
    label = _text_of(element.get("text"))
    return f"[{label} → {element['url']}]" if element.get("url") else f"[{label}]"


def block_kit_builder_url(blocks: list[dict[str, Any]]) -> str:
    return _builder_url({"blocks": blocks})


def view_builder_url(view: dict[str, Any]) -> str:
    """The Builder link for a Home tab or a modal: the surface (``type``) and what it draws, nothing of the app's."""
    return _builder_url({key: view[key] for key in ("type", "title", "submit", "close", "blocks") if key in view})


def _builder_url(payload: dict[str, Any]) -> str:
    return BUILDER_URL + quote(json.dumps(payload, separators=(",", ":"), ensure_ascii=False), safe="")


def view_to_text(view: dict[str, Any]) -> str:
    """A modal's title and buttons around its blocks; a Home tab is its blocks."""
    text = blocks_to_text(view.get("blocks", []))
    if view.get("type") != "modal":
        return text
    title = _text_of(view.get("title"))
    buttons = "  ".join(f"[{_text_of(view[key])}]" for key in ("close", "submit") if view.get(key))
    return f"╭─ {title} " + "─" * max(3, 60 - len(title)) + f"\n{text}\n  {buttons}"


class _PageText(HTMLParser):
    """Headings, paragraphs, list items and links of a small page, one line each (scripts and styles dropped)."""

    _BLOCKS = ("h1", "h2", "p", "li")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._tags: list[str] = []
        self._href: str | None = None
        self._items = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tags.append(tag)
        if tag == "ol":
            self._items = 0
        if tag == "li":
            self._items += 1
            self._line.append(f"{self._items}. ")
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._line.append("[")

    def handle_endtag(self, tag: str) -> None:
        if self._tags and self._tags[-1] == tag:
            self._tags.pop()
        if tag == "a":
            self._line.append(f" → {self._href}]" if self._href else "]")
        if tag in self._BLOCKS or (tag == "a" and not any(t in self._BLOCKS for t in self._tags)):
            text = " ".join("".join(self._line).split())
            if text:
                self.lines.append(f"┏━ {text} " + "━" * max(3, 60 - len(text)) if tag == "h1" else f"  {text}")
            self._line = []

    def handle_data(self, data: str) -> None:
        if not any(tag in ("style", "script", "title") for tag in self._tags):
            self._line.append(data)


def page_to_text(page: str) -> str:
    """A plain-text rendering of one of the app's web pages (or Slack's consent page in the sandbox)."""
    parser = _PageText()
    parser.feed(page)
    parser.close()
    return "\n".join(parser.lines)
