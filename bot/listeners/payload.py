"""Reading Slack payloads defensively: a missing or odd-shaped part reads as empty."""

from __future__ import annotations

from typing import Any


def part(payload: Any, key: str) -> dict[str, Any]:
    """``payload[key]`` when it is an object, else an empty one."""
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, dict) else {}


def text(payload: Any, key: str) -> str:
    """``payload[key]`` as text ("" when missing)."""
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, str) else ""


# Where a message keeps text and links: its text, block text and link elements, and its attachments
# (unfurls among them). Button values and other fields are not words anyone wrote.
_TEXT_KEYS = frozenset({"text", "url", "fallback", "pretext", "title", "title_link", "from_url", "app_unfurl_url"})
# A message has at most 50 blocks and 100 attachments; these bounds keep a hostile payload cheap.
_MAX_DEPTH = 16
_MAX_STRINGS = 5000
_MAX_CHARS = 200_000


def message_text(message: Any) -> str:
    """Every text and link a message holds, one per line: its text, its blocks and its attachments.

    A bot's ``text`` may be only the fallback of its blocks, and an unfurled link may be only in an
    attachment (``from_url``, ``app_unfurl_url``), so ``text`` alone misses references.
    """
    found: list[str] = []

    def collect(node: Any, depth: int) -> None:
        if depth > _MAX_DEPTH or len(found) >= _MAX_STRINGS:
            return
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(value, str):
                if key in _TEXT_KEYS:
                    found.append(value)
            else:
                collect(value, depth + 1)

    if isinstance(message, dict):
        collect({key: message.get(key) for key in ("text", "blocks", "attachments")}, 0)
    return "\n".join(found)[:_MAX_CHARS]
