"""Making outside text safe for Slack: escaped for mrkdwn, stripped of control characters, bounded."""

from __future__ import annotations

import re

ELLIPSIS = "…"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def clean(value: object) -> str:
    """Text with control characters removed (newlines and tabs stay)."""
    return _CONTROL.sub("", value if isinstance(value, str) else str(value))


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: exactly &, < and >, so nothing outside can ping or disguise a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(value: object, limit: int) -> str:
    """Outside text as safe mrkdwn of at most ``limit`` characters, never cutting an entity in half."""
    escaped = escape(clean(value))
    if len(escaped) <= limit:
        return escaped
    cut = _PARTIAL_ENTITY.sub("", escaped[: limit - 1])
    return cut.rstrip() + ELLIPSIS


def plain(value: object, limit: int) -> str:
    """Outside text for a ``plain_text`` object (Slack does not parse markup there)."""
    return truncate(clean(value).strip(), limit)


def inline(value: object, limit: int) -> str:
    """Outside text on one line: whitespace runs (newlines included) collapse to one space."""
    return mrkdwn(" ".join(clean(value).split()), limit)


def code(value: object, limit: int) -> str:
    """Outside text inside a `code` span; a backtick would end the span, so it is swapped out."""
    return "`" + inline(clean(value).replace("`", "\u02cb"), limit) + "`"
