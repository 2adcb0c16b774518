"""App Home's Settings, end to end over HTTP: everyone sees them, managers change them, forgeries change nothing.

Each change made by a manager (a select's ``block_actions``, the link domains modal's ``view_submission``)
takes effect on the next request on every path: unfurls, mentions, commands, shares, clicks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot import actions, messages
from bot.hamsa.models import Conversation
from bot.listeners.home import NOT_A_MANAGER
from bot.listeners.workspace_settings import TOO_MANY_DOMAINS
from bot.policy import FULL_CALLER_NUMBER, QUOTES, RECORDING_IN_CHANNELS, SHARED_CHANNELS, SWITCHES
from bot.render.modals import DOMAINS_BLOCK, FIELD, LINK_DOMAINS_VIEW, link_domains_modal
from bot.render.settings import EDIT_LINK_DOMAINS, SWITCH_ACTION, SWITCH_WORDS
from bot.render.summary import render_condensed, render_summary
from bot.sandbox import samples
from bot.sandbox.blockkit import view_problems
from bot.sandbox.fake_slack import SANDBOX_TEAM, SandboxChannel, SandboxTeam, SandboxUser
from bot.sandbox.slack_requests import (
    BOT_USER_ID,
    DEFAULT_CHANNEL,
    app_home_opened_event,
    app_mention_event,
    link_shared_event,
)
from bot.sandbox.stack import INSTALLER, Stack, start_stack
from bot.store.workspaces import WorkspaceKey

ADMIN = "U0ADMIN"
MALLORY = "U0MALLORY"
LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"
TEAM = WorkspaceKey(None, "T0SANDBOX")


@pytest.fixture
async def people(stack: Stack) -> AsyncIterator[Stack]:
    """The single-workspace app, with an admin (who may manage it) and someone who may not."""
    stack.slack.add_user(SandboxUser(ADMIN, "T0SANDBOX", name="ada", is_admin=True))
    stack.slack.add_user(SandboxUser(MALLORY, "T0SANDBOX", name="mallory"))
    yield stack


def documented() -> Conversation:
    return Conversation.model_validate(samples.documented_example())


async def settle(stack: Stack) -> None:
    await stack.services.background.drain(5)


async def home_of(stack: Stack, user: str, team: SandboxTeam = SANDBOX_TEAM) -> dict[str, Any]:
    """The Home tab the app publishes for ``user`` when they open it."""
    await stack.sender.event(app_home_opened_event(user), team=team)
    await settle(stack)
    published = [c for c in stack.slack.calls_to("views.publish") if c.params["user_id"] == user][-1]
    assert published.answer is not None and published.answer["ok"], published.answer
    view: dict[str, Any] = published.params["view"]
    return view


def controls(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """action_id → the select or button beside a setting (App Home's other sections have buttons too)."""
    accessories = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    return {
        a["action_id"]: a
        for a in accessories
        if a["action_id"].startswith(SWITCH_ACTION) or a["action_id"] == EDIT_LINK_DOMAINS
    }


def section_texts(view: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")


async def choose(stack: Stack, user: str, key: str, option: str, team: SandboxTeam = SANDBOX_TEAM) -> None:
    """``user`` picks ``option`` in the select of ``key``, in the Home tab the app published for ``admin``."""
    view = await home_of(stack, ADMIN if team == SANDBOX_TEAM else INSTALLER, team)
    select = controls(view)[SWITCH_ACTION + key]
    (picked,) = [o for o in select["options"] if o["value"] == option]
    await stack.sender.home_select(select["action_id"], picked, user_id=user, view=view, team=team)
    await settle(stack)


async def unfurl(stack: Stack, *, shared: bool = False, link: str = LINK) -> list[dict[str, Any]]:
    before = len(stack.slack.calls_to("chat.unfurl"))
    await stack.sender.event(link_shared_event([link]), is_ext_shared_channel=shared)
    await settle(stack)
    (made,) = stack.slack.calls_to("chat.unfurl")[before:]
    blocks: list[dict[str, Any]] = made.params["unfurls"][link]["blocks"]
    return blocks


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    found = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"]["action_id"] for b in blocks if "accessory" in b]


async def test_everyone_sees_every_setting_and_its_value_and_only_managers_get_controls(people: Stack) -> None:
    admin, everyone = await home_of(people, ADMIN), await home_of(people, "U0ALICE")

    assert view_problems(admin) == [] and view_problems(everyone) == []
    for name, _ in SWITCH_WORDS.values():
        assert f"*{name}*" in section_texts(everyone)
    defaults = {SHARED_CHANNELS: "condensed", FULL_CALLER_NUMBER: "masked", QUOTES: "on", RECORDING_IN_CHANNELS: "on"}
    for key, option in defaults.items():
        name, options = SWITCH_WORDS[key]
        assert f"*{name}*: {options[option][0]}" in section_texts(everyone)
        assert controls(admin)[SWITCH_ACTION + key]["initial_option"]["value"] == option
    assert "`dashboard.tryhamsa.com`" in section_texts(everyone)
    assert set(controls(admin)) == {SWITCH_ACTION + key for key in SWITCHES} | {EDIT_LINK_DOMAINS}
    assert controls(everyone) == {}


async def test_home_lists_the_channels_muted_with_the_command(people: Stack) -> None:
    await people.sender.command("mute", people.slack.new_response_url(), channel_id="C0NOISY")
    await settle(people)

    assert "*Channels with link previews muted*: <#C0NOISY>" in section_texts(await home_of(people, "U0ALICE"))


async def test_shared_channels_set_to_full_show_the_full_summary_from_the_next_link(
    people: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.workspaces")
    assert await unfurl(people, shared=True) == render_condensed(documented(), logs=False)

    await choose(people, ADMIN, SHARED_CHANNELS, "full")

    assert await unfurl(people, shared=True) == render_summary(documented())
    await people.sender.event(
        app_mention_event(f"<@{BOT_USER_ID}> {samples.DOCUMENTED_ID}", channel="C0PARTNERS"), is_ext_shared_channel=True
    )
    people.slack.add_channel(SandboxChannel("C0ACME", is_ext_shared=True))
    value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))
    url = people.slack.new_response_url()
    await people.sender.action(actions.SHARE_SUMMARY, value, response_url=url, is_ephemeral=True, channel_id="C0ACME")
    await settle(people)
    mention, share = people.slack.calls_to("chat.postMessage")
    assert mention.params["blocks"] == render_summary(documented())
    assert share.params["blocks"] == render_summary(documented(), footer="Shared by <@U0ALICE>")
    assert await people.services.store.workspaces.settings(TEAM) == {SHARED_CHANNELS: "full"}
    assert f"setting changed workspace=-/T0SANDBOX setting={SHARED_CHANNELS} value='full' by={ADMIN}" in caplog.text
    home = await home_of(people, "U0ALICE")
    assert "*Channels shared with other organisations*: Full preview" in section_texts(home)


async def test_caller_numbers_in_full_reach_unfurls_mentions_and_posted_logs(people: Stack) -> None:
    assert "+1234567890" not in json.dumps(await unfurl(people))

    await choose(people, ADMIN, FULL_CALLER_NUMBER, "full")

    assert "+1234567890" in json.dumps(await unfurl(people))
    await people.sender.event(app_mention_event(f"<@{BOT_USER_ID}> {samples.FAILED_ID}"))
    await settle(people)
    assert "+971501234567" in json.dumps(people.slack.calls_to("chat.postMessage")[-1].params["blocks"])
    await choose(people, ADMIN, FULL_CALLER_NUMBER, "masked")
    assert "+1234567890" not in json.dumps(await unfurl(people))


async def test_with_the_recording_button_off_channels_get_none_and_old_buttons_a_notice(people: Stack) -> None:
    assert actions.GET_RECORDING in action_ids(await unfurl(people))

    await choose(people, ADMIN, RECORDING_IN_CHANNELS, "off")

    assert action_ids(await unfurl(people)) == [actions.SHOW_LOGS]
    url = people.slack.new_response_url()
    value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))
    await people.sender.unfurl_action(actions.GET_RECORDING, value, response_url=url, app_unfurl_url=LINK)
    await settle(people)
    (answer,) = people.slack.responses_to(url)
    assert answer.body["text"] == messages.RECORDING_NOT_HERE
    # privately, the recording is still there
    private = people.slack.new_response_url()
    await people.sender.command(samples.DOCUMENTED_ID, private)
    (summary,) = await people.slack.wait_for_responses(1, url=private)
    assert actions.OPEN_RECORDING in action_ids(summary.body["blocks"])


async def test_with_quotes_off_logs_pressed_in_a_channel_go_to_the_clicker_alone(people: Stack) -> None:
    await choose(people, ADMIN, QUOTES, "off")
    value = actions.encode(actions.ButtonValue(samples.DOCUMENTED_ID))
    url = people.slack.new_response_url()

    await people.sender.unfurl_action(actions.SHOW_LOGS, value, response_url=url, app_unfurl_url=LINK)
    await settle(people)

    assert people.slack.calls_to("chat.postMessage") == []
    (answer,) = people.slack.responses_to(url)
    assert answer.body["response_type"] == "ephemeral"
    assert answer.body["blocks"][0]["elements"][0]["text"] == messages.TRANSCRIPT_KEPT_PRIVATE


async def test_link_domains_edited_in_settings_count_from_the_next_link(people: Stack) -> None:
    view = await home_of(people, ADMIN)
    await people.sender.home_action(EDIT_LINK_DOMAINS, user_id=ADMIN, view=view)
    (opened,) = await people.slack.wait_for_calls("views.open")
    assert opened.params["view"]["callback_id"] == LINK_DOMAINS_VIEW

    values = {
        DOMAINS_BLOCK: {FIELD: {"type": "plain_text_input", "value": "https://Calls.Example.com/, ops.example.org"}}
    }
    answer = await people.sender.submit_view(opened.params["view"], values, user_id=ADMIN)
    assert (answer.status_code, answer.text) == (200, "")
    await settle(people)

    assert await people.services.store.workspaces.settings(TEAM) == {
        "extra_link_domains": ["calls.example.com", "ops.example.org"]
    }
    other = f"https://calls.example.com/c/{samples.DOCUMENTED_ID}"
    assert await unfurl(people, link=other) == render_summary(documented())
    assert "`calls.example.com`" in section_texts(await home_of(people, "U0ALICE"))


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("calls.example.com, not a host!", "These are not host names: not, a, host!"),
        (", ".join(f"h{i}.example.com" for i in range(11)), TOO_MANY_DOMAINS),
    ],
)
async def test_link_domains_are_checked_before_anything_is_stored(people: Stack, typed: str, error: str) -> None:
    values = {DOMAINS_BLOCK: {FIELD: {"type": "plain_text_input", "value": typed}}}

    answer = await people.sender.submit_view(link_domains_modal(()), values, user_id=ADMIN)

    assert answer.json() == {"response_action": "errors", "errors": {DOMAINS_BLOCK: error}}
    assert await people.services.store.workspaces.settings(TEAM) is None


async def test_a_forged_change_by_someone_who_does_not_manage_the_app_is_refused_and_changes_nothing(
    people: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    await choose(people, MALLORY, SHARED_CHANNELS, "full")
    await choose(people, MALLORY, FULL_CALLER_NUMBER, "full")
    home = await home_of(people, ADMIN)
    await people.sender.home_action(EDIT_LINK_DOMAINS, user_id=MALLORY, view=home)
    values = {DOMAINS_BLOCK: {FIELD: {"type": "plain_text_input", "value": "evil.example.com"}}}
    forged = await people.sender.submit_view(link_domains_modal(()), values, user_id=MALLORY)
    await settle(people)

    assert forged.json()["response_action"] == "errors"
    assert forged.json()["errors"][DOMAINS_BLOCK].startswith(NOT_A_MANAGER.split("{", 1)[0])
    assert people.slack.calls_to("views.open") == []
    assert await people.services.store.workspaces.settings(TEAM) is None
    assert caplog.text.count("refused:") == 4
    assert await unfurl(people, shared=True) == render_condensed(documented(), logs=False)
    assert "+1234567890" not in json.dumps(await unfurl(people))


async def test_an_option_no_select_offers_is_ignored(people: Stack) -> None:
    view = await home_of(people, ADMIN)
    forged = {"text": {"type": "plain_text", "text": "Everything"}, "value": "everything"}

    await people.sender.home_select(SWITCH_ACTION + SHARED_CHANNELS, forged, user_id=ADMIN, view=view)
    await people.sender.home_select(SWITCH_ACTION + "hamsa_api_key", forged, user_id=ADMIN, view=view)
    await settle(people)

    assert await people.services.store.workspaces.settings(TEAM) is None


async def test_each_workspace_has_its_own_settings_in_multi_workspace_mode() -> None:
    other = SandboxTeam(team_id="T0OTHER", name="Other Co", bot_user_id="U0OTHERBOT", bot_id="B0OTHERBOT")
    async with await start_stack(multi_workspace=True) as stack:
        for team in (SANDBOX_TEAM, other):
            await stack.install(team)
            await stack.connect_hamsa(team)
        await settle(stack)

        await choose(stack, INSTALLER, SHARED_CHANNELS, "off", team=other)
        await stack.sender.event(link_shared_event([LINK], channel="C0PARTNERS"), is_ext_shared_channel=True)
        await stack.sender.event(
            link_shared_event([LINK], channel="C0PARTNERS"), is_ext_shared_channel=True, team=other
        )
        await settle(stack)

        (made,) = stack.slack.calls_to("chat.unfurl")
        assert made.team == SANDBOX_TEAM.key
        assert await stack.services.store.workspaces.settings(WorkspaceKey(None, "T0OTHER")) == {SHARED_CHANNELS: "off"}
        assert await stack.services.store.workspaces.settings(TEAM) is None


async def test_uninstalling_forgets_the_muted_channels_too() -> None:
    async with await start_stack(multi_workspace=True) as stack:
        await stack.install()
        await stack.connect_hamsa()
        url = stack.slack.new_response_url()
        await stack.sender.command("mute", url, user_id=INSTALLER)
        await settle(stack)
        assert await stack.services.store.workspaces.muted_channels(TEAM) == {DEFAULT_CHANNEL}

        await stack.sender.event({"type": "app_uninstalled", "event_ts": "1700000000.000100"})
        await settle(stack)

        assert await stack.services.store.workspaces.muted_channels(TEAM) == frozenset()
