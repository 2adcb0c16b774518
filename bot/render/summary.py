"""The conversation summary: one renderer for every surface (command, unfurl, mention, shortcut)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from bot.actions import GET_RECORDING, OPEN_RECORDING, SHOW_LOGS, ButtonValue, button
from bot.hamsa.models import Conversation, Status
from bot.render.phones import PhoneMask, last_four
from bot.render.text import ELLIPSIS, Mask, code, inline, mrkdwn, plain

UNTITLED = "Untitled conversation"
RECORDING_NOT_READY = ":hourglass_flowing_sand: Recording not ready yet"
# A finished call whose recording, transcript or logs Hamsa has yet to add (see Conversation.still_processing).
PROCESSING = ":hourglass_flowing_sand: Hamsa is still processing this call: more follows shortly"
NO_RECORDING = "No recording"
PLAY_RECORDING = "▶ Play recording"
# The answer to "Play recording" on a message the channel sees: the link goes to the clicker alone.
RECORDING_FOR_YOU = "The recording of *{title}*, just for you (the link expires; press *Play recording* again later)."
RECORDING_LATER = ":hourglass_flowing_sand: Hamsa is still processing *{title}*: its recording follows shortly."
RECORDING_AFTER_CALL = ":hourglass_flowing_sand: *{title}* is not over yet: its recording comes after the call."
RECORDING_NONE = "*{title}* has no recording."
SHOW_LOGS_LABEL = "Show logs"
UNKNOWN = "—"
WHY_IT_FAILED = "Why it failed"
WHY_IT_ENDED = "Why it ended"
CALLER_SAID = ":speech_balloon: *Caller:* “{words}”"
OUTCOME = "*Outcome*"
MORE = "*More:* {rest}"
YES, NO = "Yes", "No"
# GitHub's rule for messages: a few fields, then "more". The outcome shows at most this many as fields.
OUTCOME_FIELDS = 6
_OUTCOME_KEYS = 50  # an outcome is read this far, whatever its size
_OUTCOME_VALUE = 100
_MORE_LIMIT = 600
_QUOTE_LIMIT = 200

STATUS_EMOJI: dict[str, str] = {
    Status.PENDING: ":hourglass_flowing_sand:",
    Status.IN_PROGRESS: ":studio_microphone:",
    Status.COMPLETED: ":white_check_mark:",
    Status.NO_ANSWER: ":no_bell:",
    Status.FAILED: ":x:",
    Status.FORWARDED: ":arrow_right_hook:",
    Status.TERMINATED: ":octagonal_sign:",
}
NEUTRAL_EMOJI = ":grey_question:"

_MAX_URL = 3000
_NON_DIGITS = re.compile(r"\D")
_SEPARATORS = re.compile(r"[_\-.]+")
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def status_label(status: str | None) -> str:
    """``IN_PROGRESS`` → ``In progress``; unknown values are kept (escaped), never dropped."""
    if not status:
        return "Unknown status"
    return inline(status.replace("_", " ").strip().capitalize(), 40) or "Unknown status"


def status_emoji(status: str | None) -> str:
    return STATUS_EMOJI.get(status or "", NEUTRAL_EMOJI)


def format_duration(seconds: float | None) -> str:
    """``125`` → ``2m 05s``; ``3725`` → ``1h 02m 05s``; nothing (or 0) → a dash."""
    if not seconds or not math.isfinite(seconds) or seconds < 0:
        return UNKNOWN
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def channel_label(channel_type: str | None) -> str:
    """Documented as both ``TELEPHONE`` and ``Telephone``: compare case-insensitively."""
    if not channel_type:
        return UNKNOWN
    return inline(channel_type.replace("_", " ").strip().capitalize(), 40) or UNKNOWN


def slack_date(moment: datetime | None) -> str:
    """A date Slack shows in the reader's own time zone, with a UTC fallback."""
    if moment is None:
        return UNKNOWN
    if moment.tzinfo is None:  # Hamsa's timestamps are UTC even when they do not say so
        moment = moment.replace(tzinfo=UTC)
    try:
        epoch = int(moment.timestamp())
        fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return UNKNOWN
    return f"<!date^{epoch}^{{date_short_pretty}} at {{time}}|{fallback}>"


def mask_number(number: str | None, *, show_full: bool) -> str | None:
    """Phone numbers are personal data: only the last four digits, unless configured otherwise."""
    if not number:
        return None
    if show_full:
        return inline(number, 40)
    return last_four(_NON_DIGITS.sub("", number))


def phone_mask(conversation: Conversation, *, show_numbers: bool) -> Mask | None:
    """What hides phone numbers in this conversation's text, unless numbers may be shown."""
    return None if show_numbers else PhoneMask.for_conversation(conversation)


def recording_url(conversation: Conversation) -> str | None:
    """The recording link when it is an http(s) URL Slack can take; anything else is not a link."""
    url = (conversation.media_url or "").strip()
    if len(url) > _MAX_URL or not url.lower().startswith(("https://", "http://")):
        return None
    # Whitespace, control and invisible format characters (e.g. right-to-left overrides) make no valid link.
    if " " in url or not url.isprintable():
        return None
    return url


def title_of(conversation: Conversation, limit: int = 150, mask: Mask | None = None) -> str:
    return plain(conversation.title or "", limit, mask) or UNTITLED


def summary_text(conversation: Conversation, *, show_numbers: bool = False) -> str:
    """One line for notifications and screen readers (a message's top-level ``text``)."""
    title = title_of(conversation, 200, phone_mask(conversation, show_numbers=show_numbers))
    parts = [status_label(conversation.status), format_duration(conversation.call_duration)]
    return f"{inline(title, 200)} — " + ", ".join(p for p in parts if p != UNKNOWN)


def logs_button(conversation_id: str, thread_ts: str | None = None) -> dict[str, Any]:
    """``thread_ts``: the thread the logs go to, when the click itself cannot tell (in an unfurl)."""
    return button(SHOW_LOGS_LABEL, SHOW_LOGS, ButtonValue(conversation_id, thread_ts=thread_ts))


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{label}*\n{value}"}


def render_summary(
    conversation: Conversation,
    *,
    private: bool = False,
    show_caller_number: bool = False,
    recording: bool = True,
    quote: bool = True,
    extra_buttons: tuple[dict[str, Any], ...] = (),
    footer: str | None = None,
    logs_thread_ts: str | None = None,
) -> list[dict[str, Any]]:
    """The full summary. ``footer`` is trusted mrkdwn written by the app (e.g. who shared it).

    ``quote``: the caller's first words, unless the workspace keeps transcripts out of this place.

    Unless ``private`` (seen by one person only), phone numbers show their last four digits (all of them
    with ``show_caller_number``), and the recording is a button that sends its link to whoever presses it
    (none without ``recording``): a signed link in a channel could be copied by anyone there, guests and
    other organisations included.
    """
    show_numbers = private or show_caller_number
    mask = phone_mask(conversation, show_numbers=show_numbers)
    fields = [
        _field("Status", f"{status_emoji(conversation.status)} {status_label(conversation.status)}"),
        _field("Duration", format_duration(conversation.call_duration)),
        _field("Channel", channel_label(conversation.channel_type)),
        _field("Started", slack_date(conversation.started_at)),
    ]
    agent = conversation.agent_details.agent_name if conversation.agent_details else None
    if agent:
        fields.append(_field("Agent", inline(agent, 200, mask)))
    number = conversation.call_params.user_number if conversation.call_params else None
    caller = mask_number(number, show_full=show_numbers)
    if caller:
        fields.append(_field("Caller", caller))

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title_of(conversation, mask=mask), "emoji": False}},
        {"type": "section", "fields": fields},
    ]
    reason = _reason(conversation, mask)
    if reason:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": reason}})
    words = conversation.caller_first_words if quote else None
    if words:
        said = CALLER_SAID.format(words=inline(words, _QUOTE_LIMIT, mask))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": said}})
    blocks.extend(_outcome_blocks(conversation.outcome, mask))

    url = recording_url(conversation)
    buttons: list[dict[str, Any]] = []
    if url and private:
        buttons.append(recording_link_button(url))
    elif url and recording:
        buttons.append(recording_button(conversation.id))
    buttons.append(logs_button(conversation.id, logs_thread_ts))
    buttons.extend(extra_buttons)
    blocks.append({"type": "actions", "elements": buttons})

    note = _recording_note(conversation, has_recording=bool(url))
    context = [note] if note else []
    context.append(f"Conversation {code(conversation.id, 80)}")
    if footer:
        context.append(footer)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    return blocks


def _reason(conversation: Conversation, mask: Mask | None) -> str | None:
    """Why the call failed or ended, as Hamsa says it (``callAnalysis.error``), with its code and when it ended."""
    reason = conversation.failure_reason
    if not reason:
        return None
    label = WHY_IT_FAILED if conversation.status == Status.FAILED else WHY_IT_ENDED
    text = f":warning: *{label}:* {mrkdwn(reason, 1500, mask)}"
    failure_code = conversation.failure_code
    if failure_code and failure_code not in reason:
        text += f" (code {code(failure_code, 20)})"
    ended = slack_date(conversation.ended_at)
    return text if ended == UNKNOWN else f"{text} · ended {ended}"


def outcome_label(key: object) -> str:
    """``orderNumber`` / ``order_number`` → ``Order number``."""
    words = _WORD_BOUNDARY.sub(" ", _SEPARATORS.sub(" ", str(key))).split()
    return inline(" ".join(words).capitalize(), 40) or UNKNOWN


def outcome_value(value: Any, mask: Mask | None) -> str:
    """One extracted value in a few words: structures are counted, not shown (the logs have them)."""
    if value is None or value == "":
        return UNKNOWN
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, int):
        return inline(str(value), 40)
    if isinstance(value, float):
        return inline(f"{value:g}", 40)
    if isinstance(value, dict):
        return f"{len(value)} fields"
    if isinstance(value, list):
        return f"{len(value)} items"
    return inline(value, _OUTCOME_VALUE, mask) or UNKNOWN


def _outcome_blocks(outcome: dict[str, Any], mask: Mask | None) -> list[dict[str, Any]]:
    """Up to ``OUTCOME_FIELDS`` short fields, and the rest on one bounded line of "more"."""
    items = [(key, value) for key, value in list(outcome.items())[:_OUTCOME_KEYS] if value not in (None, "", {}, [])]
    if not items:
        return []
    fields = [_field(outcome_label(key), outcome_value(value, mask)) for key, value in items[:OUTCOME_FIELDS]]
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": OUTCOME}, "fields": fields}]
    rest = [f"{outcome_label(key)}: {outcome_value(value, mask)}" for key, value in items[OUTCOME_FIELDS:]]
    if len(outcome) > _OUTCOME_KEYS:
        rest.append(ELLIPSIS)
    if rest:
        line = " · ".join(rest)
        if len(line) > _MORE_LIMIT:  # cut between two values, never inside one (or an escaped character)
            line = line[: _MORE_LIMIT - 4].rsplit(" · ", 1)[0] + " · " + ELLIPSIS
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": MORE.format(rest=line)}]})
    return blocks


def _recording_note(conversation: Conversation, *, has_recording: bool) -> str | None:
    if conversation.still_processing:
        return PROCESSING
    if has_recording:
        return None
    return NO_RECORDING if conversation.is_finished else RECORDING_NOT_READY


def recording_link_button(url: str) -> dict[str, Any]:
    """The recording's own link: only in messages a single person sees."""
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": PLAY_RECORDING, "emoji": True},
        "action_id": OPEN_RECORDING,
        "url": url,
    }


def recording_button(conversation_id: str) -> dict[str, Any]:
    """The recording in a message the channel sees: carries the conversation ID only, never the link."""
    return button(PLAY_RECORDING, GET_RECORDING, ButtonValue(conversation_id))


def render_recording(conversation: Conversation) -> dict[str, Any]:
    """The private answer to ``recording_button``: the link, or why there is none yet."""
    title = inline(title_of(conversation, 120), 200)
    url = recording_url(conversation)
    if url:
        text = RECORDING_FOR_YOU.format(title=title)
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "actions", "elements": [recording_link_button(url)]},
        ]
        return {"text": text, "blocks": blocks}
    if not conversation.is_finished:
        text = RECORDING_AFTER_CALL.format(title=title)
    elif conversation.still_processing:
        text = RECORDING_LATER.format(title=title)
    else:
        text = RECORDING_NONE.format(title=title)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def render_condensed(
    conversation: Conversation,
    *,
    show_numbers: bool = False,
    logs: bool = True,
    logs_thread_ts: str | None = None,
    footer: str | None = None,
) -> list[dict[str, Any]]:
    """One line per conversation, for messages that link several (seen by the channel).

    Also all a channel shared with other organisations sees by default: without ``logs``, no button.
    ``footer`` is trusted mrkdwn written by the app (who shared it, when it was last updated).
    """
    title = title_of(conversation, 120, phone_mask(conversation, show_numbers=show_numbers))
    line = " · ".join(
        part
        for part in (
            f"{status_emoji(conversation.status)} *{inline(title, 200)}*",
            status_label(conversation.status),
            format_duration(conversation.call_duration),
            channel_label(conversation.channel_type),
            slack_date(conversation.started_at),
        )
        if part != UNKNOWN
    )
    section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": line}}
    if logs:
        section["accessory"] = logs_button(conversation.id, logs_thread_ts)
    context = f"Conversation {code(conversation.id, 80)}" + (f" · {footer}" if footer else "")
    return [section, {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}]
