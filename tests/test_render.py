"""The renderers are pure: each sample's summary, condensed preview and logs pages match golden JSON.

The golden files in tests/golden/ are checked by default; after an intended change, regenerate them
with ``UPDATE_GOLDEN=1 pytest tests/test_render.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot import actions
from bot.hamsa.models import Conversation, Status
from bot.render.logs import (
    LOGS_HEADING,
    NO_ENTRIES,
    NO_ENTRIES_EVER,
    NO_ENTRIES_PROCESSING,
    NO_ERRORS,
    STILL_PROCESSING,
    TRANSCRIPT_HEADING,
    first_error_page,
    render_logs_page,
)
from bot.render.summary import (
    NEUTRAL_EMOJI,
    NO_RECORDING,
    PLAY_RECORDING,
    PROCESSING,
    RECORDING_NOT_READY,
    STATUS_EMOJI,
    UNKNOWN,
    UNTITLED,
    format_duration,
    mask_number,
    render_condensed,
    render_recording,
    render_summary,
    slack_date,
    status_emoji,
    summary_text,
)
from bot.render.text import code
from bot.sandbox import samples
from bot.sandbox.blockkit import block_kit_problems, mrkdwn_texts

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

SAMPLE_IDS = {
    "documented": samples.DOCUMENTED_ID,
    "failed": samples.FAILED_ID,
    "in_progress": samples.IN_PROGRESS_ID,
    "long": samples.LONG_ID,
}


def assert_golden(name: str, rendered: Any) -> None:
    """Compare with tests/golden/<name>.json (or rewrite it when UPDATE_GOLDEN=1)."""
    path = GOLDEN_DIR / f"{name}.json"
    if UPDATE_GOLDEN:
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(rendered, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing; create it with UPDATE_GOLDEN=1 and review it"
    assert rendered == json.loads(path.read_text(encoding="utf-8")), f"{name} differs from {path}"


SAMPLES = {
    name: Conversation.model_validate(samples.SAMPLES[conversation_id]) for name, conversation_id in SAMPLE_IDS.items()
}


def sample(name: str) -> Conversation:
    return SAMPLES[name]


def conversation(**fields: Any) -> Conversation:
    return Conversation.model_validate({"id": samples.DOCUMENTED_ID, **fields})


def context_text(blocks: list[dict[str, Any]]) -> str:
    (context,) = [block for block in blocks if block["type"] == "context"]
    return " · ".join(element["text"] for element in context["elements"])


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


# ---- golden files -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_IDS)
def test_summary_matches_golden(name: str) -> None:
    blocks = render_summary(sample(name))
    assert block_kit_problems(blocks) == []
    assert_golden(f"summary_{name}", {"blocks": blocks, "text": summary_text(sample(name))})


def test_private_summary_with_share_button_matches_golden() -> None:
    blocks = render_summary(
        sample("documented"), private=True, extra_buttons=(actions.share_button(samples.DOCUMENTED_ID),)
    )
    assert_golden("summary_documented_private", blocks)


def test_shared_summary_with_footer_matches_golden() -> None:
    blocks = render_summary(sample("failed"), footer="Shared by <@U0ALICE>")
    assert_golden("summary_failed_shared", blocks)


def rich_call() -> Conversation:
    """A call that ended badly after the caller spoke, with more extracted fields than a summary shows."""
    return conversation(
        title="Callback request",
        status="TERMINATED",
        callDuration=95,
        channelType="Telephone",
        createdAt="2025-03-02T09:14:05Z",
        callParams={"userNumber": "+971501234567"},
        agentDetails={"agentName": "Support Agent"},
        callAnalysis={"error": {"message": "Max call duration reached", "statusCode": "TIMEOUT"}},
        jobResponse={
            "callEndedAt": "2025-03-02T09:15:40Z",
            "transcription": [
                {"Agent": "Hello, how can I help?"},
                {"User": "", "metadata": {"confidence": 0.2}},
                {"User": "Please call me back on 050 987 6543, it's about order 4411."},
            ],
            "outcomeResult": {
                "intent": "callback",
                "resolved": False,
                "orderNumber": "4411",
                "callbackNumber": "+971509876543",
                "priority": 2,
                "sentiment_score": 0.35,
                "language": "en",
                "tags": ["callback", "order"],
                "notes": None,
                "address": {"city": "Dubai", "area": "Marina"},
            },
        },
    )


def test_rich_summary_matches_golden() -> None:
    blocks = render_summary(rich_call())
    assert block_kit_problems(blocks) == []
    assert_golden("summary_rich", blocks)


def test_the_first_words_of_the_caller_are_quoted_with_numbers_masked_where_a_channel_sees_them() -> None:
    shared = mrkdwn_texts(render_summary(rich_call()))
    private = mrkdwn_texts(render_summary(rich_call(), private=True))

    assert ":speech_balloon: *Caller:* “Please call me back on •••• 6543, it's about order 4411.”" in shared
    assert ":speech_balloon: *Caller:* “Please call me back on 050 987 6543, it's about order 4411.”" in private


def test_the_first_words_skip_the_agent_and_empty_turns_and_are_bounded() -> None:
    said = "<!channel> " + "word " * 1000
    call = conversation(jobResponse={"transcription": [{"Agent": "Hi"}, {"customer": "  "}, {"Customer": said}]})

    (quote,) = [t for t in mrkdwn_texts(render_summary(call)) if "*Caller:*" in t]

    assert quote.startswith(":speech_balloon: *Caller:* “&lt;!channel&gt; word word")
    assert len(quote) < 260
    assert "*Caller:*" not in all_text(render_summary(conversation(jobResponse={"transcription": [{"Agent": "Hi"}]})))


def test_the_outcome_shows_six_short_fields_and_the_rest_under_more() -> None:
    blocks = render_summary(rich_call())
    (outcome,) = [b for b in blocks if b.get("text", {}).get("text") == "*Outcome*"]
    (more,) = [t for t in mrkdwn_texts(blocks) if t.startswith("*More:*")]

    assert [f["text"] for f in outcome["fields"]] == [
        "*Intent*\ncallback",
        "*Resolved*\nNo",
        "*Order number*\n4411",
        "*Callback number*\n•••• 6543",
        "*Priority*\n2",
        "*Sentiment score*\n0.35",
    ]
    assert more == "*More:* Language: en · Tags: 2 items · Address: 2 fields"  # the empty "notes" is left out


def test_outcome_values_stay_short_and_escaped_whatever_they_hold() -> None:
    outcome: dict[str, Any] = {f"<@U{n}>key{n}": "<!here> " + "x" * 100_000 for n in range(500)}
    blocks = render_summary(conversation(jobResponse={"outcomeResult": outcome}))

    assert block_kit_problems(blocks) == []
    (more,) = [t for t in mrkdwn_texts(blocks) if t.startswith("*More:*")]
    assert len(more) <= 620 and more.endswith("…")
    assert "<!here>" not in all_text(blocks) and "<@U" not in all_text(blocks)
    assert "*Outcome*" not in all_text(render_summary(conversation(jobResponse={"outcomeResult": {"a": None}})))
    assert "*Outcome*" not in all_text(render_summary(conversation(jobResponse={"outcomeResult": "resolved"})))


@pytest.mark.parametrize("name", SAMPLE_IDS)
def test_condensed_matches_golden(name: str) -> None:
    blocks = render_condensed(sample(name))
    assert block_kit_problems(blocks) == []
    assert_golden(f"condensed_{name}", blocks)


@pytest.mark.parametrize(
    ("name", "page", "private"),
    [
        ("documented", 1, False),
        ("documented", 1, True),
        ("failed", 1, False),
        ("in_progress", 1, False),
        ("long", 1, False),
        ("long", 2, False),
        ("long", 3, False),
        ("long", 152, True),
    ],
)
def test_logs_page_matches_golden(name: str, page: int, private: bool) -> None:
    rendered = render_logs_page(sample(name), page, private=private)
    assert block_kit_problems(rendered.blocks) == []
    assert rendered.page == page
    suffix = "_private" if private else ""
    golden = {"blocks": rendered.blocks, "text": rendered.text, "page": rendered.page, "pages": rendered.pages}
    assert_golden(f"logs_{name}_page{page}{suffix}", golden)


@pytest.mark.parametrize(("name", "page", "private"), [("long", 1, False), ("long", 13, True), ("failed", 1, False)])
def test_errors_only_logs_page_matches_golden(name: str, page: int, private: bool) -> None:
    rendered = render_logs_page(sample(name), page, private=private, errors_only=True)
    assert block_kit_problems(rendered.blocks) == []
    assert rendered.page == page
    suffix = "_private" if private else ""
    golden = {"blocks": rendered.blocks, "text": rendered.text, "page": rendered.page, "pages": rendered.pages}
    assert_golden(f"logs_{name}_errors_page{page}{suffix}", golden)


def test_errors_only_on_a_call_without_errors_says_so() -> None:
    rendered = render_logs_page(sample("documented"), 1, errors_only=True)
    assert NO_ERRORS in mrkdwn_texts(rendered.blocks)
    assert "Errors only · Page 1 of 1" in context_text(rendered.blocks)


def test_the_first_error_page_counts_the_transcript_before_the_logs() -> None:
    long = sample("long")
    first_error = long.error_indexes[0]
    assert first_error_page(long) == (len(long.transcript) + first_error) // 20 + 1
    assert first_error_page(sample("documented")) is None
    assert first_error_page(sample("failed")) == 1


def test_no_golden_file_is_left_unchecked() -> None:
    checked = {f"summary_{n}" for n in SAMPLE_IDS} | {f"condensed_{n}" for n in SAMPLE_IDS}
    checked |= {"summary_documented_private", "summary_failed_shared", "recording_long", "recording_failed"}
    checked |= {"summary_rich", "logs_long_errors_page1", "logs_long_errors_page13_private", "logs_failed_errors_page1"}
    checked |= {
        "logs_documented_page1",
        "logs_documented_page1_private",
        "logs_failed_page1",
        "logs_in_progress_page1",
        "logs_long_page1",
        "logs_long_page2",
        "logs_long_page3",
        "logs_long_page152_private",
    }
    assert {path.stem for path in GOLDEN_DIR.glob("*.json")} == checked


# ---- pieces of the summary ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (125, "2m 05s"),
        (5, "5s"),
        (60, "1m 00s"),
        (3725, "1h 02m 05s"),
        (1203, "20m 03s"),
        (0, UNKNOWN),
        (None, UNKNOWN),
    ],
)
def test_duration_formatting(seconds: float | None, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_every_documented_status_has_its_own_emoji_and_others_a_neutral_one() -> None:
    emojis = [status_emoji(status) for status in Status]
    assert len(set(emojis)) == len(Status)
    assert NEUTRAL_EMOJI not in emojis
    assert set(STATUS_EMOJI) == set(Status)
    assert status_emoji("RINGING") == NEUTRAL_EMOJI
    assert status_emoji(None) == NEUTRAL_EMOJI


@pytest.mark.parametrize("status", ["VOICEMAIL", "ringing", None])
def test_unknown_statuses_still_render(status: str | None) -> None:
    blocks = render_summary(conversation(status=status))
    assert block_kit_problems(blocks) == []
    assert f"{NEUTRAL_EMOJI} " in all_text(blocks)
    if status:
        assert status.capitalize() in all_text(blocks)


def test_caller_numbers_show_only_the_last_four_digits_unless_asked() -> None:
    assert mask_number("+1 (234) 567-890", show_full=False) == "•••• 7890"
    assert mask_number("+971501234567", show_full=True) == "+971501234567"
    assert mask_number("123", show_full=False) == "••••"
    assert mask_number(None, show_full=False) is None
    masked = all_text(render_summary(sample("failed")))
    assert "•••• 4567" in masked
    assert "501234567" not in masked
    assert "+971501234567" in all_text(render_summary(sample("failed"), show_caller_number=True))


def test_a_summary_without_a_caller_number_has_no_caller_field() -> None:
    assert "Caller" not in all_text(render_summary(sample("in_progress")))


def test_start_time_is_a_slack_date_token_in_the_readers_time_zone() -> None:
    moment = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    token = f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|2024-01-15 10:30 UTC>"
    assert slack_date(moment) == token
    assert slack_date(moment.replace(tzinfo=None)) == token  # Hamsa's naive timestamps are UTC
    assert slack_date(moment.astimezone(timezone(timedelta(hours=4)))) == token
    assert slack_date(None) == UNKNOWN
    assert token in all_text(render_summary(sample("documented")))


def test_the_start_time_prefers_when_the_call_started() -> None:
    started = all_text(render_summary(sample("long")))
    assert f"<!date^{int(datetime(2025, 3, 2, 9, 14, 7, tzinfo=UTC).timestamp())}^" in started


@pytest.mark.parametrize("title", [None, "", "   ", "\x00\x07"])
def test_a_missing_title_gets_a_clear_placeholder(title: str | None) -> None:
    blocks = render_summary(conversation(title=title))
    assert blocks[0]["text"]["text"] == UNTITLED
    assert summary_text(conversation(title=title)).startswith(UNTITLED)
    assert block_kit_problems(blocks) == []


@pytest.mark.parametrize("media_url", [None, "", "javascript:alert(1)", "ftp://x/y.mp3", "https://x/" + "a" * 3000])
def test_without_a_usable_recording_url_it_says_the_recording_is_not_ready(media_url: str | None) -> None:
    blocks = render_summary(conversation(mediaUrl=media_url))
    assert RECORDING_NOT_READY in context_text(blocks)
    assert '"url"' not in all_text(blocks)
    assert block_kit_problems(blocks) == []


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [element for block in blocks if block["type"] == "actions" for element in block["elements"]]


def test_with_a_recording_a_private_summary_links_it_and_a_shared_one_only_names_the_conversation() -> None:
    url = samples.long_call()["mediaUrl"]
    private = render_summary(sample("long"), private=True)
    shared = render_summary(sample("long"), show_caller_number=True)

    assert RECORDING_NOT_READY not in context_text(private)
    assert buttons(private)[0] == {
        "type": "button",
        "text": {"type": "plain_text", "text": PLAY_RECORDING, "emoji": True},
        "action_id": actions.OPEN_RECORDING,
        "url": url,
    }
    # A signed link in a channel could be copied by anyone there: the button carries the ID, never the link.
    play = buttons(shared)[0]
    assert (play["action_id"], play["text"]["text"]) == (actions.GET_RECORDING, PLAY_RECORDING)
    assert actions.decode(play["value"]) == actions.ButtonValue(samples.LONG_ID)
    assert "storage.example.com" not in all_text(shared)
    assert RECORDING_NOT_READY not in context_text(shared)


def just_ended(minutes_ago: float = 1, **fields: Any) -> Conversation:
    """A completed call that ended ``minutes_ago``: Hamsa adds its recording, transcript and logs after."""
    ended = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return conversation(**{"status": "COMPLETED", "updatedAt": ended.isoformat(), **fields})


@pytest.mark.parametrize(
    ("call", "note"),
    [
        (lambda: conversation(status="IN_PROGRESS"), RECORDING_NOT_READY),
        (lambda: just_ended(), PROCESSING),
        (lambda: just_ended(minutes_ago=11), NO_RECORDING),
        (lambda: just_ended(status="FAILED"), NO_RECORDING),
        (lambda: just_ended(status="NO_ANSWER"), NO_RECORDING),
    ],
    ids=["live", "processing", "ended-long-ago", "failed", "no-answer"],
)
def test_without_a_recording_the_summary_says_whether_one_is_coming(call: Any, note: str) -> None:
    for private in (True, False):
        assert note in context_text(render_summary(call(), private=private))


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (lambda: conversation(status="IN_PROGRESS"), "is not over yet"),
        (lambda: just_ended(), "still processing"),
        (lambda: just_ended(status="FAILED"), "has no recording"),
    ],
)
def test_the_private_recording_answer_says_why_there_is_no_link(call: Any, said: str) -> None:
    answer = render_recording(call())

    assert said in answer["text"]
    assert answer["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": answer["text"]}}]


@pytest.mark.parametrize("name", ["long", "failed"])
def test_private_recording_answer_matches_golden(name: str) -> None:
    answer = render_recording(sample(name))
    assert block_kit_problems(answer["blocks"]) == []
    assert_golden(f"recording_{name}", answer)


def test_a_failed_call_says_why_and_when_it_ended() -> None:
    (text,) = [t for t in mrkdwn_texts(render_summary(sample("failed"))) if "Why it failed" in t]
    assert text == ":warning: *Why it failed:* SIP 486: callee busy · ended " + slack_date(sample("failed").ended_at)


def test_the_failure_code_is_added_when_the_reason_does_not_say_it() -> None:
    ended = conversation(
        status="TERMINATED",
        updatedAt="2025-03-02T09:20:00Z",
        jobResponse={"callEndedAt": "2025-03-02T09:19:30Z"},
        callAnalysis={"error": {"message": "Agent hung up: <!here> max duration", "statusCode": 408}},
    )

    (text,) = [t for t in mrkdwn_texts(render_summary(ended)) if "Why it" in t]

    assert text.startswith(":warning: *Why it ended:* Agent hung up: &lt;!here&gt; max duration (code `408`) · ")
    assert text.endswith(slack_date(datetime(2025, 3, 2, 9, 19, 30, tzinfo=UTC)))


def test_a_call_that_did_not_fail_has_no_failure_section() -> None:
    assert "Why it failed" not in all_text(render_summary(sample("documented")))


def test_agent_name_is_shown_when_known() -> None:
    assert "*Agent*\nBilling Assistant" in mrkdwn_texts(render_summary(sample("failed")))
    assert "*Agent*" not in all_text(render_summary(sample("documented")))


def test_every_summary_has_a_logs_button_and_the_conversation_id() -> None:
    for name, conversation_id in SAMPLE_IDS.items():
        blocks = render_summary(sample(name))
        labels = [
            element["text"]["text"]
            for block in blocks
            if block["type"] == "actions"
            for element in block["elements"]
            if element["action_id"] == actions.SHOW_LOGS
        ]
        assert len(labels) == 1 and "logs" in labels[0].lower(), name
        assert f"`{conversation_id}`" in context_text(blocks), name


# ---- logs pages ---------------------------------------------------------------------------------


def test_logs_pages_show_speaker_and_text_then_offset_level_category_message_and_payload() -> None:
    long_call = sample("long")
    first = "\n".join(mrkdwn_texts(render_logs_page(long_call, 1).blocks))
    assert TRANSCRIPT_HEADING in first
    assert "*Agent:* أهلاً بك في مكتب الطلبات، كيف أقدر أساعدك اليوم؟" in first
    assert "*User:* The tracking page says &lt;delivered&gt; &amp; nothing came." in first
    third = "\n".join(mrkdwn_texts(render_logs_page(long_call, 3).blocks))
    assert LOGS_HEADING in third
    assert '`+00:00` · *INFO* · asr · Speech recognised · `{"sequence":0,' in third


def test_a_failed_call_shows_errors_with_their_offset() -> None:
    texts = "\n".join(mrkdwn_texts(render_logs_page(sample("failed"), 1).blocks))
    assert "`+00:06` · :red_circle:*ERROR* · telephony · Call rejected: 486 Busy Here" in texts


def test_a_call_without_entries_says_they_come_later() -> None:
    page = render_logs_page(sample("in_progress"), 1)
    assert NO_ENTRIES in mrkdwn_texts(page.blocks)
    assert page.pages == 1


def test_a_finished_call_without_entries_says_whether_hamsa_is_still_processing_it() -> None:
    assert NO_ENTRIES_PROCESSING in mrkdwn_texts(render_logs_page(just_ended(), 1).blocks)
    assert NO_ENTRIES_EVER in mrkdwn_texts(render_logs_page(just_ended(minutes_ago=30), 1).blocks)
    assert NO_ENTRIES_EVER in mrkdwn_texts(render_logs_page(just_ended(status="NO_ANSWER"), 1).blocks)


def test_logs_of_a_call_still_processing_say_more_may_follow() -> None:
    logs = samples.failed_call()["logs"]
    assert STILL_PROCESSING in context_text(render_logs_page(just_ended(logs=logs), 1).blocks)
    assert STILL_PROCESSING not in context_text(render_logs_page(just_ended(minutes_ago=30, logs=logs), 1).blocks)


def test_logs_the_channel_sees_mask_the_caller_number_wherever_it_is_written() -> None:
    data = samples.failed_call()
    data["logs"][0]["message"] = "Dialling +971 50 123-4567 (again: 971501234567)"
    data["logs"][1]["payload"] = {"to": "+971501234567", "count": 19715012345678}
    data["jobResponse"] = {"transcription": [{"User": "call me back on (971) 501234567"}]}
    failed = Conversation.model_validate(data)

    shared = "\n".join(mrkdwn_texts(render_logs_page(failed, 1).blocks))
    assert "50123" not in shared.replace("19715012345678", "")
    assert shared.count("•••• 4567") == 4
    assert "19715012345678" in shared  # a longer number is another number
    for shown in (render_logs_page(failed, 1, private=True), render_logs_page(failed, 1, show_caller_number=True)):
        assert "+971501234567" in "\n".join(mrkdwn_texts(shown.blocks))


# What a UAE caller and an agent said, and what must stay as it is.
CALLER_FORMATS = ["050 123 4567", "00971501234567", "+971 50 123 4567", "+971501234567", "٠٥٠١٢٣٤٥٦٧"]
OTHER_NUMBERS = {"055 987 6543": "•••• 6543", "+1 415 555 2671": "•••• 2671", "+44 20 7946 0958": "•••• 0958"}
NOT_NUMBERS = ["order 123456789", "AED 1500.00", "2025-03-02", "12/03/2025", "09:14:07", "card ending in 4421", "7"]


def call_saying(caller: str | None, *said: str) -> Conversation:
    data = samples.failed_call()
    data["callParams"] = {"userNumber": caller} if caller else {}
    data["jobResponse"] = {"transcription": [{"User": text} for text in said]}
    data["logs"] = [{"type": "INFO", "message": text, "payload": {"said": text}} for text in said]
    return Conversation.model_validate(data)


def every_page(call: Conversation, **options: bool) -> str:
    pages = render_logs_page(call, 1).pages
    return "\n".join(
        text for n in range(1, pages + 1) for text in mrkdwn_texts(render_logs_page(call, n, **options).blocks)
    )


def test_every_phone_number_in_shared_logs_pages_shows_its_last_four_digits_and_nothing_else_is_touched() -> None:
    call = call_saying("+971501234567", *CALLER_FORMATS, *OTHER_NUMBERS, *NOT_NUMBERS)

    shared = every_page(call)

    # Each is said in a transcript turn, then in a log message and its payload.
    assert shared.count("•••• 4567") == 3 * len(CALLER_FORMATS)
    for number, masked in OTHER_NUMBERS.items():
        assert number not in shared
        assert shared.count(masked) == 3
    for kept in NOT_NUMBERS:
        assert shared.count(kept) >= 3, kept
    for digits in ("501234567", "٥٠١٢٣", "9876", "415555", "79460"):
        assert digits not in shared
    private = every_page(call, private=True)
    assert all(number in private for number in [*CALLER_FORMATS, *OTHER_NUMBERS])


@pytest.mark.parametrize(
    "said",
    ["+493012345678901", "+49 30 12345678901", "030 12345678901", "0049 30 12345678901"],
    ids=["as-stored", "international", "national", "00-prefix"],
)
def test_a_fifteen_digit_caller_number_is_masked_in_transcripts_and_logs(said: str) -> None:
    # E.164 numbers have up to 15 digits (this one is a Berlin line): the longest is masked like any other.
    call = call_saying("+493012345678901", f"call me on {said}")

    shared = every_page(call)

    assert shared.count("call me on •••• 8901") == 3  # the turn, the log message and its payload
    assert "1234567" not in shared


def test_numbers_are_read_in_the_region_of_the_callers_number_else_the_agents() -> None:
    said = "call 0812-3456-78901 or 050 123 4567"
    indonesian = "\n".join(mrkdwn_texts(render_logs_page(call_saying("+62812345678901", said), 1).blocks))
    agent_only = samples.failed_call() | {"callParams": {"machineNumber": "+6221123456"}}
    agent_only["jobResponse"] = {"transcription": [{"User": said}]}
    by_agent = "\n".join(mrkdwn_texts(render_logs_page(Conversation.model_validate(agent_only), 1).blocks))
    unknown = "\n".join(mrkdwn_texts(render_logs_page(call_saying(None, said), 1).blocks))

    assert "call •••• 8901 or 050 123 4567" in indonesian
    assert "call •••• 8901 or 050 123 4567" in by_agent
    assert "call 0812-3456-78901 or •••• 4567" in unknown  # the default region: the UAE


def test_a_caller_number_outside_the_known_ranges_is_still_masked_in_any_format() -> None:
    # +971 69… is the right length for the UAE but in no range phonenumbers knows (a newer one, say).
    call = call_saying("+971691234567", "call 069 123 4567, +971 69 123 4567 or 00971691234567 about order 123456789")

    shared = every_page(call)

    assert shared.count("call •••• 4567, •••• 4567 or •••• 4567 about order 123456789") == 3


def test_a_caller_number_phonenumbers_can_not_read_is_still_masked_as_stored() -> None:
    call = call_saying("+1234567890", "Dialling +1234567890 now")

    shared = "\n".join(mrkdwn_texts(render_logs_page(call, 1).blocks))

    assert "Dialling •••• 7890 now" in shared
    assert "234567" not in shared


def test_phone_numbers_in_titles_failure_reasons_and_agent_names_are_masked_where_the_channel_sees_them() -> None:
    data = samples.failed_call()
    data["title"] = "Callback to 050 123 4567"
    data["callAnalysis"] = {"error": {"message": "Busy: +971 55 987 6543 did not answer"}}
    data["agentDetails"] = {"agentName": "Line +971 4 555 0100"}
    call = Conversation.model_validate(data)

    shared = [
        all_text(render_summary(call)),
        all_text(render_condensed(call)),
        summary_text(call),
        all_text(render_logs_page(call, 1).blocks),
        render_logs_page(call, 1).text,
    ]
    for text in shared:
        assert "Callback to •••• 4567" in text
        assert "123 4567" not in text and "987 6543" not in text and "555 0100" not in text
    assert "Busy: •••• 6543 did not answer" in shared[0]
    assert "Line •••• 0100" in shared[0]
    private = all_text(render_summary(call, private=True))
    assert "Callback to 050 123 4567" in private and "+971 55 987 6543" in private
    assert "050 123 4567" in summary_text(call, show_numbers=True)


def test_a_number_cut_by_a_length_limit_is_masked_before_the_cut() -> None:
    # The cut falls inside the number: masking first means none of its leading digits shows.
    call = call_saying("+971501234567", "x" * 490 + " +971 50 123 4567")

    shared = "\n".join(mrkdwn_texts(render_logs_page(call, 1).blocks))

    assert "+971" not in shared and "501" not in shared


def test_a_backtick_from_hamsa_can_not_close_a_code_span() -> None:
    assert code("a`b", 20) == "`a\u02cbb`"
    data = samples.failed_call()
    data["logs"][1]["payload"] = {"note": "` *bold* <https://evil.example|click> `"}
    page = "\n".join(mrkdwn_texts(render_logs_page(Conversation.model_validate(data), 1).blocks))

    error_line = next(line for line in page.splitlines() if "ERROR" in line)
    assert error_line.count("`") == 4  # the offset's span and the payload's, each opened and closed once
    assert "\u02cb *bold*" in error_line


@pytest.mark.parametrize(("asked", "shown"), [(0, 1), (-3, 1), (10_000, 152)])
def test_out_of_range_pages_are_clamped(asked: int, shown: int) -> None:
    assert render_logs_page(sample("long"), asked).page == shown
