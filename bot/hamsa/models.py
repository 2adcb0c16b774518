"""Typed view of a Hamsa conversation.

Hamsa documents few guarantees, so every field is optional, unknown fields are ignored, and a field
of an unexpected shape becomes ``None`` instead of failing the whole conversation.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)


class Status(StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    NO_ANSWER = "NO_ANSWER"
    FAILED = "FAILED"
    FORWARDED = "FORWARDED"
    TERMINATED = "TERMINATED"


# The words people type for statuses (``/hamsa subscribe failed no-answer``, ``/hamsa recent failed``).
STATUS_WORDS: dict[str, Status] = {
    "completed": Status.COMPLETED,
    "no-answer": Status.NO_ANSWER,
    "failed": Status.FAILED,
    "forwarded": Status.FORWARDED,
    "terminated": Status.TERMINATED,
    "in-progress": Status.IN_PROGRESS,
    "pending": Status.PENDING,
}
WORD_OF_STATUS: dict[str, str] = {status.value: word for word, status in STATUS_WORDS.items()}


def status_word(status: str | None) -> str | None:
    """The word people type for a Hamsa status (``NO_ANSWER`` → ``no-answer``); None for an unknown one."""
    return WORD_OF_STATUS.get(status or "")


FINISHED_STATUSES = frozenset({Status.COMPLETED, Status.NO_ANSWER, Status.FAILED, Status.FORWARDED, Status.TERMINATED})
# Calls someone answered: only these get a recording, a transcript and logs after they end.
ANSWERED_STATUSES = frozenset({Status.COMPLETED, Status.FORWARDED, Status.TERMINATED})
# Log levels that count as errors (Errors only, Jump to first error).
ERROR_LEVELS = frozenset({"ERROR", "FATAL", "CRITICAL"})
# How transcripts name the person who called (observed: "User"); compared case-insensitively.
CALLER_SPEAKERS = frozenset({"user", "caller", "customer", "client", "human"})
# How long after a call ends Hamsa may still be adding its recording, transcript and logs.
PROCESSING_WINDOW = timedelta(minutes=10)


class _Lenient(BaseModel):
    """Base model: unknown fields are ignored, and a field of the wrong shape is dropped, not fatal."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    @field_validator("*", mode="wrap")
    @classmethod
    def _drop_if_malformed(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        try:
            return handler(value)
        except ValueError:
            if info.field_name == "id":
                raise
            return None


def _text(value: Any) -> str | None:
    """Coerce scalars to text (ids may arrive as numbers); structures are not text."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return value if isinstance(value, str) else str(value)


class CallParams(_Lenient):
    user_number: str | None = Field(default=None, alias="userNumber")
    machine_number: str | None = Field(default=None, alias="machineNumber")

    _coerce = field_validator("user_number", "machine_number", mode="before")(lambda v: _text(v))


class AgentDetails(_Lenient):
    agent_name: str | None = Field(default=None, alias="agentName")

    _coerce = field_validator("agent_name", mode="before")(lambda v: _text(v))


class FailureReason(_Lenient):
    message: str | None = None
    status_code: str | None = Field(default=None, alias="statusCode")

    _coerce = field_validator("message", "status_code", mode="before")(lambda v: _text(v))


class CallAnalysis(_Lenient):
    error: FailureReason | None = None


class TranscriptTurn(BaseModel):
    """One turn: ``{"Agent": "Hello"}``; old data holds tool calls as the value."""

    speaker: str
    text: str


class LogEntry(_Lenient):
    """Both documented ``{id, timestamp, payload}`` and observed ``{type, category, message, …}`` shapes."""

    type: str | None = None
    category: str | None = None
    message: str | None = None
    payload: Any = None
    timestamp: datetime | None = None
    created_at: datetime | None = Field(default=None, alias="createdAt")

    _coerce = field_validator("type", "category", "message", mode="before")(lambda v: _text(v))

    @property
    def at(self) -> datetime | None:
        return self.timestamp or self.created_at


class JobResponse(_Lenient):
    """What Hamsa adds after a call; ``outcomeResult`` (the fields the agent extracted) is kept for summaries."""

    transcription: list[TranscriptTurn] = Field(default_factory=list)
    outcome_result: dict[str, Any] | None = Field(default=None, alias="outcomeResult")
    call_started_at: datetime | None = Field(default=None, alias="callStartedAt")
    call_ended_at: datetime | None = Field(default=None, alias="callEndedAt")

    @field_validator("transcription", mode="before")
    @classmethod
    def _turns(cls, value: Any) -> list[TranscriptTurn]:
        return parse_turns(value)


class Conversation(_Lenient):
    id: str
    title: str | None = None
    status: str | None = None
    call_duration: float | None = Field(default=None, alias="callDuration")
    channel_type: str | None = Field(default=None, alias="channelType")
    media_url: str | None = Field(default=None, alias="mediaUrl")
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")
    call_params: CallParams | None = Field(default=None, alias="callParams")
    agent_details: AgentDetails | None = Field(default=None, alias="agentDetails")
    job_response: JobResponse | None = Field(default=None, alias="jobResponse")
    logs: list[LogEntry] = Field(default_factory=list)
    call_analysis: CallAnalysis | None = Field(default=None, alias="callAnalysis")
    voice_agent_id: str | None = Field(default=None, alias="voiceAgentId")

    _coerce = field_validator("title", "status", "channel_type", "media_url", "voice_agent_id", mode="before")(
        lambda v: _text(v)
    )

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        text = _text(value)
        if not text:
            raise ValueError("a conversation needs an id")
        return text

    @field_validator("logs", mode="before")
    @classmethod
    def _logs(cls, value: Any) -> list[Any]:
        # One malformed item must not hide the others.
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []

    _duration = field_validator("call_duration", mode="before")(lambda v: _seconds(v))

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def still_processing(self) -> bool:
        """Finished, but Hamsa may still be adding the recording, transcript or logs it adds after a call.

        Only answered calls (completed, forwarded, terminated) get all three; an unanswered or failed call
        may never get any, so it is never "processing" and is cached as finished at once. An answered call
        missing any of them counts as processing for ``PROCESSING_WINDOW`` after it ended (a clock a little
        ahead counts as just ended); after that a missing part is taken as never coming, so such a call is
        not fetched again every few seconds for ever. With no known end time it is not processing either.
        """
        if self.status not in ANSWERED_STATUSES or (self.media_url and self.transcript and self.logs):
            return False
        ended = self.ended_at
        if ended is None:
            return False
        ended = ended if ended.tzinfo else ended.replace(tzinfo=UTC)
        return abs(datetime.now(UTC) - ended) < PROCESSING_WINDOW

    @property
    def settled(self) -> bool:
        """Finished, and holding all Hamsa will add: what it shows will not change any more."""
        return self.is_finished and not self.still_processing

    @property
    def agent_name(self) -> str | None:
        return self.agent_details.agent_name if self.agent_details else None

    @property
    def ended_at(self) -> datetime | None:
        """When the call ended: Hamsa's ``callEndedAt`` (filled late), else the record's last update or creation."""
        ended = self.job_response.call_ended_at if self.job_response else None
        return ended or self.updated_at or self.created_at

    @property
    def transcript(self) -> list[TranscriptTurn]:
        return self.job_response.transcription if self.job_response else []

    @property
    def started_at(self) -> datetime | None:
        started = self.job_response.call_started_at if self.job_response else None
        return started or self.created_at

    @property
    def failure_reason(self) -> str | None:
        error = self.call_analysis.error if self.call_analysis else None
        return error.message if error else None

    @property
    def failure_code(self) -> str | None:
        """The code Hamsa gives with the failure reason (e.g. a SIP status), when it gives one."""
        error = self.call_analysis.error if self.call_analysis else None
        return error.status_code if error else None

    @property
    def caller_first_words(self) -> str | None:
        """The first thing the caller said: their first turn of the transcript that holds any text."""
        for turn in self.transcript:
            if turn.speaker.strip().casefold() in CALLER_SPEAKERS and turn.text.strip():
                return turn.text
        return None

    @cached_property
    def error_indexes(self) -> tuple[int, ...]:
        """Where the error entries are in ``logs``; read once per conversation (a cached one is paged often)."""
        return tuple(i for i, entry in enumerate(self.logs) if (entry.type or "").upper() in ERROR_LEVELS)

    @property
    def outcome(self) -> dict[str, Any]:
        """What the agent extracted from the call (Hamsa's ``outcomeResult``): resolved, intent, order number…"""
        found = self.job_response.outcome_result if self.job_response else None
        return found or {}


def _seconds(value: Any) -> float | None:
    """A duration in seconds; Python's JSON parser accepts Infinity and NaN, and neither is a duration."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value if number and math.isfinite(value) else None


class ListedCall(_Lenient):
    """One item of Hamsa's minimal list: ``{id, createdAt, status, voiceAgentId, agentName, duration, …}``."""

    id: str
    created_at: datetime | None = Field(default=None, alias="createdAt")
    status: str | None = None
    voice_agent_id: str | None = Field(default=None, alias="voiceAgentId")
    agent_name: str | None = Field(default=None, alias="agentName")
    duration: float | None = None
    channel_type: str | None = Field(default=None, alias="channelType")
    call_params: CallParams | None = Field(default=None, alias="callParams")

    _coerce = field_validator("status", "voice_agent_id", "agent_name", "channel_type", mode="before")(
        lambda v: _text(v)
    )
    _duration = field_validator("duration", mode="before")(lambda v: _seconds(v))

    @property
    def caller_number(self) -> str | None:
        return self.call_params.user_number if self.call_params else None


class CallPage(BaseModel):
    """One page of Hamsa's minimal list, newest first.

    ``matching`` is how many calls match the filters (Hamsa's ``filtered``, else its ``total``), when it
    says; ``None`` when it does not, and then a full page is taken to mean there may be more.
    """

    model_config = ConfigDict(frozen=True)

    calls: tuple[ListedCall, ...]
    page: int
    per_page: int
    matching: int | None = None

    @property
    def has_older(self) -> bool:
        if self.matching is not None:
            return self.page * self.per_page < self.matching
        return len(self.calls) >= self.per_page

    @property
    def pages(self) -> int | None:
        """How many pages the matching calls fill (at least one), when Hamsa says how many match."""
        return None if self.matching is None else max(1, -(-self.matching // self.per_page))


def parse_turns(value: Any) -> list[TranscriptTurn]:
    """Read transcript turns, skipping anything that is not a ``{speaker: text}`` object."""
    if not isinstance(value, list):
        return []
    turns = []
    for item in value:
        if not isinstance(item, dict):
            continue
        for speaker, said in item.items():
            if speaker == "metadata":  # a turn's ASR details, not a speaker
                continue
            turns.append(TranscriptTurn(speaker=str(speaker), text=_turn_text(said)))
    return turns


def _turn_text(said: Any) -> str:
    if isinstance(said, str):
        return said
    if isinstance(said, list):  # old data: a list of tool calls
        names = [
            str(call["function"].get("name", "?"))
            for call in said
            if isinstance(call, dict) and isinstance(call.get("function"), dict)
        ]
        if names:
            return "called " + ", ".join(names)
    return json.dumps(said, ensure_ascii=False, default=str)
