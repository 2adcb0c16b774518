"""Making outside text safe for Slack: escaped for mrkdwn, stripped of control characters, bounded.

Each formatter takes an optional ``mask`` (see ``bot.render.phones``) that hides phone numbers; it
runs on the clean text before it is cut, so no number is shown in part.
"""

from __future__ import annotations

import re
from collections.abc import Callable

ELLIPSIS = "…"
Mask = Callable[[str], str]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def clean(value: object) -> str:
    """Text with control characters removed (newlines and tabs stay)."""
    return _CONTROL.sub("", value if isinstance(value, str) else str(value))


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def scan_length(limit: int) -> int:
    """How much of a text to mask for a result of ``limit`` characters.

    Masking shortens text (``+9 7 1 5 0 1 2 3 4 5 6 7`` becomes ``•••• 4567``), so more than ``limit`` is
    scanned: enough that a number cut at the end of the scan can't move into view, and a 100,000-character
    field costs no more than a short one.
    """
    return 3 * limit + 40


def masked(text: str, limit: int, mask: Mask | None) -> str:
    """``text`` through ``mask`` (when there is one), for a result of at most ``limit`` characters."""
    return text if mask is None else mask(text[: scan_length(limit)])


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: exactly &, < and >, so nothing outside can ping or disguise a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(value: object, limit: int, mask: Mask | None = None) -> str:
    """Outside text as safe mrkdwn of at most ``limit`` characters, never cutting an entity in half."""
    escaped = escape(masked(clean(value), limit, mask))
    if len(escaped) <= limit:
        return escaped
    cut = _PARTIAL_ENTITY.sub("", escaped[: limit - 1])
    return cut.rstrip() + ELLIPSIS


def plain(value: object, limit: int, mask: Mask | None = None) -> str:
    """Outside text for a ``plain_text`` object (Slack does not parse markup there)."""
    return truncate(masked(clean(value).strip(), limit, mask), limit)


def inline(value: object, limit: int, mask: Mask | None = None) -> str:
    """Outside text on one line: whitespace runs (newlines included) collapse to one space."""
    return mrkdwn(" ".join(clean(value).split()), limit, mask)


def code(value: object, limit: int, mask: Mask | None = None) -> str:
    """Outside text inside a `code` span; a backtick would end the span, so it is swapped out."""
    return "`" + inline(clean(value).replace("`", "\u02cb"), limit, mask) + "`"
