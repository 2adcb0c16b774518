"""A whole call as a text file: the transcript, then every log entry, one per line (pure).

For calls of hundreds of pages, read in an editor instead of a page at a time. Plain text, not mrkdwn:
nothing is escaped, but control characters go, each line is bounded, and (in a file a channel sees)
phone numbers show their last four digits, as on the pages.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.hamsa.models import Conversation, LogEntry
from bot.render.logs import compact
from bot.render.summary import UNTITLED, format_duration, phone_mask, status_label
from bot.render.text import Mask, clean, masked, truncate

FILE_TITLE = "Transcript and logs of {title}"
_TURN_LIMIT = 5000
_MESSAGE_LIMIT = 2000
_PAYLOAD_LIMIT = 2000
_FIELD_LIMIT = 200


def logs_filename(conversation: Conversation) -> str:
    return f"hamsa-{conversation.id}.txt"


def logs_file_title(conversation: Conversation, *, show_numbers: bool) -> str:
    return FILE_TITLE.format(title=_line(conversation.title or UNTITLED, 150, _mask(conversation, show_numbers)))


def render_logs_text(conversation: Conversation, *, show_numbers: bool) -> str:
    """The whole call as text; ``show_numbers`` False masks every phone number (for a channel)."""
    mask = _mask(conversation, show_numbers)
    started = conversation.started_at
    agent = conversation.agent_details.agent_name if conversation.agent_details else None
    lines = [
        _line(conversation.title or UNTITLED, _FIELD_LIMIT, mask),
        f"Conversation {conversation.id}",
        f"Status: {_line(status_label(conversation.status), 60, None)}",
        f"Started: {_utc(started)}",
        f"Duration: {format_duration(conversation.call_duration)}",
    ]
    if agent:
        lines.append(f"Agent: {_line(agent, _FIELD_LIMIT, mask)}")
    if conversation.failure_reason:
        lines.append(f"Why it ended: {_line(conversation.failure_reason, _MESSAGE_LIMIT, mask)}")
    lines += ["", f"Transcript ({len(conversation.transcript)} turns)"]
    lines += [
        f"{_line(turn.speaker, 40, mask)}: {_line(turn.text, _TURN_LIMIT, mask)}" for turn in conversation.transcript
    ]
    lines += ["", f"Logs ({len(conversation.logs)} entries, times from the start of the call)"]
    lines += [_log_line(entry, started, mask) for entry in conversation.logs]
    return "\n".join(lines) + "\n"


def _log_line(entry: LogEntry, started: datetime | None, mask: Mask | None) -> str:
    parts = [_offset(entry.at, started)]
    if entry.type:
        parts.append(_line(entry.type.upper(), 20, None))
    if entry.category:
        parts.append(_line(entry.category, 60, mask))
    parts.append(_line(entry.message, _MESSAGE_LIMIT, mask) if entry.message else "-")
    payload = compact(entry.payload, _PAYLOAD_LIMIT, mask)
    if payload:
        parts.append(_line(payload, _PAYLOAD_LIMIT + 2, None))
    return " | ".join(parts)


def _line(value: object, limit: int, mask: Mask | None) -> str:
    """Outside text on one line, without control characters, phone numbers masked, at most ``limit`` long."""
    return truncate(masked(" ".join(clean(value).split()), limit, mask), limit)


def _offset(moment: datetime | None, started: datetime | None) -> str:
    if moment is None or started is None:
        return "--:--"
    seconds = round((_aware(moment) - _aware(started)).total_seconds())
    sign = "-" if seconds < 0 else "+"
    minutes, secs = divmod(abs(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes:02d}:{secs:02d}"


def _utc(moment: datetime | None) -> str:
    return "-" if moment is None else _aware(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _mask(conversation: Conversation, show_numbers: bool) -> Mask | None:
    return phone_mask(conversation, show_numbers=show_numbers)
