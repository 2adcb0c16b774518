"""Transcript and log entries, a page at a time, so even a 10,000-entry call stays inside Slack's limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.actions import LOGS_PAGE, LOGS_PAGE_OLDER, SHOW_SUMMARY, ButtonValue, button
from bot.hamsa.models import Conversation, LogEntry, TranscriptTurn
from bot.render.summary import phone_mask, title_of
from bot.render.text import Mask, code, inline, masked, plain, scan_length

PAGE_SIZE = 20
NO_ENTRIES = "No transcript or log entries yet. Hamsa adds them shortly after a call ends."
NO_ENTRIES_PROCESSING = "No transcript or log entries yet: Hamsa is still processing this call. They follow shortly."
NO_ENTRIES_EVER = "This call has no transcript or log entries."
STILL_PROCESSING = "Hamsa is still processing this call, more may follow"
OLDER = "◀ Older"
NEWER = "Newer ▶"
BACK_TO_SUMMARY = "Back to summary"
TRANSCRIPT_HEADING = "*Transcript*"
LOGS_HEADING = "*Logs*"

LEVEL_EMOJI = {"ERROR": ":red_circle:", "WARNING": ":large_orange_circle:", "WARN": ":large_orange_circle:"}
_SECTION_LIMIT = 2900
_PAYLOAD_LIMIT = 160
_MESSAGE_LIMIT = 300
_TURN_LIMIT = 500


@dataclass(frozen=True, slots=True)
class LogsPage:
    blocks: list[dict[str, Any]]
    text: str
    page: int
    pages: int


def page_count(conversation: Conversation) -> int:
    total = len(conversation.transcript) + len(conversation.logs)
    return max(1, -(-total // PAGE_SIZE))


def render_logs_page(
    conversation: Conversation, page: int = 1, *, private: bool = False, show_caller_number: bool = False
) -> LogsPage:
    """Page ``page`` (from 1, clamped) of the transcript followed by the log entries.

    Transcripts and logs often hold phone numbers (the caller's, and any said in the call); unless the
    page is private (or full numbers are configured), each shows only its last four digits.
    """
    turns, logs = conversation.transcript, conversation.logs
    total = len(turns) + len(logs)
    pages = page_count(conversation)
    page = min(max(1, page), pages)
    first = (page - 1) * PAGE_SIZE
    last = min(total, first + PAGE_SIZE)

    # Only this page's entries are masked: a 10,000-entry call costs no more than a short one.
    mask = phone_mask(conversation, show_numbers=private or show_caller_number)
    started = conversation.started_at
    lines: list[str] = []
    for index in range(first, last):
        if index < len(turns):
            if index == first or index == 0:
                lines.append(TRANSCRIPT_HEADING)
            lines.append(_turn_line(turns[index], mask))
        else:
            if index == first or index == len(turns):
                lines.append(LOGS_HEADING)
            lines.append(_log_line(logs[index - len(turns)], started, mask))

    title = title_of(conversation, 120, mask)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain(f"Logs · {title}", 150), "emoji": False}}
    ]
    if lines:
        blocks.extend({"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in _pack(lines))
    else:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _no_entries(conversation)}})

    where = f"Page {page} of {pages}" + (f" · entries {first + 1} to {last} of {total}" if total else "")
    context = f"{where} · times from the start of the call · conversation {code(conversation.id, 80)}"
    if lines and conversation.still_processing:
        context += f" · {STILL_PROCESSING}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})

    buttons = []
    if page > 1:
        buttons.append(button(OLDER, LOGS_PAGE_OLDER, ButtonValue(conversation.id, page - 1)))
    if page < pages:
        buttons.append(button(NEWER, LOGS_PAGE, ButtonValue(conversation.id, page + 1)))
    if private:
        buttons.append(button(BACK_TO_SUMMARY, SHOW_SUMMARY, ButtonValue(conversation.id)))
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return LogsPage(blocks=blocks, text=f"Logs of {inline(title, 150)} ({where})", page=page, pages=pages)


def _no_entries(conversation: Conversation) -> str:
    if not conversation.is_finished:
        return NO_ENTRIES
    return NO_ENTRIES_PROCESSING if conversation.still_processing else NO_ENTRIES_EVER


def _pack(lines: list[str]) -> list[str]:
    """Join lines into section texts, each within Slack's 3,000-character limit."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + 1 + len(line) > _SECTION_LIMIT:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def _turn_line(turn: TranscriptTurn, mask: Mask | None) -> str:
    return f"*{inline(turn.speaker, 40, mask)}:* {inline(turn.text, _TURN_LIMIT, mask) or '—'}"


def _log_line(entry: LogEntry, started: datetime | None, mask: Mask | None) -> str:
    level = (entry.type or "").upper()
    parts = [code(_offset(entry.at, started), 12)]
    if level:
        parts.append(f"{LEVEL_EMOJI.get(level, '')}*{inline(level, 20)}*".strip())
    if entry.category:
        parts.append(inline(entry.category, 60, mask))
    parts.append(inline(entry.message, _MESSAGE_LIMIT, mask) if entry.message else "—")
    payload = compact(entry.payload, _PAYLOAD_LIMIT, mask)
    if payload:
        parts.append(code(payload, _PAYLOAD_LIMIT + 2))
    return " · ".join(parts)


def _offset(moment: datetime | None, started: datetime | None) -> str:
    if moment is None or started is None:
        return "--:--"
    seconds = round((_utc(moment) - _utc(started)).total_seconds())
    sign = "-" if seconds < 0 else "+"
    minutes, secs = divmod(abs(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes:02d}:{secs:02d}"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def compact(value: Any, limit: int, mask: Mask | None = None) -> str:
    """A short JSON-like preview of a payload; bounded in depth and length, whatever its shape."""
    if value in (None, {}, [], ""):
        return ""
    out: list[str] = []
    size = 0
    bound = limit if mask is None else scan_length(limit)

    def emit(text: str) -> bool:
        nonlocal size
        out.append(text)
        size += len(text)
        return size <= bound

    def walk(item: Any, depth: int) -> bool:
        if depth > 4:
            return emit("…")
        if isinstance(item, dict):
            if not emit("{"):
                return False
            for n, (key, child) in enumerate(item.items()):
                if (n and not emit(",")) or not emit(json.dumps(str(key), ensure_ascii=False) + ":"):
                    return False
                if not walk(child, depth + 1):
                    return False
            return emit("}")
        if isinstance(item, list):
            if not emit("["):
                return False
            for n, child in enumerate(item):
                if (n and not emit(",")) or not walk(child, depth + 1):
                    return False
            return emit("]")
        if isinstance(item, str):
            return emit(json.dumps(item[: bound + 1], ensure_ascii=False))
        return emit(json.dumps(item, default=str))

    walk(value, 0)
    text = masked("".join(out)[:bound], limit, mask)
    return text if len(text) <= limit else text[: limit - 1] + "…"
