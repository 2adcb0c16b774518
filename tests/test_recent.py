"""``/hamsa recent`` end to end over HTTP: the query Hamsa gets, the calls listed, paging, View, agents, errors.

FakeHamsa serves the documented minimal list over 35 calls, one every 47 minutes back from now.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import actions, messages
from bot.hamsa.client import MINIMAL_LIST_PATH
from bot.recent import CallFilters, encode_page
from bot.render.recent import AMBIGUOUS_AGENT, NEWER, NO_CALLS, OLDER, UNKNOWN_AGENT_NAMED, USAGE
from bot.render.summary import SHOW_LOGS_LABEL
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import FakeHamsa, Fault
from bot.sandbox.fake_slack import SANDBOX_TEAM, SandboxTeam, SandboxUser, dm_channel_of
from bot.sandbox.slack_requests import DEFAULT_USER, app_home_opened_event
from bot.sandbox.stack import HAMSA_KEY, INSTALLER, Stack, start_stack

NEW_YORK = "America/New_York"
REFERENCE = re.compile(r"H-[0-9A-F]{6}")
OTHER_TEAM = SandboxTeam(team_id="T0OTHER", name="Other Co", bot_user_id="U0OTHERBOT", bot_id="B0OTHERBOT")
THIRD_TEAM = SandboxTeam(team_id="T0THIRD", name="Third Co", bot_user_id="U0THIRDBOT", bot_id="B0THIRDBOT")


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    hamsa = FakeHamsa(samples.recent_calls(35), api_key=HAMSA_KEY)
    async with await start_stack(
        hamsa=hamsa, hamsa_lookup_budget=2.0, hamsa_read_timeout=1.0, hamsa_retry_after_cap=0.2
    ) as running:
        yield running


async def recent(stack: Stack, text: str, **kw: Any) -> dict[str, Any]:
    url = stack.slack.new_response_url()
    ack = await stack.sender.command(f"recent {text}".strip(), url, **kw)
    assert (ack.status_code, ack.text) == (200, "")
    (reply,) = await stack.slack.wait_for_responses(1, url=url)
    return reply.body


async def click(stack: Stack, action_id: str, value: str) -> dict[str, Any]:
    """A button on the private list (an ephemeral message: no ``message`` in the payload)."""
    url = stack.slack.new_response_url()
    ack = await stack.sender.action(action_id, value, response_url=url, is_ephemeral=True)
    assert ack.status_code == 200
    (reply,) = await stack.slack.wait_for_responses(1, url=url)
    return reply.body


def queries(stack: Stack) -> list[dict[str, list[str]]]:
    found = []
    for request in stack.hamsa.requests:
        if request.path == MINIMAL_LIST_PATH:
            query: dict[str, list[str]] = {}
            for name, value in request.query:
                query.setdefault(name, []).append(value)
            found.append(query)
    return found


def listed_ids(message: dict[str, Any]) -> list[str]:
    return [
        actions.decode(block["accessory"]["value"]).conversation_id
        for block in message["blocks"]
        if block.get("accessory", {}).get("action_id") == actions.RECENT_VIEW
    ]


def button(message: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    found = [
        e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == action_id
    ]
    return found[0] if found else None


def expected(stack: Stack, *, statuses: set[str] | None = None, since: datetime | None = None) -> list[str]:
    """What Hamsa holds that matches, newest first (the sample is built newest first)."""
    return [
        call["id"]
        for call in stack.hamsa.conversations.values()
        if (statuses is None or call["status"] in statuses)
        and (since is None or datetime.fromisoformat(call["createdAt"]) >= since)
    ]


async def test_recent_failed_today_asks_hamsa_from_midnight_in_the_persons_time_zone(stack: Stack) -> None:
    stack.slack.add_user(SandboxUser(DEFAULT_USER, SANDBOX_TEAM.team_id or "", tz=NEW_YORK, tz_offset=-5 * 3600))
    before = datetime.now(UTC)

    answer = await recent(stack, "failed today")

    after = datetime.now(UTC)
    (query,) = queries(stack)
    zone = ZoneInfo(NEW_YORK)
    midnight = datetime.combine(after.astimezone(zone).date(), time(0), tzinfo=zone)
    assert query["status"] == ["FAILED"]
    assert query["startTime"] == [str(int(midnight.timestamp() * 1000))]
    assert before.timestamp() * 1000 - 1 <= int(query["endTime"][0]) <= after.timestamp() * 1000
    assert query["page"] == ["1"] and query["perPage"] == ["10"]
    assert "voiceAgentId" not in query
    assert answer["response_type"] == "ephemeral"
    assert listed_ids(answer) == expected(stack, statuses={"FAILED"}, since=midnight)


async def test_today_starts_at_midnight_utc_when_slack_cannot_say_where_the_person_is(stack: Stack) -> None:
    await recent(stack, "today")

    (query,) = queries(stack)
    (lookup,) = stack.slack.calls_to("users.info")
    assert lookup.answer == {"ok": False, "error": "user_not_found"}
    midnight = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
    assert query["startTime"] == [str(int(midnight.timestamp() * 1000))]


async def test_recent_failed_24h_lists_the_failed_calls_with_masked_numbers_newest_first(stack: Stack) -> None:
    answer = await recent(stack, "failed 24h")

    ids = listed_ids(answer)
    assert ids == expected(stack, statuses={"FAILED"}, since=datetime.now(UTC) - timedelta(hours=24))
    assert len(ids) == 5  # failed every seventh call, one every 47 minutes
    rendered = json.dumps(answer["blocks"], ensure_ascii=False)
    first = stack.hamsa.conversations[ids[0]]
    number = first["callParams"]["userNumber"]
    assert number not in rendered and number[-4:] in rendered
    assert "Billing Assistant" in rendered or "Order Desk" in rendered or "Support Agent" in rendered
    assert "<!date^" in rendered  # the start time, in the reader's own time zone
    assert "failed · the last 24 hours" in answer["blocks"][0]["text"]["text"]
    assert button(answer, actions.RECENT_OLDER) is None


async def test_paging_through_35_calls_with_older_and_newer(stack: Stack) -> None:
    page = await recent(stack, "")
    seen = listed_ids(page)
    assert "Page 1 of 4" in json.dumps(page["blocks"])
    assert button(page, actions.RECENT_NEWER) is None
    pages = [page]
    while (older := button(page, actions.RECENT_OLDER)) is not None:
        assert older["text"]["text"] == OLDER
        page = await click(stack, actions.RECENT_OLDER, older["value"])
        assert page["replace_original"] is True
        seen += listed_ids(page)
        pages.append(page)

    assert seen == [samples.recent_call_id(i) for i in range(35)]
    assert [len(listed_ids(p)) for p in pages] == [10, 10, 10, 5]
    assert "Page 4 of 4" in json.dumps(page["blocks"])
    # Every page was read as of the first one: calls arriving meanwhile would not shift them.
    assert len({q["endTime"][0] for q in queries(stack)}) == 1
    assert [q["page"] for q in queries(stack)] == [["1"], ["2"], ["3"], ["4"]]

    newer = button(page, actions.RECENT_NEWER)
    assert newer is not None and newer["text"]["text"] == NEWER
    back = await click(stack, actions.RECENT_NEWER, newer["value"])
    assert listed_ids(back) == [samples.recent_call_id(i) for i in range(20, 30)]


async def test_view_shows_the_calls_full_summary_privately_with_share(stack: Stack) -> None:
    page = await recent(stack, "")
    view = page["blocks"][1]["accessory"]
    assert view["text"]["text"] == "View"

    summary = await click(stack, actions.RECENT_VIEW, view["value"])

    newest = stack.hamsa.conversations[samples.recent_call_id(0)]
    assert summary["response_type"] == "ephemeral"
    assert summary["replace_original"] is False  # the list stays
    assert summary["blocks"][0]["text"]["text"] == newest["title"]
    labels = [e["text"]["text"] for b in summary["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert SHOW_LOGS_LABEL in labels and "Share in channel" in labels
    assert newest["callParams"]["userNumber"] in json.dumps(summary)  # private: the number in full


async def test_an_agent_by_name_is_found_among_the_latest_calls_then_filtered_at_hamsa(stack: Stack) -> None:
    answer = await recent(stack, "agent billing ASSISTANT failed 7d")

    resolve, listing = queries(stack)
    assert resolve == {"page": ["1"], "perPage": ["200"]}
    assert listing["voiceAgentId"] == [next(i for i, n in samples.AGENTS.items() if n == "Billing Assistant")]
    assert listing["status"] == ["FAILED"]
    ids = listed_ids(answer)
    assert ids and all(stack.hamsa.conversations[i]["agentDetails"]["agentName"] == "Billing Assistant" for i in ids)
    assert "agent *Billing Assistant*" in answer["blocks"][0]["text"]["text"]

    await recent(stack, "agent Billing Assistant")
    assert len(queries(stack)) == 3  # the agent's ID was remembered: no second look-up


async def test_an_agent_by_id_goes_straight_to_hamsa(stack: Stack) -> None:
    await recent(stack, f"agent {samples.SUPPORT_AGENT_ID.upper()} completed")

    (query,) = queries(stack)
    assert query["voiceAgentId"] == [samples.SUPPORT_AGENT_ID]
    assert query["status"] == ["COMPLETED"]


async def test_an_unknown_agent_is_answered_with_the_names_seen(stack: Stack) -> None:
    answer = await recent(stack, "agent Nobody Here failed")

    assert answer["text"].startswith(UNKNOWN_AGENT_NAMED.format(name="Nobody Here"))
    for name in ("Billing Assistant", "Order Desk", "Support Agent"):
        assert f"*{name}*" in answer["text"]
    assert len(queries(stack)) == 1  # only the look-up: nothing is listed for an unknown agent


async def test_an_ambiguous_agent_name_is_answered_with_the_matching_names(stack: Stack) -> None:
    twin = samples.recent_call(40, datetime.now(UTC))
    twin["voiceAgentId"] = "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9"  # another agent, also called Order Desk
    twin["agentDetails"]["agentName"] = "order desk"
    stack.hamsa.conversations[twin["id"]] = twin

    exact = await recent(stack, 'agent "Order Desk"')
    partial = await recent(stack, "agent A")  # in "Billing Assistant" and in "Support Agent"

    assert exact["text"].startswith(AMBIGUOUS_AGENT.format(name="Order Desk"))
    assert "*Order Desk*" in exact["text"] and "*order desk*" in exact["text"]
    assert "Support Agent" not in exact["text"]
    assert "`0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9`" in exact["text"]
    assert partial["text"].startswith(AMBIGUOUS_AGENT.format(name="A"))
    assert "*Billing Assistant*" in partial["text"] and "*Support Agent*" in partial["text"]
    assert "Order Desk" not in partial["text"]


@pytest.mark.parametrize("text", ["yesterday", "failed maybe", "today 7d", "agent", "2025-02-30", "<!channel>"])
async def test_unknown_words_get_the_usage_without_asking_hamsa(stack: Stack, text: str) -> None:
    answer = await recent(stack, text)

    assert answer["text"].startswith(":thinking_face: I don't know `")
    assert USAGE in [b["text"]["text"] for b in answer["blocks"]]
    assert "<!channel>" not in json.dumps(answer)
    assert stack.hamsa.count() == 0


async def test_an_empty_result_says_so_with_the_filters_it_used(stack: Stack) -> None:
    answer = await recent(stack, "pending in-progress 2025-01-02")

    assert answer["text"] == NO_CALLS.format(filters="pending, in-progress · on 2025-01-02")
    assert [b["type"] for b in answer["blocks"]] == ["section"]


@pytest.mark.parametrize(
    ("fault", "notice"),
    [
        (Fault.status(401), messages.UNAUTHORIZED),
        (Fault.html(502), messages.UNAVAILABLE),
        (Fault.rate_limited(0), messages.RATE_LIMITED),
        (Fault.malformed_json(), messages.BAD_RESPONSE),
    ],
)
async def test_every_hamsa_error_is_answered_like_every_other_lookup(stack: Stack, fault: Fault, notice: str) -> None:
    stack.hamsa.inject(fault, times=-1)

    for text in ("failed", "agent Billing Assistant"):
        answer = await recent(stack, text)
        assert answer["text"].startswith(notice), text
        assert REFERENCE.search(answer["text"])


async def test_an_error_while_paging_replaces_the_page_with_the_notice(stack: Stack) -> None:
    page = await recent(stack, "")
    stack.hamsa.inject(Fault.html(503), times=-1)

    answer = await click(stack, actions.RECENT_OLDER, button(page, actions.RECENT_OLDER)["value"])

    assert answer["replace_original"] is True
    assert answer["text"].startswith(messages.UNAVAILABLE)


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        json.dumps({"p": 2, "a": "<!channel>"}),
        json.dumps({"p": 0}),
        json.dumps({"p": 2, "s": ["exploded"]}),
        json.dumps({"p": 2, "f": -1}),
        json.dumps({"p": 2, "x": 1}),
        json.dumps({"p": True}),
        "x" * 2001,
    ],
)
async def test_a_paging_value_this_app_did_not_write_is_ignored(stack: Stack, value: str) -> None:
    url = stack.slack.new_response_url()
    ack = await stack.sender.action(actions.RECENT_OLDER, value, response_url=url, is_ephemeral=True)
    await stack.services.background.drain(2)

    assert ack.status_code == 200
    assert stack.slack.responses_to(url) == []
    assert stack.hamsa.count() == 0


def test_a_paging_value_holds_the_filters_within_slacks_limit() -> None:
    filters = CallFilters(
        ("completed", "no-answer", "failed", "forwarded", "terminated", "in-progress", "pending"),
        samples.SUPPORT_AGENT_ID,
        "ن" * 100,
        "2025-03-02",
        1_740_873_600_000,
        1_740_959_999_999,
    )
    assert len(encode_page(filters, 10_000)) <= 2000


async def test_app_home_lists_the_latest_calls_and_view_sends_the_summary_in_messages(stack: Stack) -> None:
    await stack.sender.event(app_home_opened_event(DEFAULT_USER))
    (publish,) = await stack.slack.wait_for_calls("views.publish")
    view = publish.params["view"]

    views = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    listed = [v["value"] for v in views if v["action_id"] == actions.RECENT_VIEW]
    assert [actions.decode(v).conversation_id for v in listed] == [samples.recent_call_id(i) for i in range(5)]
    assert queries(stack) == [{"page": ["1"], "perPage": ["5"]}]

    await stack.sender.home_action(actions.RECENT_VIEW, user_id=DEFAULT_USER, view=view, value=listed[0])
    (post,) = await stack.slack.wait_for_calls("chat.postMessage")

    assert post.params["channel"] == DEFAULT_USER
    assert post.answer is not None and post.answer["channel"] == dm_channel_of(DEFAULT_USER)
    assert post.params["blocks"][0]["text"]["text"] == stack.hamsa.conversations[samples.recent_call_id(0)]["title"]


async def test_app_home_says_why_when_hamsa_cannot_list_calls(stack: Stack) -> None:
    stack.hamsa.inject(Fault.status(401), times=-1)

    await stack.sender.event(app_home_opened_event(DEFAULT_USER))
    (publish,) = await stack.slack.wait_for_calls("views.publish")

    texts = [b["text"]["text"] for b in publish.params["view"]["blocks"] if b["type"] == "section"]
    assert any(t.startswith(messages.UNAUTHORIZED) and REFERENCE.search(t) for t in texts)


async def test_each_workspace_lists_and_resolves_agents_with_its_own_account_only() -> None:
    hamsa = FakeHamsa(samples.recent_calls(35), api_key=HAMSA_KEY)
    theirs = {samples.recent_call_id(2), samples.recent_call_id(5)}
    hamsa.add_account("other-key", theirs)
    async with await start_stack(hamsa=hamsa, multi_workspace=True) as multi:
        for team, key in ((SANDBOX_TEAM, HAMSA_KEY), (OTHER_TEAM, "other-key")):
            await multi.install(team)
            await multi.connect_hamsa(team, api_key=key)
        await multi.services.background.drain(5)

        mine = await recent(multi, "", team=SANDBOX_TEAM, user_id=INSTALLER)
        other = await recent(multi, "", team=OTHER_TEAM, user_id=INSTALLER)
        assert len(listed_ids(mine)) == 10
        assert set(listed_ids(other)) == theirs

        await multi.install(THIRD_TEAM)  # installed, Hamsa not connected yet
        waiting = await recent(multi, "failed", team=THIRD_TEAM, user_id=INSTALLER)
        assert waiting["text"].startswith(messages.NOT_CONNECTED.split("{")[0])

        found = await recent(multi, "agent Billing Assistant", team=SANDBOX_TEAM, user_id=INSTALLER)
        assert listed_ids(found)
        # The other workspace's key sees no Billing Assistant call: the first workspace's memory is not used.
        unknown = await recent(multi, "agent Billing Assistant", team=OTHER_TEAM, user_id=INSTALLER)
        assert unknown["text"].startswith(UNKNOWN_AGENT_NAMED.format(name="Billing Assistant"))
