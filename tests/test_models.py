"""A conversation from Hamsa always parses: missing, null, new or wrongly typed fields never sink it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.hamsa.models import FINISHED_STATUSES, Conversation, Status
from bot.sandbox import samples

CONVERSATION_ID = "0b6c0e1e-3f0a-4f55-9c43-6f1d2a7b8e90"


def parse(**fields: Any) -> Conversation:
    return Conversation.model_validate({"id": CONVERSATION_ID, **fields})


def test_documented_example_parses_with_every_field_the_app_shows() -> None:
    conversation = Conversation.model_validate(samples.documented_example())

    assert conversation.id == samples.DOCUMENTED_ID
    assert conversation.title == "Customer Support Call"
    assert conversation.status == Status.COMPLETED
    assert conversation.is_finished
    assert conversation.call_duration == 125
    assert conversation.channel_type == "TELEPHONE"
    assert conversation.media_url == "https://storage.example.com/recordings/123.mp3"
    assert conversation.created_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert conversation.updated_at == datetime(2024, 1, 15, 10, 35, tzinfo=UTC)
    assert conversation.started_at == conversation.created_at  # no callStartedAt in the documented example
    assert conversation.call_params is not None
    assert conversation.call_params.user_number == "+1234567890"
    assert conversation.call_params.machine_number is None
    assert conversation.agent_details is not None
    assert conversation.agent_details.agent_name is None
    assert conversation.transcript == []
    assert conversation.failure_reason is None
    [log] = conversation.logs
    assert log.payload == {}
    assert log.at == datetime(2024, 1, 15, 10, 30, 15, tzinfo=UTC)


def test_conversation_with_only_id_and_status_parses() -> None:
    conversation = Conversation.model_validate({"id": CONVERSATION_ID, "status": "PENDING"})

    assert conversation.status == Status.PENDING
    assert not conversation.is_finished
    assert conversation.title is None
    assert conversation.call_duration is None
    assert conversation.channel_type is None
    assert conversation.media_url is None
    assert conversation.started_at is None
    assert conversation.transcript == []
    assert conversation.logs == []
    assert conversation.failure_reason is None


def test_every_field_null_parses() -> None:
    nulls = {key: None for key in samples.documented_example() if key != "id"}

    conversation = parse(**nulls)

    assert conversation.status is None
    assert conversation.logs == []
    assert conversation.transcript == []
    assert not conversation.is_finished


def test_a_conversation_needs_an_id() -> None:
    with pytest.raises(ValidationError):
        Conversation.model_validate({"status": "COMPLETED"})
    with pytest.raises(ValidationError):
        Conversation.model_validate({"id": "", "status": "COMPLETED"})


def test_unknown_fields_are_ignored_and_a_new_status_is_kept_as_is() -> None:
    conversation = parse(
        status="VOICEMAIL_LEFT",
        channelType="WHATSAPP",
        sentiment={"score": 0.4},
        brandNewList=[1, 2, 3],
        title="Renewal call",
    )

    assert conversation.status == "VOICEMAIL_LEFT"
    assert conversation.channel_type == "WHATSAPP"
    assert conversation.title == "Renewal call"
    assert not conversation.is_finished


@pytest.mark.parametrize("channel", ["TELEPHONE", "Telephone", "Web"])
def test_channel_type_is_kept_as_sent(channel: str) -> None:
    assert parse(channelType=channel).channel_type == channel


@pytest.mark.parametrize("status", sorted(Status))
def test_is_finished_for_each_documented_status(status: Status) -> None:
    finished = {"COMPLETED", "FAILED", "NO_ANSWER", "FORWARDED", "TERMINATED"}

    assert parse(status=status.value).is_finished is (status.value in finished)


def test_documented_statuses_are_exactly_the_seven_hamsa_lists() -> None:
    assert {s.value for s in Status} == {
        "PENDING",
        "IN_PROGRESS",
        "COMPLETED",
        "NO_ANSWER",
        "FAILED",
        "FORWARDED",
        "TERMINATED",
    }
    assert {Status.PENDING, Status.IN_PROGRESS}.isdisjoint(FINISHED_STATUSES)


@pytest.mark.parametrize("status", ["completed", "DONE", "", None, 7])
def test_status_other_than_a_documented_finished_one_is_not_finished(status: object) -> None:
    assert not parse(status=status).is_finished


@pytest.mark.parametrize("duration", ["2m 05s", True, {"seconds": 125}, [125], None])
def test_call_duration_of_the_wrong_type_becomes_unknown(duration: object) -> None:
    assert parse(callDuration=duration).call_duration is None


@pytest.mark.parametrize("duration", [0, 125, 1203.5])
def test_call_duration_in_seconds(duration: float) -> None:
    assert parse(callDuration=duration).call_duration == duration


def test_wrongly_typed_scalars_and_objects_become_unknown_without_losing_the_rest() -> None:
    conversation = parse(
        title={"en": "Hello"},
        status="COMPLETED",
        createdAt="yesterday afternoon",
        updatedAt=[2024],
        mediaUrl=["https://example.com/a.mp3"],
        callParams="+1234567890",
        agentDetails=["Support Agent"],
        jobResponse="pending",
        callAnalysis=["error"],
        callDuration=125,
    )

    assert conversation.title is None
    assert conversation.created_at is None
    assert conversation.updated_at is None
    assert conversation.media_url is None
    assert conversation.call_params is None
    assert conversation.agent_details is None
    assert conversation.job_response is None
    assert conversation.call_analysis is None
    assert conversation.status == Status.COMPLETED
    assert conversation.call_duration == 125


def test_numbers_where_text_is_expected_are_read_as_text() -> None:
    conversation = parse(title=42, channelType=1, callParams={"userNumber": 971501234567})

    assert conversation.title == "42"
    assert conversation.channel_type == "1"
    assert conversation.call_params is not None
    assert conversation.call_params.user_number == "971501234567"


@pytest.mark.parametrize("logs", ["not a list", {"id": "log_1"}, 17, None])
def test_logs_that_are_not_a_list_become_empty(logs: object) -> None:
    assert parse(logs=logs).logs == []


def test_logs_of_both_shapes_parse_and_junk_items_are_skipped() -> None:
    documented = {
        "id": "log_123",
        "timestamp": "2024-01-15T10:30:15Z",
        "payload": {},
        "createdAt": "2024-01-15T10:30:15Z",
        "updatedAt": "2024-01-15T10:30:15Z",
    }
    rich = {
        "id": "log_f0002",
        "type": "ERROR",
        "category": "telephony",
        "message": "Call rejected: 486 Busy Here",
        "nodeId": "node_dial",
        "payload": {"sipCode": 486},
        "timestamp": "2025-02-11T16:02:46.905Z",
    }
    only_created = {"type": "INFO", "createdAt": "2024-01-15T10:31:00Z", "message": "created only"}
    bad_time = {"id": 7, "timestamp": "not a time", "payload": [1, 2], "message": {"nested": True}}

    conversation = parse(logs=[documented, "junk", None, 3, [documented], rich, only_created, bad_time])

    first, second, third, fourth = conversation.logs
    assert first.at == datetime(2024, 1, 15, 10, 30, 15, tzinfo=UTC)
    assert (second.type, second.category, second.message) == ("ERROR", "telephony", "Call rejected: 486 Busy Here")
    assert second.payload == {"sipCode": 486}
    assert second.at == datetime(2025, 2, 11, 16, 2, 46, 905000, tzinfo=UTC)
    assert third.at == datetime(2024, 1, 15, 10, 31, tzinfo=UTC)
    assert fourth.at is None
    assert fourth.payload == [1, 2]
    assert fourth.message is None


def test_failed_sample_carries_its_failure_reason_and_rich_logs() -> None:
    conversation = Conversation.model_validate(samples.failed_call())

    assert conversation.status == Status.FAILED
    assert conversation.failure_reason == "SIP 486: callee busy"
    assert conversation.call_analysis is not None
    assert conversation.channel_type == "Telephone"
    assert conversation.call_duration == 0
    assert [log.type for log in conversation.logs] == ["INFO", "ERROR"]


@pytest.mark.parametrize(
    "call_analysis",
    [{}, {"error": None}, {"error": "boom"}, {"error": {"statusCode": 500}}, {"error": {"message": None}}],
)
def test_call_analysis_without_a_readable_message_has_no_failure_reason(call_analysis: object) -> None:
    assert parse(callAnalysis=call_analysis).failure_reason is None


def test_failure_reason_with_an_odd_status_code_keeps_the_message() -> None:
    conversation = parse(callAnalysis={"error": {"message": "Trunk unavailable", "statusCode": "n/a"}})

    assert conversation.failure_reason == "Trunk unavailable"


def test_transcript_turns_skip_metadata_and_junk_and_name_old_tool_calls() -> None:
    conversation = parse(
        jobResponse={
            "callStartedAt": "2025-03-02T09:14:07.000Z",
            "callEndedAt": "2025-03-02T09:34:10.000Z",
            "transcription": [
                {"Agent": "Hello! How can I help?"},
                {"User": "My order is late", "metadata": {"confidence": 0.71, "interrupted": True}},
                {"Agent": [{"function": {"name": "lookup_order", "arguments": '{"id": 7}'}}]},
                "junk",
                None,
                {"Agent": {"unexpected": "shape"}},
                {"User": "Thanks", "metadata": "not an object"},
            ],
        }
    )

    turns = conversation.transcript
    assert [(t.speaker, t.text) for t in turns] == [
        ("Agent", "Hello! How can I help?"),
        ("User", "My order is late"),
        ("Agent", "called lookup_order"),
        ("Agent", json.dumps({"unexpected": "shape"})),
        ("User", "Thanks"),
    ]
    assert conversation.started_at == datetime(2025, 3, 2, 9, 14, 7, tzinfo=UTC)


@pytest.mark.parametrize("transcription", ["Agent: hi", {"Agent": "hi"}, 3, None])
def test_transcription_that_is_not_a_list_becomes_empty(transcription: object) -> None:
    assert parse(jobResponse={"transcription": transcription}).transcript == []


def test_outcome_result_is_kept_as_an_object_and_dropped_otherwise() -> None:
    outcome = {"orderId": 7, "resolution": "refund issued", "customerSatisfied": True}

    kept = parse(jobResponse={"outcomeResult": outcome})
    dropped = parse(jobResponse={"outcomeResult": ["refund issued"]})

    assert kept.job_response is not None
    assert kept.job_response.outcome_result == outcome
    assert dropped.job_response is not None
    assert dropped.job_response.outcome_result is None


def test_every_sample_parses() -> None:
    for conversation_id, data in samples.fresh_samples().items():
        conversation = Conversation.model_validate(data)
        assert conversation.id == conversation_id


def test_long_sample_keeps_all_its_logs_and_turns() -> None:
    conversation = Conversation.model_validate(samples.long_call(500))

    assert len(conversation.logs) == 500
    assert conversation.channel_type == "Web"
    assert any(turn.text == "called lookup_order" for turn in conversation.transcript)
    assert conversation.job_response is not None
    assert conversation.job_response.outcome_result is not None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
_known_fields = st.fixed_dictionaries(
    {},
    optional={
        name: _json
        for name in (
            "title",
            "status",
            "callDuration",
            "channelType",
            "mediaUrl",
            "createdAt",
            "callParams",
            "agentDetails",
            "callAnalysis",
        )
    }
    | {
        "logs": st.lists(_json | st.dictionaries(st.sampled_from(["id", "type", "timestamp", "payload"]), _json)),
        "jobResponse": _json
        | st.fixed_dictionaries({}, optional={"transcription": st.lists(_json), "outcomeResult": _json}),
    },
)


@settings(max_examples=60, deadline=None)
@given(_known_fields)
def test_any_json_in_any_known_field_still_parses(fields: dict[str, Any]) -> None:
    conversation = parse(**fields)

    assert conversation.id == CONVERSATION_ID
    assert isinstance(conversation.logs, list)
    assert all(isinstance(turn.text, str) for turn in conversation.transcript)
    assert isinstance(conversation.is_finished, bool)


@pytest.mark.parametrize("raw", ['{"id": "x", "callDuration": Infinity}', '{"id": "x", "callDuration": NaN}'])
def test_non_finite_durations_from_json_become_unknown(raw: str) -> None:
    # Python's json module accepts Infinity and NaN, so Hamsa's answer can carry them.
    assert Conversation.model_validate(json.loads(raw)).call_duration is None


# ---- finished, but still being processed ---------------------------------------------------------


def ended(minutes_ago: float, **fields: Any) -> Conversation:
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return parse(**{"status": "COMPLETED", "updatedAt": moment.isoformat(), **fields})


EVERYTHING = {
    "mediaUrl": "https://storage.example.com/recordings/1.mp3",
    "jobResponse": {"transcription": [{"User": "Hello"}]},
    "logs": [{"type": "INFO", "message": "started"}],
}


@pytest.mark.parametrize("status", ["COMPLETED", "FORWARDED", "TERMINATED"])
@pytest.mark.parametrize("missing", ["mediaUrl", "jobResponse", "logs"])
def test_an_answered_call_that_just_ended_is_processing_until_all_hamsa_adds_is_there(
    status: str, missing: str
) -> None:
    assert ended(1, status=status, **{**EVERYTHING, missing: None}).still_processing
    assert not ended(1, status=status, **EVERYTHING).still_processing


@pytest.mark.parametrize("status", ["FAILED", "NO_ANSWER", "IN_PROGRESS", "PENDING", "RINGING", None])
def test_unanswered_failed_and_live_calls_are_never_processing(status: str | None) -> None:
    # An unanswered or failed call may never get a recording: waiting for one would re-fetch it for ever.
    assert not ended(1, status=status).still_processing


def test_processing_ends_ten_minutes_after_the_call_whatever_is_missing() -> None:
    assert ended(9).still_processing
    assert not ended(11).still_processing
    assert ended(-1).still_processing  # Hamsa's clock a little ahead
    assert not ended(-60).still_processing


def test_the_end_of_a_call_is_hamsas_call_ended_at_else_its_last_update_or_creation() -> None:
    now = datetime.now(UTC)
    recent, old = (now - timedelta(minutes=2)).isoformat(), (now - timedelta(days=2)).isoformat()

    by_job = parse(status="COMPLETED", updatedAt=old, jobResponse={"callEndedAt": recent})
    by_update = parse(status="COMPLETED", createdAt=old, updatedAt=recent)
    by_creation = parse(status="COMPLETED", createdAt=recent)
    naive = parse(status="COMPLETED", updatedAt=(now - timedelta(minutes=2)).replace(tzinfo=None).isoformat())

    assert by_job.ended_at == by_update.ended_at == by_creation.ended_at == datetime.fromisoformat(recent)
    assert all(call.still_processing for call in (by_job, by_update, by_creation, naive))
    assert parse(status="COMPLETED").ended_at is None
    assert not parse(status="COMPLETED").still_processing
