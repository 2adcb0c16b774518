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
from bot.models import Conversation, Status
from bot.render.logs import LOGS_HEADING, NO_ENTRIES, TRANSCRIPT_HEADING, render_logs_page
from bot.render.summary import (
    NEUTRAL_EMOJI,
    RECORDING_NOT_READY,
    STATUS_EMOJI,
    UNKNOWN,
    UNTITLED,
    format_duration,
    mask_number,
    render_condensed,
    render_summary,
    slack_date,
    status_emoji,
    summary_text,
)
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
        sample("documented"), show_caller_number=True, extra_buttons=(actions.share_button(samples.DOCUMENTED_ID),)
    )
    assert_golden("summary_documented_private", blocks)


def test_shared_summary_with_footer_matches_golden() -> None:
    blocks = render_summary(sample("failed"), footer="Shared by <@U0ALICE>")
    assert_golden("summary_failed_shared", blocks)


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


def test_no_golden_file_is_left_unchecked() -> None:
    checked = {f"summary_{n}" for n in SAMPLE_IDS} | {f"condensed_{n}" for n in SAMPLE_IDS}
    checked |= {"summary_documented_private", "summary_failed_shared"}
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


def test_with_a_recording_there_is_a_play_button_and_no_not_ready_note() -> None:
    blocks = render_summary(sample("long"))
    assert RECORDING_NOT_READY not in context_text(blocks)
    assert samples.long_call()["mediaUrl"] in [
        element.get("url") for block in blocks if block["type"] == "actions" for element in block["elements"]
    ]


def test_a_failed_call_says_why() -> None:
    texts = mrkdwn_texts(render_summary(sample("failed")))
    assert ":warning: *Why it failed:* SIP 486: callee busy" in texts


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


@pytest.mark.parametrize(("asked", "shown"), [(0, 1), (-3, 1), (10_000, 152)])
def test_out_of_range_pages_are_clamped(asked: int, shown: int) -> None:
    assert render_logs_page(sample("long"), asked).page == shown
