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
