"""Whatever Hamsa holds, rendering keeps every Block Kit limit and never pings, links or breaks markup.

Transcripts and log lines are written by callers and by models: they can contain ``<!channel>``,
fake links, control characters, any script, and be huge. The renderers are pure, so hypothesis
drives them directly; one hostile conversation then goes through the whole app to Slack.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import actions
from bot.actions import ButtonValue, share_button
from bot.hamsa.models import Conversation, Status
from bot.messages import BAD_RESPONSE
from bot.render.logs import PAGE_SIZE, page_count, render_logs_page
from bot.render.summary import render_condensed, render_summary, summary_text
from bot.render.text import code, inline, mrkdwn
from bot.sandbox.blockkit import block_kit_problems, mrkdwn_texts, unescaped_markup
from bot.sandbox.fake_hamsa import FakeHamsa, Fault
from bot.sandbox.slack_requests import BOT_USER_ID, app_mention_event, link_shared_event, new_ts
from bot.sandbox.stack import HAMSA_KEY, start_stack

HOSTILE_PIECES = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0123|@support>",
    "<@U123>",
    "<@W0ADMIN|admin>",
    "<#C123>",
    "<#C123|general>",
    "<https://evil.example|click>",
    "<https://evil.example>",
    "<mailto:ceo@evil.example|mail>",
    "<!date^1700000000^{date}|fake date>",
    "&",
    "&amp;",
    "&lt;",
    "&#60;",
    "<",
    ">",
    "|",
    "*bold*",
    "_it_",
    "~gone~",
    "`",
    "```",
    ":rotating_light:",
    "@channel",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\u2028",
    "\u202e",
    "\u200f",
    "\u200b",
    "\ufeff",
    "\n",
    "\r\n",
    "\t",
    "مرحبا بالعالم",
    "שלום עולם",
    "日本語のテキスト",
    "Ελληνικά",
    "🙂",
    "👩‍👩‍👧‍👦",
    "🇦🇪",
    "e\u0301",
]
# The app writes these itself: Slack dates with a fallback, from parsed timestamps only.
APP_DATE = re.compile(r"<!date\^-?\d+\^\{date_short_pretty\} at \{time\}\|[0-9: -]+UTC>")
BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

piece = st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=8))
hostile_text = st.lists(piece, max_size=12).map("".join)
huge_text = st.builds(lambda text, times: text * times, st.sampled_from(HOSTILE_PIECES), st.sampled_from([700, 5_000]))
text_field = st.one_of(st.none(), hostile_text, huge_text, st.integers(), st.just(""))
payloads = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile_text),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(hostile_text, children, max_size=4)),
    max_leaves=25,
)
timestamps = st.one_of(
    st.none(),
    hostile_text,
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(lambda d: d.isoformat() + "Z"),
)


@st.composite
def conversations(draw: st.DrawFn) -> dict[str, Any]:
    """Hamsa's conversation shape, every outside field filled with hostile text or odd values."""
    turn = st.dictionaries(hostile_text, st.one_of(hostile_text, huge_text, payloads), max_size=3)
    log = st.fixed_dictionaries(
        {},
        optional={
            "id": text_field,
            "type": st.one_of(st.sampled_from(["INFO", "DEBUG", "WARNING", "ERROR"]), text_field),
            "category": text_field,
            "message": text_field,
            "nodeId": text_field,
            "payload": payloads,
            "timestamp": timestamps,
            "createdAt": timestamps,
        },
    )
    return {
        "id": str(draw(st.uuids())),
        "title": draw(st.one_of(text_field, st.just("<!channel> " * 10_000))),
        "status": draw(st.one_of(st.sampled_from(list(Status)), text_field)),
        "callDuration": draw(st.one_of(st.none(), st.integers(-(10**12), 10**12), st.floats(), hostile_text)),
        "channelType": draw(text_field),
        "mediaUrl": draw(
            st.one_of(
                text_field,
                st.builds(lambda t: "https://recordings.example/" + t, hostile_text),
                st.sampled_from(["javascript:alert(1)", "https://evil.example/a|<!here>", "https://x/" + "a" * 3000]),
            )
        ),
        "createdAt": draw(timestamps),
        "callParams": draw(st.one_of(st.none(), st.fixed_dictionaries({"userNumber": text_field}))),
        "agentDetails": draw(st.one_of(st.none(), st.fixed_dictionaries({"agentName": text_field}))),
        "callAnalysis": draw(
            st.one_of(st.none(), st.fixed_dictionaries({"error": st.fixed_dictionaries({"message": text_field})}))
        ),
        "jobResponse": draw(
            st.one_of(
                st.none(),
                st.fixed_dictionaries({"transcription": st.lists(turn, max_size=8), "callStartedAt": timestamps}),
            )
        ),
        "logs": draw(st.lists(log, max_size=30)),
    }


def rendered_messages(conversation: Conversation) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    """Every message the app builds from one conversation: (blocks, top-level text)."""
    text = summary_text(conversation)
    for show_number in (False, True):
        yield render_summary(conversation, show_caller_number=show_number), text
    yield render_summary(conversation, extra_buttons=(share_button(conversation.id),)), text
    yield render_condensed(conversation) * 5, None
    for private in (False, True):
        for page in range(1, page_count(conversation) + 1):
            logs = render_logs_page(conversation, page, private=private)
            yield logs.blocks, logs.text


def assert_safe_for_slack(blocks: list[dict[str, Any]], text: str | None) -> None:
    assert block_kit_problems(blocks) == []
    for mrkdwn_text in [*mrkdwn_texts(blocks), *([text] if text is not None else [])]:
        assert unescaped_markup(mrkdwn_text) == [], mrkdwn_text[:300]
        outside_dates = APP_DATE.sub("", mrkdwn_text)
        assert "<" not in outside_dates and ">" not in outside_dates, mrkdwn_text[:300]
        assert not BARE_AMPERSAND.search(mrkdwn_text), mrkdwn_text[:300]
    for string in _strings(blocks):
        assert not CONTROL.search(string), repr(string[:300])


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if key != "value":  # button values are opaque to people
                yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(conversations())
@example(
    {
        "id": "849e77c6-5cb3-479a-a985-7fab630e2c78",
        "title": "<!channel> " + "x" * 100_000,
        "status": "<!here>",
        "channelType": "<https://evil.example|Telephone>",
        "callParams": {"userNumber": "<@U123> +971 50 123 4567"},
        "agentDetails": {"agentName": "&lt;Agent&gt; <#C123>"},
        "callAnalysis": {"error": {"message": "<!everyone> failed & " + "\u202e" * 5_000}},
        "jobResponse": {"transcription": [{"<@U123>": "<https://evil.example|click>"}]},
        "logs": [{"message": "<!channel>", "payload": {"<!here>": ["<@U1>"]}}],
    }
)
def test_every_rendered_message_keeps_slack_limits_and_escapes_outside_text(data: dict[str, Any]) -> None:
    conversation = Conversation.model_validate(data)
    for blocks, text in rendered_messages(conversation):
        assert_safe_for_slack(blocks, text)


@settings(max_examples=100, deadline=None)
@given(st.one_of(hostile_text, huge_text), st.integers(min_value=1, max_value=3000))
def test_outside_text_helpers_escape_strip_and_bound(value: str, limit: int) -> None:
    for helper in (mrkdwn, inline, code):
        out = helper(value, limit)
        assert len(out) <= limit + (2 if helper is code else 0)
        assert "<" not in out and ">" not in out and not BARE_AMPERSAND.search(out)
        assert not CONTROL.search(out)
    assert "\n" not in inline(value, limit)


@functools.cache  # shared, never mutated: thousands of logs can hold the same deep payload
def _nested(depth: int) -> Any:
    payload: Any = "<!channel>"
    for level in range(depth):
        payload = {f"<@U{level}>": [payload]}
    return payload


N_TURNS = 300


def thousands_of_logs(n_logs: int = 5_000, deepest: int = 1_000) -> dict[str, Any]:
    start = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)
    logs = [
        {
            "id": f"log-{i}",
            "type": ("ERROR", "INFO", "<!here>")[i % 3],
            "category": f"<#C{i}|cat>" * 5,
            "message": f"<!channel> step {i} & <https://evil.example/{i}|click> " + "\u202e🙂" * (i % 400),
            "payload": _nested(i % 50) if i % 7 else _nested(deepest),
            "timestamp": (start + timedelta(seconds=i)).isoformat(),
        }
        for i in range(n_logs)
    ]
    turns = [{("Agent", "User", "<@U123>")[i % 3]: "<!here> " * (i % 200)} for i in range(N_TURNS)]
    return {
        "id": "c3d9e8f1-6a2b-47c5-9e0d-1b4a7f3c2d85",
        "title": "<!channel> " * 10_000,
        "status": "COMPLETED",
        "jobResponse": {"transcription": turns, "callStartedAt": start.isoformat()},
        "logs": logs,
    }


def test_thousands_of_hostile_logs_page_within_limits() -> None:
    conversation = Conversation.model_validate(thousands_of_logs(n_logs=5_000))

    pages = [render_logs_page(conversation, page) for page in range(1, page_count(conversation) + 1)]

    assert len(pages) == -(-(N_TURNS + 5_000) // PAGE_SIZE)
    for page in pages:
        assert_safe_for_slack(page.blocks, page.text)
    # Paging keeps going (and stops) where it should, whatever page a forged button asks for.
    assert render_logs_page(conversation, 10**9).page == len(pages)
    assert render_logs_page(conversation, -5).page == 1


# ---- end to end ---------------------------------------------------------------------------

HOSTILE_ID = "0badc0de-0000-4000-8000-000000000666"


def hostile_conversation() -> dict[str, Any]:
    data = thousands_of_logs(n_logs=1_500, deepest=150)  # deep, but still JSON a real API could send
    data.update(
        {
            # Hamsa's answer claims another, hostile ID than the one asked for.
            "id": "<!channel> " + "9" * 3_000,
            "mediaUrl": "https://evil.example/rec.mp3|<!here>",
            "callParams": {"userNumber": "<@U123>"},
            "agentDetails": {"agentName": "<https://evil.example|Trusted agent>"},
            "callAnalysis": {"error": {"message": "<!everyone> & \x00\x1b[31m " + "x" * 10_000}},
            "callDuration": "<!here>",
            "channelType": "<#C123>",
        }
    )
    return data


def assert_message_safe(message: dict[str, Any]) -> None:
    assert_safe_for_slack(message["blocks"], message.get("text"))


async def test_hostile_conversation_goes_through_the_app_safely() -> None:
    hamsa = FakeHamsa({HOSTILE_ID: hostile_conversation()}, api_key=HAMSA_KEY)
    async with await start_stack(hamsa=hamsa) as stack:
        command_url = stack.slack.new_response_url()
        await stack.sender.command(HOSTILE_ID, command_url)
        (summary,) = await stack.slack.wait_for_responses(1, url=command_url)
        assert_message_safe(summary.body)
        assert f"`{HOSTILE_ID}`" in summary.body["blocks"][-1]["elements"][0]["text"]  # the ID asked for

        link = f"https://dashboard.tryhamsa.com/conversations/{HOSTILE_ID}"
        await stack.sender.event(link_shared_event([link]))
        (unfurl,) = await stack.slack.wait_for_calls("chat.unfurl", 1)
        assert unfurl.answer == {"ok": True}
        assert_message_safe(unfurl.params["unfurls"][link])

        await stack.sender.event(app_mention_event(f"<@{BOT_USER_ID}> {HOSTILE_ID}"))
        (mention,) = await stack.slack.wait_for_calls("chat.postMessage", 1)
        assert mention.answer is not None and mention.answer["ok"] is True
        assert_message_safe(mention.params)

        value = actions.encode(ButtonValue(HOSTILE_ID))
        logs_url = stack.slack.new_response_url()
        await stack.sender.action(actions.SHOW_LOGS, value, response_url=logs_url, message_ts=new_ts())
        _, logs = await stack.slack.wait_for_calls("chat.postMessage", 2)
        assert logs.answer is not None and logs.answer["ok"] is True
        assert_message_safe(logs.params)

        page_url = stack.slack.new_response_url()
        next_page = actions.encode(ButtonValue(HOSTILE_ID, page=2))
        await stack.sender.action(actions.LOGS_PAGE, next_page, response_url=page_url, is_ephemeral=True)
        (page,) = await stack.slack.wait_for_responses(1, url=page_url)
        assert_message_safe(page.body)

        assert stack.slack.rejected_responses == []
        assert stack.hamsa.count(HOSTILE_ID) == 1  # every view after the first came from the cache


async def test_payload_nested_too_deeply_for_json_is_a_bad_response_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Python's JSON reader gives up on very deep nesting; the lookup reports it like any unreadable answer."""
    deep = "[" * 100_000 + "]" * 100_000
    body = f'{{"success": true, "data": {{"id": "{HOSTILE_ID}", "logs": [{{"payload": {deep}}}]}}}}'
    async with await start_stack() as stack:
        stack.hamsa.inject(Fault.status(200, body))
        response_url = stack.slack.new_response_url()
        await stack.sender.command(HOSTILE_ID, response_url)
        (reply,) = await stack.slack.wait_for_responses(1, url=response_url)

    assert reply.body["text"].startswith(BAD_RESPONSE)
    assert [r for r in caplog.records if r.exc_info] == []


async def test_a_backtick_from_hamsa_can_not_close_a_code_span_in_posted_logs() -> None:
    # Closing the payload's span early would let the rest render as live formatting and links.
    data = {
        "id": HOSTILE_ID,
        "status": "COMPLETED",
        "createdAt": "2025-02-11T16:02:41Z",
        "logs": [
            {
                "type": "ERROR",
                "message": "Tool failed",
                "payload": {"note": "` *urgent* https://evil.example/login `"},
                "timestamp": "2025-02-11T16:02:46Z",
            }
        ],
    }
    hamsa = FakeHamsa({HOSTILE_ID: data}, api_key=HAMSA_KEY)
    async with await start_stack(hamsa=hamsa) as stack:
        value = actions.encode(ButtonValue(HOSTILE_ID))
        await stack.sender.action(actions.SHOW_LOGS, value, response_url=stack.slack.new_response_url())
        (post,) = await stack.slack.wait_for_calls("chat.postMessage")

    (line,) = [
        line for text in mrkdwn_texts(post.params["blocks"]) for line in text.splitlines() if "Tool failed" in line
    ]
    assert line.startswith("`+00:05` · ")
    assert line.count("`") == 4  # the offset's span and the payload's, each opened and closed once
    assert line.endswith("`")
    assert "\u02cb *urgent* https://evil.example/login \u02cb" in line
