"""Typed view of a Hamsa conversation.

Hamsa documents few guarantees, so every field is optional, unknown fields are ignored, and a field
of an unexpected shape becomes ``None`` instead of failing the whole conversation.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from enum import StrEnum
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


FINISHED_STATUSES = frozenset({Status.COMPLETED, Status.NO_ANSWER, Status.FAILED, Status.FORWARDED, Status.TERMINATED})


class _Lenient(BaseModel):
    """Base model: unknown fields are ignored, and a field of the wrong shape is dropped, not fatal."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

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
    lang: str | None = None

    _coerce = field_validator("agent_name", "lang", mode="before")(lambda v: _text(v))


class FailureReason(_Lenient):
    message: str | None = None
    status_code: int | None = Field(default=None, alias="statusCode")

    _coerce = field_validator("message", mode="before")(lambda v: _text(v))


class CallAnalysis(_Lenient):
    error: FailureReason | None = None


class PerformanceMetrics(_Lenient):
    asr_processing_time: float | None = Field(default=None, alias="asrProcessingTime")
    llm_response_time: float | None = Field(default=None, alias="llmResponseTime")
    tts_generation_time: float | None = Field(default=None, alias="ttsGenerationTime")
    total_processing_time: float | None = Field(default=None, alias="totalProcessingTime")


class TranscriptTurn(BaseModel):
    """One turn: ``{"Agent": "Hello"}``; old data holds tool calls as the value."""

    speaker: str
    text: str
    metadata: dict[str, Any] | None = None


class LogEntry(_Lenient):
    """Both documented ``{id, timestamp, payload}`` and observed ``{type, category, message, …}`` shapes."""

    id: str | None = None
    type: str | None = None
    category: str | None = None
    message: str | None = None
    node_id: str | None = Field(default=None, alias="nodeId")
    payload: Any = None
    timestamp: datetime | None = None
    created_at: datetime | None = Field(default=None, alias="createdAt")

    _coerce = field_validator("id", "type", "category", "message", "node_id", mode="before")(lambda v: _text(v))

    @property
    def at(self) -> datetime | None:
        return self.timestamp or self.created_at


class JobResponse(_Lenient):
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
    performance_metrics: PerformanceMetrics | None = Field(default=None, alias="performanceMetrics")
    model: str | None = None
    voice_agent_id: str | None = Field(default=None, alias="voiceAgentId")

    _coerce = field_validator("title", "status", "channel_type", "media_url", "model", "voice_agent_id", mode="before")(
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

    @field_validator("call_duration", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        # Python's JSON parser accepts Infinity and NaN; neither is a duration.
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return value if number and math.isfinite(value) else None

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

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


def parse_turns(value: Any) -> list[TranscriptTurn]:
    """Read transcript turns, skipping anything that is not a ``{speaker: text}`` object."""
    if not isinstance(value, list):
        return []
    turns = []
    for item in value:
        if not isinstance(item, dict):
            continue
        metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else None
        for speaker, said in item.items():
            if speaker == "metadata":
                continue
            turns.append(TranscriptTurn(speaker=str(speaker), text=_turn_text(said), metadata=metadata))
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
