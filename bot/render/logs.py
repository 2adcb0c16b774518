"""Transcript and log entries, a page at a time, so even a 10,000-entry call stays inside Slack's limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.actions import (
    LOGS_ALL,
    LOGS_DOWNLOAD,
    LOGS_ERRORS,
    LOGS_FIRST_ERROR,
    LOGS_PAGE,
    LOGS_PAGE_OLDER,
    SHOW_SUMMARY,
    ButtonValue,
    button,
)
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
ERRORS_ONLY = "Errors only"
ALL_ENTRIES = "All entries"
FIRST_ERROR = "Jump to first error"
DOWNLOAD = "Download all (.txt)"
NO_ERRORS = "No errors in this call's logs."
ERRORS_CONTEXT = "Errors only"
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


def page_count(conversation: Conversation, *, errors_only: bool = False) -> int:
    total = len(conversation.error_indexes) if errors_only else len(conversation.transcript) + len(conversation.logs)
    return max(1, -(-total // PAGE_SIZE))


def first_error_page(conversation: Conversation) -> int | None:
    """The page (of every entry) holding the first error, or None for a call without errors."""
    errors = conversation.error_indexes
    return None if not errors else (len(conversation.transcript) + errors[0]) // PAGE_SIZE + 1


def render_logs_page(
    conversation: Conversation,
    page: int = 1,
    *,
    private: bool = False,
    show_caller_number: bool = False,
    errors_only: bool = False,
) -> LogsPage:
    """Page ``page`` (from 1, clamped) of the transcript followed by the log entries (or of the errors only).

    Transcripts and logs often hold phone numbers (the caller's, and any said in the call); unless the
    page is private (or full numbers are configured), each shows only its last four digits.
    """
    turns, logs = conversation.transcript, conversation.logs
    errors = conversation.error_indexes
    total = len(errors) if errors_only else len(turns) + len(logs)
    pages = page_count(conversation, errors_only=errors_only)
    page = min(max(1, page), pages)
    first = (page - 1) * PAGE_SIZE
    last = min(total, first + PAGE_SIZE)

    # Only this page's entries are masked: a 10,000-entry call costs no more than a short one.
    mask = phone_mask(conversation, show_numbers=private or show_caller_number)
    started = conversation.started_at
    lines: list[str] = []
    if errors_only:
        errors_here = [_log_line(logs[errors[index]], started, mask) for index in range(first, last)]
        lines = [LOGS_HEADING, *errors_here] if errors_here else []
    else:
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
        empty = NO_ERRORS if errors_only else _no_entries(conversation)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": empty}})

    what = "errors" if errors_only else "entries"
    where = f"Page {page} of {pages}" + (f" · {what} {first + 1} to {last} of {total}" if total else "")
    if errors_only:
        where = f"{ERRORS_CONTEXT} · {where}"
    context = f"{where} · times from the start of the call · conversation {code(conversation.id, 80)}"
    if lines and conversation.still_processing:
        context += f" · {STILL_PROCESSING}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})

    buttons = _buttons(conversation, page, pages, private=private, errors_only=errors_only)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return LogsPage(blocks=blocks, text=f"Logs of {inline(title, 150)} ({where})", page=page, pages=pages)


def _buttons(
    conversation: Conversation, page: int, pages: int, *, private: bool, errors_only: bool
) -> list[dict[str, Any]]:
    """Paging, the errors filter and its shortcut, the whole call as a file, and (privately) the summary."""
    conversation_id = conversation.id
    buttons = []
    if page > 1:
        buttons.append(button(OLDER, LOGS_PAGE_OLDER, ButtonValue(conversation_id, page - 1, errors=errors_only)))
    if page < pages:
        buttons.append(button(NEWER, LOGS_PAGE, ButtonValue(conversation_id, page + 1, errors=errors_only)))
    if errors_only:
        buttons.append(button(ALL_ENTRIES, LOGS_ALL, ButtonValue(conversation_id)))
    elif conversation.error_indexes:
        count = len(conversation.error_indexes)
        buttons.append(button(f"{ERRORS_ONLY} ({count})", LOGS_ERRORS, ButtonValue(conversation_id, errors=True)))
        error_page = first_error_page(conversation)
        if error_page is not None and error_page != page:
            buttons.append(button(FIRST_ERROR, LOGS_FIRST_ERROR, ButtonValue(conversation_id, error_page)))
    if page_count(conversation) > 1:
        buttons.append(button(DOWNLOAD, LOGS_DOWNLOAD, ButtonValue(conversation_id)))
    if private:
        buttons.append(button(BACK_TO_SUMMARY, SHOW_SUMMARY, ButtonValue(conversation_id)))
    return buttons


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
