"""Conversation objects shaped like Hamsa's API answers (the `data` of its envelope).

They cover the documented example plus the shapes public client code has observed (failed calls,
calls still running, long calls with thousands of logs), so every consumer of the sandbox renders
the same realistic inputs. Every builder returns a fresh object, so callers may mutate it freely.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

DOCUMENTED_ID = "849e77c6-5cb3-479a-a985-7fab630e2c78"
FAILED_ID = "5b0d3c2e-9f41-4a7b-8c6d-2e1f0a9b8c7d"
IN_PROGRESS_ID = "a7e4f210-3c5b-4d89-b1a6-0f2e9d8c7b6a"
LONG_ID = "c3d9e8f1-6a2b-47c5-9e0d-1b4a7f3c2d85"

_AGENT_ID = "d949f13f-40d2-4e48-ac86-b66633070603"
_LONG_AGENT_ID = "0e6f1a9c-8b7d-4c2e-a5f3-9d1b0c8e7a64"
_API_KEY_ID = "7c1e5a3b-2d9f-4e80-b6a4-3f8d2c1e0b95"
SUPPORT_AGENT_ID = "5f2b8c1d-7e3a-4b9c-8d6e-1a0f9e8d7c6b"
# The agents of the recent calls (``recent_calls``): ID → name, as Hamsa's list gives ``agentName``.
AGENTS = {
    _AGENT_ID: "Billing Assistant",
    _LONG_AGENT_ID: "Order Desk",
    SUPPORT_AGENT_ID: "Support Agent",
}


def documented_example() -> dict[str, Any]:
    """Return exactly the `data` object shown on Hamsa's documented page."""
    return {
        "id": DOCUMENTED_ID,
        "model": "gpt-4",
        "agentDetails": {},
        "jobResponse": {},
        "status": "COMPLETED",
        "type": "VOICE_AGENTS",
        "processingType": "real-time",
        "voiceAgentId": _AGENT_ID,
        "apiKeyId": _AGENT_ID,
        "createdAt": "2024-01-15T10:30:00Z",
        "updatedAt": "2024-01-15T10:35:00Z",
        "title": "Customer Support Call",
        "mediaUrl": "https://storage.example.com/recordings/123.mp3",
        "callParams": {"userNumber": "+1234567890"},
        "callDuration": 125,
        "channelType": "TELEPHONE",
        "callAnalysis": {},
        "voiceAgent": {
            "voiceAgentWebTools": [{"webTool": {}}],
            "webTools": {},
            "voiceAgentKnowledgeBases": [{"knowledgeBaseItem": {}}],
        },
        "logs": [
            {
                "id": "log_123",
                "timestamp": "2024-01-15T10:30:15Z",
                "payload": {},
                "createdAt": "2024-01-15T10:30:15Z",
                "updatedAt": "2024-01-15T10:30:15Z",
            }
        ],
        "performanceMetrics": {},
    }


def failed_call() -> dict[str, Any]:
    """A telephone call that never connected: what a FAILED conversation looks like."""
    return {
        "id": FAILED_ID,
        "model": "gpt-4o-mini",
        "title": "Billing follow-up",
        "status": "FAILED",
        "type": "VOICE_AGENTS",
        "processingType": "real-time",
        "voiceAgentId": _AGENT_ID,
        "apiKeyId": _API_KEY_ID,
        "createdAt": "2025-02-11T16:02:41Z",
        "updatedAt": "2025-02-11T16:02:47Z",
        "callDuration": 0,
        "channelType": "Telephone",
        "callParams": {"userNumber": "+971501234567", "machineNumber": "+97145550100"},
        "agentDetails": {
            "id": _AGENT_ID,
            "agentName": "Billing Assistant",
            "lang": "en",
            "type": "outbound",
            "greetingMessage": "Hello, this is the billing assistant calling about your invoice.",
        },
        "jobResponse": {},
        "callAnalysis": {"error": {"message": "SIP 486: callee busy", "statusCode": 486}},
        "performanceMetrics": {},
        "logs": [
            {
                "id": "log_f0001",
                "type": "INFO",
                "category": "telephony",
                "message": "Dialling +971501234567",
                "nodeId": None,
                "payload": {"trunk": "primary"},
                "timestamp": "2025-02-11T16:02:42.120Z",
            },
            {
                "id": "log_f0002",
                "type": "ERROR",
                "category": "telephony",
                "message": "Call rejected: 486 Busy Here",
                "nodeId": None,
                "payload": {"sipCode": 486, "reason": "Busy Here"},
                "timestamp": "2025-02-11T16:02:46.905Z",
            },
        ],
    }


def in_progress_call() -> dict[str, Any]:
    """A call still running: no duration, no recording, nothing extracted yet."""
    return {
        "id": IN_PROGRESS_ID,
        "model": "gpt-4o",
        "title": "Inbound support",
        "status": "IN_PROGRESS",
        "type": "VOICE_AGENTS",
        "processingType": "real-time",
        "voiceAgentId": _AGENT_ID,
        "apiKeyId": _API_KEY_ID,
        "createdAt": "2025-03-04T08:59:12Z",
        "updatedAt": "2025-03-04T08:59:12Z",
        "callDuration": None,
        "channelType": "Web",
        "mediaUrl": None,
        "callParams": {},
        "agentDetails": {"agentName": "Support Agent", "lang": "en"},
        "jobResponse": {},
        "callAnalysis": {},
        "performanceMetrics": {},
        "logs": [],
    }


_LONG_START = datetime(2025, 3, 2, 9, 14, 7, tzinfo=UTC)
_LONG_DURATION = 1203  # seconds, just over 20 minutes

_TRANSCRIPT: list[tuple[str, str]] = [
    ("Agent", "أهلاً بك في مكتب الطلبات، كيف أقدر أساعدك اليوم؟"),
    ("User", "مرحبا، طلبي متأخر من أسبوع."),
    ("Agent", "آسف لسماع ذلك. ممكن رقم الطلب من فضلك؟"),
    ("User", "الرقم سبعة. Order number 7."),
    ("Agent", "شكراً، لحظة أتحقق من الطلب."),
    ("User", "Sure, take your time."),
    ("Agent", "I can see order 7 was shipped on the twenty-fourth of February."),
    ("User", "The tracking page says <delivered> & nothing came."),
    ("Agent", "I understand. Let me check the courier notes for you."),
    ("User", "Thanks."),
    ("Agent", "The courier marked it as left with the building reception."),
    ("User", "There is no reception in my building, it's a villa."),
    ("Agent", "That does not sound right. I will open an investigation with the courier."),
    ("User", "How long will that take?"),
    ("Agent", "Usually two to three working days."),
    ("User", "That's too long, I needed it for this weekend."),
    ("Agent", "I understand the urgency. I can offer a replacement or a full refund."),
    ("User", "ما الفرق في الوقت بين الخيارين؟"),
    ("Agent", "الاستبدال يصل خلال يومين، والاسترداد يظهر خلال خمسة أيام عمل."),
    ("User", "Then I prefer the refund, I will buy it in a shop."),
    ("Agent", "Of course. The refund will go back to the card ending in 4421."),
    ("User", "Yes, that's the right card."),
    ("Agent", "Great. I'm issuing the refund now."),
    ("User", "Will I get an email?"),
    ("Agent", "Yes, you will receive a confirmation email within the hour."),
    ("User", "And if the parcel shows up later?"),
    ("Agent", "You can simply refuse it or call us and we will collect it for free."),
    ("User", "OK, that works."),
    ("Agent", "Is there anything else I can help you with?"),
    ("User", "Actually, can you update my phone number on the account?"),
    ("Agent", "For security I cannot change it on this call, but I can send you a secure link."),
    ("User", "Please do."),
    ("Agent", "Done, the link is on its way by SMS."),
    ("User", "Got it, thank you."),
    ("Agent", "Before you go, would you rate this call from one to five?"),
    ("User", "Five, you were quick."),
    ("Agent", "Thank you, Layla. I have noted it."),
    ("Agent", "شكراً لاتصالك، نتمنى لك يوماً سعيداً."),
    ("User", "مع السلامة."),
]

_LOG_KINDS: list[tuple[str, str, str | None, str]] = [
    ("INFO", "asr", "node_listen", "Speech recognised"),
    ("DEBUG", "llm", "node_reason", "Prompt assembled"),
    ("INFO", "llm", "node_reason", "Model response received"),
    ("DEBUG", "tts", "node_speak", "Audio chunk synthesised"),
    ("INFO", "flow", "node_router", "Transitioned to next node"),
    ("DEBUG", "asr", "node_listen", "Partial transcript"),
    ("INFO", "tool", "node_lookup", "Tool call completed"),
    ("WARNING", "asr", "node_listen", "Low confidence transcript"),
    ("DEBUG", "telephony", None, "Jitter buffer adjusted"),
    ("INFO", "tts", "node_speak", "Playback finished"),
    ("WARNING", "llm", "node_reason", "Response exceeded latency budget"),
    ("ERROR", "tool", "node_lookup", "Courier API timed out; retrying"),
]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _long_transcript() -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = [{speaker: text} for speaker, text in _TRANSCRIPT]
    # The villa remark was cut off mid-sentence by the agent, so the ASR attached metadata.
    turns[11]["metadata"] = {"confidence": 0.71, "interrupted": True, "language": "en"}
    # Older conversations stored tool calls as the turn's value instead of text.
    turns.insert(5, {"Agent": [{"function": {"name": "lookup_order", "arguments": '{"id": 7}'}}]})
    return turns


def _long_log(index: int, moment: datetime) -> dict[str, Any]:
    level, category, node_id, message = _LOG_KINDS[index % len(_LOG_KINDS)]
    payload: dict[str, Any] = {"sequence": index, "latencyMs": 40 + (index * 37) % 900}
    if category == "asr":
        payload["text"] = _TRANSCRIPT[index % len(_TRANSCRIPT)][1]
        payload["confidence"] = round(0.55 + (index % 45) / 100, 2)
    elif category == "tool":
        payload["tool"] = "lookup_order"
        payload["arguments"] = {"id": 7}
    elif category == "llm":
        payload["tokens"] = {"prompt": 900 + index % 300, "completion": 20 + index % 80}
    return {
        "id": f"log_{index:05d}",
        "type": level,
        "category": category,
        "message": message,
        "nodeId": node_id,
        "payload": payload,
        "timestamp": _iso(moment),
    }


def long_call(n_logs: int = 3000) -> dict[str, Any]:
    """A twenty-minute web call in Arabic and English with `n_logs` rich log items."""
    ended = _LONG_START + timedelta(seconds=_LONG_DURATION)
    step = timedelta(seconds=_LONG_DURATION) / max(n_logs, 1)
    logs = [_long_log(i, _LONG_START + step * i) for i in range(n_logs)]
    return {
        "id": LONG_ID,
        "model": "gpt-4o",
        "title": "Late order follow-up",
        "status": "COMPLETED",
        "type": "VOICE_AGENTS",
        "processingType": "real-time",
        "voiceAgentId": _LONG_AGENT_ID,
        "apiKeyId": _API_KEY_ID,
        "createdAt": "2025-03-02T09:14:05Z",
        "updatedAt": "2025-03-02T09:35:31Z",
        "callDuration": _LONG_DURATION,
        "channelType": "Web",
        "mediaUrl": f"https://storage.example.com/recordings/{LONG_ID}.mp3?X-Amz-Expires=3600&X-Amz-Signature=abc123",
        "callParams": {"customerName": "Layla Haddad", "orderId": "7"},
        "agentDetails": {
            "id": _LONG_AGENT_ID,
            "agentName": "Order Desk",
            "lang": "ar",
            "type": "inbound",
            "greetingMessage": "أهلاً بك في مكتب الطلبات، كيف أقدر أساعدك اليوم؟",
        },
        "jobResponse": {
            "callStartedAt": _iso(_LONG_START),
            "callEndedAt": _iso(ended),
            "transcription": _long_transcript(),
            "outcomeResult": {
                "orderId": 7,
                "issue": "late delivery",
                "resolution": "refund issued",
                "refundAmount": 249.0,
                "customerSatisfied": True,
                "followUpRequired": False,
            },
        },
        "callAnalysis": {},
        "performanceMetrics": {
            "asrProcessingTime": 182,
            "llmResponseTime": 640,
            "ttsGenerationTime": 211,
            "totalProcessingTime": 1033,
        },
        "voiceAgent": {"voiceAgentWebTools": [], "webTools": {}, "voiceAgentKnowledgeBases": []},
        "logs": logs,
    }


# What the recent calls were, in turn: a day of a busy line (statuses, what the caller said first, outcome,
# and why Hamsa says it failed or ended).
_RECENT_KINDS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("COMPLETED", "Hi, I was charged twice this month.", {"intent": "billing dispute", "resolved": True}, {}),
    ("FAILED", "", {}, {"message": "SIP 480: temporarily unavailable", "statusCode": 480}),
    ("COMPLETED", "Where is my order? It's number 4411.", {"intent": "order status", "orderNumber": "4411"}, {}),
    ("NO_ANSWER", "", {}, {}),
    ("FORWARDED", "I need to speak to a person, please.", {"intent": "human agent", "resolved": False}, {}),
    ("COMPLETED", "Can I change my delivery address?", {"intent": "address change", "resolved": True}, {}),
    (
        "TERMINATED",
        "Call me back on 050 987 6543, it's about my refund.",
        {"intent": "callback", "resolved": False, "callbackNumber": "+971509876543", "priority": "high"},
        {"message": "The caller hung up while being transferred", "statusCode": "USER_HANGUP"},
    ),
]
_RECENT_STEP = timedelta(minutes=47)


def recent_call_id(index: int) -> str:
    """The ID of the ``index``-th newest of ``recent_calls`` (0 is the newest)."""
    return f"9e{index:06x}-1c2d-4e5f-8a9b-{index:012x}"


def recent_call(index: int, now: datetime) -> dict[str, Any]:
    """The ``index``-th newest of a busy line's calls: 47 minutes times ``index`` before ``now``."""
    status, said, outcome, error = _RECENT_KINDS[index % len(_RECENT_KINDS)]
    agent_id = list(AGENTS)[index % len(AGENTS)]
    created = now - _RECENT_STEP * index
    answered = status not in ("FAILED", "NO_ANSWER")
    duration = 40 + (index * 53) % 600 if answered else 0
    transcript = [{"Agent": "Hello, how can I help?"}, {"User": said}] if said else []
    call: dict[str, Any] = {
        "id": recent_call_id(index),
        "title": f"{AGENTS[agent_id]} call {index + 1}",
        "status": status,
        "type": "VOICE_AGENTS",
        "voiceAgentId": agent_id,
        "apiKeyId": _API_KEY_ID,
        "createdAt": _iso(created),
        "updatedAt": _iso(created + timedelta(seconds=duration + 5)),
        "callDuration": duration,
        "channelType": "Telephone" if index % 3 else "Web",
        "mediaUrl": f"https://storage.example.com/recordings/{recent_call_id(index)}.mp3" if answered else None,
        "callParams": {"userNumber": f"+9715012{index:05d}"},
        "agentDetails": {"id": agent_id, "agentName": AGENTS[agent_id]},
        "jobResponse": {"transcription": transcript, "outcomeResult": outcome} if answered else {},
        "callAnalysis": {"error": error} if error else {},
        "logs": [],
    }
    return call


def recent_calls(count: int = 35, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """``count`` calls of the last hours and days, newest first, every 47 minutes back from ``now``."""
    now = now or datetime.now(UTC)
    return {recent_call_id(i): recent_call(i, now) for i in range(count)}


def fresh_samples() -> dict[str, dict[str, Any]]:
    """Build a new copy of every sample, so a server can mutate its own without touching others."""
    return {
        DOCUMENTED_ID: documented_example(),
        FAILED_ID: failed_call(),
        IN_PROGRESS_ID: in_progress_call(),
        LONG_ID: long_call(3000),
    }


SAMPLES: dict[str, dict[str, Any]] = fresh_samples()
