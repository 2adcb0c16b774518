"""Each channel decides whether links unfurl there; channels shared with other organisations see less.

End to end over HTTP: ``/hamsa mute|unmute|settings``, ``link_shared`` and ``app_mention`` events with and
without the envelope's ``is_ext_shared_channel``, and clicks in channels that ``conversations.info`` says
are shared. Assertions are on what the Slack stand-in received.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot import actions, messages
from bot.hamsa.models import Conversation
from bot.render.settings import (
    ALREADY_MUTED,
    CHANNEL_OWN,
    MUTED_NOTICE,
    NOT_MUTED,
    PREVIEWS_ON,
    UNMUTED_NOTICE,
)
from bot.render.summary import render_condensed, render_summary
from bot.sandbox import samples
from bot.sandbox.fake_slack import SandboxChannel
from bot.sandbox.slack_requests import (
    BOT_USER_ID,
    DEFAULT_CHANNEL,
    DEFAULT_USER,
    app_mention_event,
    link_shared_event,
    new_ts,
)
from bot.sandbox.stack import Stack, start_stack

LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"
FAILED_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.FAILED_ID}"
# The documented sample's caller is +1234567890: not even its last digits may reach a shared channel.
CALLER_TAIL = "7890"
PARTNERS = "C0PARTNERS"  # a Slack Connect channel, as conversations.info describes it


def documented() -> Conversation:
    return Conversation.model_validate(samples.documented_example())


def as_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    found = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"]["action_id"] for b in blocks if "accessory" in b]


async def settle(stack: Stack) -> None:
    await stack.services.background.drain(5)


async def link_posted(stack: Stack, channel: str = DEFAULT_CHANNEL, *, shared: bool = False, **event: Any) -> Any:
    """A link posted in ``channel``: its unfurl's blocks, or None when the app left it plain."""
    before = len(stack.slack.calls_to("chat.unfurl"))
    await stack.sender.event(link_shared_event([LINK], channel=channel, **event), is_ext_shared_channel=shared)
    await settle(stack)
    made = stack.slack.calls_to("chat.unfurl")[before:]
    return made[0].params["unfurls"][LINK]["blocks"] if made else None


async def command(stack: Stack, text: str, channel: str = DEFAULT_CHANNEL) -> str:
    url = stack.slack.new_response_url()
    assert (await stack.sender.command(text, url, channel_id=channel)).status_code == 200
    await settle(stack)
    return url


def private_answer(stack: Stack, url: str) -> dict[str, Any]:
    (reply,) = stack.slack.responses_to(url)
    assert reply.body["response_type"] == "ephemeral"
    return reply.body


# ---- muted channels ----------------------------------------------------------------------------


async def test_mute_stops_unfurls_in_that_channel_until_unmute_and_the_channel_is_told_who(stack: Stack) -> None:
    assert await link_posted(stack) is not None

    url = await command(stack, "mute")
    assert await link_posted(stack) is None
    assert await link_posted(stack, "C0ELSEWHERE") is not None
    assert await link_posted(stack, thread_ts=new_ts()) is None  # replies in its threads too

    await command(stack, "unmute")
    assert await link_posted(stack) is not None

    muted, unmuted = stack.slack.calls_to("chat.postMessage")
    assert (muted.params["channel"], muted.params["text"]) == (DEFAULT_CHANNEL, MUTED_NOTICE.format(user=DEFAULT_USER))
    assert (unmuted.params["channel"], unmuted.params["text"]) == (
        DEFAULT_CHANNEL,
        UNMUTED_NOTICE.format(user=DEFAULT_USER),
    )
    assert stack.slack.responses_to(url) == []  # the channel's notice is the answer


async def test_where_the_bot_is_not_a_member_the_notice_goes_through_the_commands_response_url(stack: Stack) -> None:
    stack.slack.non_member_channels.add("C0QUIET")

    url = await command(stack, "mute", channel="C0QUIET")

    (notice,) = stack.slack.responses_to(url)
    assert notice.body["response_type"] == "in_channel"
    assert notice.body["text"] == MUTED_NOTICE.format(user=DEFAULT_USER)
    assert await link_posted(stack, "C0QUIET") is None


async def test_muting_twice_or_unmuting_a_channel_that_is_not_muted_says_so_privately(stack: Stack) -> None:
    assert private_answer(stack, await command(stack, "unmute"))["text"] == NOT_MUTED
    await command(stack, "mute")
    assert private_answer(stack, await command(stack, "mute"))["text"] == ALREADY_MUTED
    assert len(stack.slack.calls_to("chat.postMessage")) == 1


async def test_a_muted_channel_still_answers_the_command_mentions_and_the_shortcut(stack: Stack) -> None:
    await command(stack, "mute")

    # A link in a mention would usually be left to its unfurl; here it does not unfurl, so it is answered.
    await stack.sender.event(app_mention_event(f"<@{BOT_USER_ID}> {LINK}"))
    await settle(stack)
    reply = stack.slack.calls_to("chat.postMessage")[-1]
    assert reply.params["blocks"] == render_summary(documented())

    summary = private_answer(stack, await command(stack, samples.DOCUMENTED_ID))
    assert summary["blocks"][0]["text"]["text"] == "Customer Support Call"

    url = stack.slack.new_response_url()
    await stack.sender.shortcut(actions.PREVIEW_SHORTCUT, {"text": LINK}, response_url=url)
    (preview,) = await stack.slack.wait_for_responses(1, url=url)
    assert preview.body["blocks"][0]["text"]["text"] == "Customer Support Call"


async def test_settings_shows_the_channel_and_the_workspace_privately(stack: Stack) -> None:
    before = private_answer(stack, await command(stack, "settings"))
    assert PREVIEWS_ON in before["text"] and CHANNEL_OWN in before["text"]

    await command(stack, "mute")
    after = private_answer(stack, await command(stack, "settings"))
    assert f"muted (by <@{DEFAULT_USER}>" in after["text"]
    assert "*Channels shared with other organisations*" not in after["text"]
    assert "Channels shared with other organisations: Condensed preview" in after["text"]
    assert "Caller numbers in channels: Last four digits" in after["text"]
    assert "`dashboard.tryhamsa.com`" in after["text"]

    stack.slack.add_channel(SandboxChannel(PARTNERS, is_ext_shared=True))
    shared = private_answer(stack, await command(stack, "settings", channel=PARTNERS))
    assert "This channel is shared with other organisations" in shared["text"]
    unknown = private_answer(stack, await command(stack, "settings", channel="D0ALICEBOB"))
    assert "taken as shared" in unknown["text"]


async def test_the_muted_channels_are_read_from_memory_until_one_changes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = stack.services.store.workspaces
    reads: list[str] = []

    def counted(name: str) -> None:
        read = getattr(data, name)

        async def reading(*args: Any) -> Any:
            reads.append(name)
            return await read(*args)

        monkeypatch.setattr(data, name, reading)

    counted("muted_channels")
    counted("settings")
    await link_posted(stack)
    reads.clear()

    for _ in range(5):
        assert await link_posted(stack) is not None
    assert reads == []

    await command(stack, "mute")
    assert await link_posted(stack) is None
    assert await link_posted(stack) is None
    assert sorted(reads) == ["muted_channels", "settings"]  # once, after the change


# ---- links typed into the composer ---------------------------------------------------------------


async def test_composer_links_wait_for_the_posted_message_where_the_channel_could_change_the_answer(
    stack: Stack,
) -> None:
    """By default shared channels are condensed, so a composer link (no channel yet) is not answered."""
    composer = link_shared_event([LINK], source="composer")
    await stack.sender.event(composer)
    await settle(stack)
    assert stack.slack.calls_to("chat.unfurl") == []
    assert await link_posted(stack) is not None


async def test_composer_links_wait_too_once_any_channel_is_muted() -> None:
    async with await start_stack(shared_channels="full") as stack:
        await command(stack, "mute", channel="C0NOISY")
        await stack.sender.event(link_shared_event([LINK], source="composer"))
        await settle(stack)
        assert stack.slack.calls_to("chat.unfurl") == []


# ---- channels shared with other organisations ------------------------------------------------------


async def test_a_link_in_a_shared_channel_unfurls_condensed_without_number_quote_recording_or_logs(
    stack: Stack,
) -> None:
    blocks = await link_posted(stack, PARTNERS, shared=True)

    assert blocks == render_condensed(documented(), logs=False)
    assert action_ids(blocks) == []
    assert CALLER_TAIL not in as_text(blocks)
    assert stack.slack.calls_to("conversations.info") == []  # the event said where it was


async def test_a_mention_in_a_shared_channel_is_answered_condensed(stack: Stack) -> None:
    mention = app_mention_event(f"<@{BOT_USER_ID}> {samples.DOCUMENTED_ID}", channel=PARTNERS)

    await stack.sender.event(mention, is_ext_shared_channel=True)

    (reply,) = await stack.slack.wait_for_calls("chat.postMessage")
    assert reply.params["blocks"] == render_condensed(documented(), logs=False)
    assert CALLER_TAIL not in as_text(reply.params)


async def test_share_in_a_channel_slack_says_is_shared_posts_the_condensed_line_asking_slack_once(
    stack: Stack,
) -> None:
    stack.slack.add_channel(SandboxChannel(PARTNERS, name="acme-support", is_ext_shared=True))
    value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))

    for _ in range(2):
        url = stack.slack.new_response_url()
        await stack.sender.action(
            actions.SHARE_SUMMARY, value, response_url=url, is_ephemeral=True, channel_id=PARTNERS
        )
        await settle(stack)

    first, second = stack.slack.calls_to("chat.postMessage")
    footer = f"Shared by <@{DEFAULT_USER}>"
    assert first.params["blocks"] == render_condensed(documented(), logs=False, footer=footer)
    assert CALLER_TAIL not in as_text(first.params) and second.params["blocks"] == first.params["blocks"]
    (asked,) = stack.slack.calls_to("conversations.info")
    assert asked.params["channel"] == PARTNERS


@pytest.mark.parametrize(
    ("channel", "described"),
    [("C0PENDING", SandboxChannel("C0PENDING", is_pending_ext_shared=True)), ("G0SECRET", None), ("D0ALICEBOB", None)],
    ids=["invitation pending", "private channel without the bot", "DM"],
)
async def test_a_channel_slack_does_not_describe_or_about_to_be_shared_is_taken_as_shared(
    stack: Stack, channel: str, described: SandboxChannel | None
) -> None:
    if described is not None:
        stack.slack.add_channel(described)
    url = stack.slack.new_response_url()
    value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))

    await stack.sender.action(actions.SHARE_SUMMARY, value, response_url=url, is_ephemeral=True, channel_id=channel)
    await settle(stack)

    (post,) = stack.slack.calls_to("chat.postMessage")
    assert action_ids(post.params["blocks"]) == [] and CALLER_TAIL not in as_text(post.params)


async def test_buttons_left_in_a_shared_channel_give_neither_logs_nor_recording(stack: Stack) -> None:
    stack.slack.add_channel(SandboxChannel(PARTNERS, is_ext_shared=True))
    value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))
    answers = {}
    for action_id in (actions.SHOW_LOGS, actions.GET_RECORDING):
        url = stack.slack.new_response_url()
        await stack.sender.unfurl_action(action_id, value, response_url=url, channel_id=PARTNERS, app_unfurl_url=LINK)
        await settle(stack)
        answers[action_id] = private_answer(stack, url)["text"]

    assert answers == {actions.SHOW_LOGS: messages.LOGS_NOT_HERE, actions.GET_RECORDING: messages.RECORDING_NOT_HERE}
    assert stack.slack.calls_to("chat.postMessage") == []
    assert stack.hamsa.count() == 1  # the logs click looked the call up; the recording click did not


async def test_shared_channels_switched_off_get_no_preview_and_requests_there_a_notice() -> None:
    async with await start_stack(shared_channels="off") as stack:
        stack.slack.add_channel(SandboxChannel(PARTNERS, is_ext_shared=True))
        assert await link_posted(stack, PARTNERS, shared=True) is None
        assert await link_posted(stack) is not None  # the organisation's own channels are unchanged

        mention = app_mention_event(f"<@{BOT_USER_ID}> {samples.DOCUMENTED_ID}", channel=PARTNERS)
        await stack.sender.event(mention, is_ext_shared_channel=True)
        (reply,) = await stack.slack.wait_for_calls("chat.postMessage")
        assert reply.params["text"] == messages.NOT_SHOWN_HERE

        url = stack.slack.new_response_url()
        value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))
        await stack.sender.action(
            actions.SHARE_SUMMARY, value, response_url=url, is_ephemeral=True, channel_id=PARTNERS
        )
        await settle(stack)
        assert private_answer(stack, url)["text"] == messages.NOT_SHOWN_HERE
        assert len(stack.slack.calls_to("chat.postMessage")) == 1


async def test_several_links_in_a_shared_channel_get_a_condensed_line_each_without_logs(stack: Stack) -> None:
    event = link_shared_event([LINK, FAILED_LINK], channel=PARTNERS)

    await stack.sender.event(event, is_ext_shared_channel=True)

    (call,) = await stack.slack.wait_for_calls("chat.unfurl")
    for url, unfurl in call.params["unfurls"].items():
        assert action_ids(unfurl["blocks"]) == [], url
    assert "4567" not in as_text(call.params)  # the failed call's caller, +971501234567
