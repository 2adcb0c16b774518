"""Every rendered message stays inside Slack's Block Kit limits and escapes outside text, whatever the data."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bot import actions, messages
from bot.hamsa.errors import (
    ConversationNotFound,
    HamsaBadResponse,
    HamsaRateLimited,
    HamsaUnauthorized,
    HamsaUnavailable,
    InvalidConversationId,
)
from bot.hamsa.models import STATUS_WORDS, CallPage, Conversation, ListedCall
from bot.policy import Policy
from bot.recent import CallFilters, decode_page
from bot.render.home import HomeFacts, RecentFacts, render_home
from bot.render.logs import render_logs_page
from bot.render.recent import agent_names, render_recent
from bot.render.summary import render_condensed, render_summary, summary_text
from bot.sandbox import samples
from bot.sandbox.blockkit import block_kit_problems, mrkdwn_texts, unescaped_markup, view_problems
from bot.sandbox.slack_requests import BOT_USER_ID, app_mention_event, link_shared_event, new_ts
from bot.sandbox.stack import Stack

HOSTILE = (
    "<!channel> <!here|here> <@U123> <#C42> <https://evil.example|click here> <mailto:x@evil.example> & &amp; *b* `t`"
)
CONTROL = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9f"
ARABIC = "مرحبا، طلبي متأخر من أسبوع. هل يمكنك المساعدة؟ \u202eevil.exe\u202c"
EMOJI = "🎉👩‍👩‍👧‍👦🇦🇪 ✅ :tada:"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def hostile_call(conversation_id: str) -> dict[str, Any]:
    """Outside text that tries to ping, disguise links, smuggle control characters and break layouts."""
    text = f"{HOSTILE} {CONTROL} {ARABIC} {EMOJI}"
    return {
        "id": conversation_id,
        "title": text,
        "status": "<!channel>_IS_HERE",
        "callDuration": 3725,
        "channelType": "<@U123>",
        "mediaUrl": "https://evil.example/a.mp3?<!channel>|x>",
        "createdAt": "2025-03-02T09:14:05Z",
        "callParams": {"userNumber": "<!here> +971 50 123 4567"},
        "agentDetails": {"agentName": text},
        "callAnalysis": {"error": {"message": text, "statusCode": 500}},
        "jobResponse": {
            "callStartedAt": "2025-03-02T09:14:07Z",
            "transcription": [{"<!here>": text}, {"User": {"<@U1>": ["<!channel>"]}}, {"Agent": [{"function": {}}]}],
            "outcomeResult": {
                HOSTILE: text,
                "<@U1>resolved": True,
                CONTROL: [HOSTILE],
                EMOJI: {HOSTILE: HOSTILE},
                "amount": float("inf"),
                "note": ARABIC,
                "<!here>": HOSTILE,
                "more": CONTROL + HOSTILE,
            },
        },
        "logs": [
            {
                "type": "<!channel>",
                "category": text,
                "message": text,
                "payload": {HOSTILE: [HOSTILE, {"`": "`"}], "n": 1},
                "timestamp": "2025-03-02T09:14:08Z",
            },
            {"message": None, "payload": HOSTILE, "timestamp": "not a date"},
        ],
    }


def huge_call(conversation_id: str, *, n_logs: int = 3500, big: int = 20_000) -> dict[str, Any]:
    """100,000-character fields, ``n_logs`` logs with ``big``-character, deeply nested payloads, a long transcript."""
    long = "<!channel> " + "x" * 100_000
    deep: Any = {"leaf": "y" * big}
    for level in range(12):
        deep = {f"level{level}": [deep, "z" * (big // 20)], HOSTILE: level}
    return {
        "id": conversation_id,
        "title": "T" * 100_000,
        "status": "S" * 100_000,
        "callDuration": 10**9,
        "channelType": long,
        "mediaUrl": "https://storage.example/" + "a" * 100_000,
        "createdAt": "2025-03-02T09:14:05Z",
        "callParams": {"userNumber": "9" * 100_000},
        "agentDetails": {"agentName": long},
        "callAnalysis": {"error": {"message": long}},
        "jobResponse": {
            # The caller's first words are 100,000 characters; 250 turns in all.
            "transcription": [
                {"User": long},
                *({("Agent" if n % 2 else "User") * 50: ARABIC * 30} for n in range(249)),
            ],
            "outcomeResult": {f"<!channel>{n}" * 50: "<!here> " + "o" * (5 * big) for n in range(300)},
        },
        "logs": [
            {
                "type": ("ERROR", "WARNING", "INFO", "DEBUG", "X" * (big // 20))[n % 5],
                "category": "c" * (big // 20),
                "message": (long if n % 500 == 0 else HOSTILE * (1 + big // 2000))
                if n % 3
                else EMOJI * (1 + big // 500),
                "payload": deep if n % 2 else ["p" * big, HOSTILE, None, 1.5],
                "timestamp": f"2025-03-02T{9 + n // 3600:02d}:{(n // 60) % 60:02d}:{n % 60:02d}Z",
            }
            for n in range(n_logs)
        ],
    }


def arabic_call(conversation_id: str) -> dict[str, Any]:
    data = samples.long_call(200)
    data.update(id=conversation_id, title=f"{ARABIC} {EMOJI}")
    data["agentDetails"]["agentName"] = "وكيل الطلبات 🤖"
    return data


CONVERSATIONS = {
    "hostile": hostile_call(str(uuid.UUID(int=1))),
    "hostile-id": hostile_call("<!channel> `<@U123>`"),
    "huge": huge_call(str(uuid.UUID(int=2))),
    "arabic-emoji": arabic_call(str(uuid.UUID(int=3))),
    **{
        name: samples.SAMPLES[conversation_id]
        for name, conversation_id in (
            ("documented", samples.DOCUMENTED_ID),
            ("failed", samples.FAILED_ID),
            ("in-progress", samples.IN_PROGRESS_ID),
            ("long", samples.LONG_ID),
        )
    },
}


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def assert_safe(blocks: list[dict[str, Any]], text: str | None = None, *, allowed: tuple[str, ...] = ()) -> None:
    """Within every limit; no outside markup in any mrkdwn (or the top-level text); no control characters."""
    assert block_kit_problems(blocks) == []
    markup = [found for t in mrkdwn_texts(blocks) for found in unescaped_markup(t) if found not in allowed]
    assert markup == []
    if text is not None:
        assert unescaped_markup(text) == []
        assert len(text) <= 40_000
    assert [s for s in strings(blocks) if _CONTROL_CHARS.search(s.replace("\n", ""))] == []


def surfaces(data: dict[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]], str | None]]:
    """Everything the app renders for one conversation: summaries, condensed, every logs page."""
    conversation = Conversation.model_validate(data)
    thread_ts = new_ts()
    for show_number in (False, True):
        yield "summary", render_summary(conversation, show_caller_number=show_number), summary_text(conversation)
    extra = (actions.share_button(conversation.id), actions.post_in_thread_button(conversation.id, thread_ts))
    yield "summary+buttons", render_summary(conversation, show_caller_number=True, extra_buttons=extra), None
    yield "condensed", render_condensed(conversation), None
    pages = render_logs_page(conversation, 1).pages
    for page in range(1, pages + 1):
        rendered = render_logs_page(conversation, page)
        assert rendered.page == page
        yield f"logs page {page}", rendered.blocks, rendered.text
    for page in {1, pages // 2, pages}:  # private pages differ only by a button and the full number
        rendered = render_logs_page(conversation, page, private=True)
        yield f"private logs page {page}", rendered.blocks, rendered.text
    error_pages = render_logs_page(conversation, 1, errors_only=True).pages
    for page in {1, error_pages}:
        for private in (False, True):
            rendered = render_logs_page(conversation, page, private=private, errors_only=True)
            yield f"errors-only logs page {page}", rendered.blocks, rendered.text


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_every_surface_of_every_conversation_is_within_limits_and_escaped(name: str) -> None:
    count = 0
    for surface, blocks, text in surfaces(CONVERSATIONS[name]):
        try:
            assert_safe(blocks, text)
        except AssertionError as error:
            raise AssertionError(f"{name} / {surface}: {error}") from None
        count += 1
    assert count >= 6


def hostile_listed_calls(count: int) -> CallPage:
    """A page of Hamsa's list whose every field is hostile, huge or of the wrong type."""
    long = "<!channel> " + "x" * 100_000
    calls = []
    for n in range(count):
        item = {
            "id": str(uuid.UUID(int=1000 + n)),
            "createdAt": ("2025-03-02T09:14:05Z", "not a date", None)[n % 3],
            "status": (HOSTILE, "S" * 100_000, "FAILED", None)[n % 4],
            "voiceAgentId": HOSTILE,
            "agentName": (long, HOSTILE + CONTROL + ARABIC + EMOJI, None)[n % 3],
            "duration": (10**12, -5, float("nan"), "long")[n % 4],
            "channelType": long,
            "callParams": {"userNumber": ("9" * 100_000, HOSTILE, "+971 50 123 4567")[n % 3]},
        }
        calls.append(ListedCall.model_validate(item))
    return CallPage(calls=tuple(calls), page=3, per_page=10, matching=10**9)


@pytest.mark.parametrize("count", [0, 1, 10, 200])
def test_every_recent_page_is_within_limits_and_escaped(count: int) -> None:
    page = hostile_listed_calls(count)
    filters = CallFilters(tuple(STATUS_WORDS), samples.SUPPORT_AGENT_ID, HOSTILE + "x" * 100, "2025-03-02", 0, 2**40)
    for view_filters in (filters, CallFilters()):
        message = render_recent(page, view_filters)
        assert_safe(message["blocks"], message["text"])
        for block in message["blocks"]:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                assert decode_page(element["value"]) is not None
    notice = agent_names([HOSTILE * 100] * 100, [str(uuid.UUID(int=n)) for n in range(100)])
    assert_safe(messages.notice_blocks(notice), notice)


def test_app_home_with_hostile_recent_calls_is_within_limits_and_escaped() -> None:
    facts = HomeFacts(
        connection=None,
        from_environment=True,
        can_manage=False,
        managers="admins",
        policy=Policy(link_domains=("dashboard.tryhamsa.com",), extra_link_domains=(), show_full_caller_number=False),
        recent=RecentFacts(hostile_listed_calls(5).calls),
    )
    view = render_home(facts)
    assert view_problems(view) == []
    assert block_kit_problems(view["blocks"], surface="home") == []
    assert [m for t in mrkdwn_texts(view["blocks"]) for m in unescaped_markup(t)] == []


def test_the_huge_call_pages_through_all_its_entries() -> None:
    conversation = Conversation.model_validate(CONVERSATIONS["huge"])
    assert len(conversation.logs) == 3500
    last = render_logs_page(conversation, 10**6)
    assert last.pages == -(-(3500 + 250) // 20)
    assert "entries 3741 to 3750 of 3750" in json.dumps(last.blocks)


def test_a_shared_summary_footer_is_the_only_mention() -> None:
    conversation = Conversation.model_validate(CONVERSATIONS["hostile"])
    blocks = render_summary(conversation, footer="Shared by <@U0ALICE>")
    assert_safe(blocks, allowed=("<@U0ALICE>",))


_ERRORS = [
    InvalidConversationId("x"),
    ConversationNotFound("x"),
    HamsaUnauthorized("x"),
    HamsaRateLimited("x", 3),
    HamsaUnavailable("x"),
    HamsaBadResponse("x"),
    RuntimeError("<!channel>"),
]


@pytest.mark.parametrize("error", _ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_notice_is_within_limits(error: Exception) -> None:
    text = messages.error_text(error, messages.new_reference())
    assert_safe(messages.notice_blocks(text), text)
    assert "<!channel>" not in text


@pytest.mark.parametrize(
    "notice",
    [
        messages.USAGE,
        messages.NOT_A_REFERENCE,
        messages.NO_REFERENCE_IN_MESSAGE,
        messages.LOGS_ALREADY_POSTED,
        messages.POSTED_PRIVATELY,
    ],
)
def test_every_notice_is_within_limits_and_escapes_its_own_angle_brackets(notice: str) -> None:
    assert_safe(messages.notice_blocks(notice, with_usage=True), notice)
    # Slack reads any <…> in mrkdwn as a link or mention, placeholders like <ID> included.
    assert "<" not in notice
    assert ">" not in notice


# ---- end to end: what Slack receives for hostile data is accepted and escaped --------------------


async def test_hostile_and_huge_conversations_reach_slack_accepted_and_escaped(stack: Stack) -> None:
    hostile_id, huge_id = str(uuid.UUID(int=11)), str(uuid.UUID(int=12))
    stack.hamsa.conversations[hostile_id] = hostile_call(hostile_id)
    # Hamsa's answer stays under the client's size cap (and the test fixture's short read timeout).
    stack.hamsa.conversations[huge_id] = huge_call(huge_id, n_logs=3000, big=300)
    dashboard = "https://dashboard.tryhamsa.com/conversations/"
    for conversation_id in (hostile_id, huge_id):
        await stack.sender.command(conversation_id, stack.slack.new_response_url())
        await stack.sender.event(link_shared_event([dashboard + conversation_id]))
        await stack.sender.event(app_mention_event(f"<@{BOT_USER_ID}> {conversation_id}", thread_ts=new_ts()))
        value = actions.encode(actions.ButtonValue(conversation_id))
        await stack.sender.action(actions.SHOW_LOGS, value, response_url=stack.slack.new_response_url())
        await stack.sender.action(
            actions.SHOW_LOGS, value, response_url=stack.slack.new_response_url(), is_ephemeral=True
        )
        page = actions.encode(actions.ButtonValue(conversation_id, page=3))
        await stack.sender.action(actions.LOGS_PAGE, page, response_url=stack.slack.new_response_url())
    await stack.sender.event(link_shared_event([dashboard + hostile_id, dashboard + huge_id]))
    # Hamsa's list holds them too: /hamsa recent shows their hostile agent names, statuses and numbers.
    await stack.sender.command("recent", stack.slack.new_response_url())

    await stack.slack.wait_for_calls("chat.unfurl", 3)
    await stack.slack.wait_for_calls("chat.postMessage", 4)
    await stack.slack.wait_for_responses(7)
    await stack.services.background.drain(5)

    assert stack.slack.rejected_responses == []
    assert [call.answer for call in stack.slack.calls if not (call.answer or {}).get("ok")] == []
    payloads = [response.body for response in stack.slack.responses]
    for call in stack.slack.calls:
        unfurls = call.params.get("unfurls") or {}
        payloads.extend([{"blocks": call.params.get("blocks", []), "text": call.params.get("text")}, *unfurls.values()])
    for payload in payloads:
        assert_safe(payload.get("blocks", []), payload.get("text"))
