"""The settings renderers and the renderers' policy options: pure, within Slack's limits, escaped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot import actions
from bot.hamsa.models import Conversation
from bot.policy import SHARED_CHANNELS, SWITCHES, Policy
from bot.render.modals import link_domains_modal
from bot.render.settings import (
    CHANNEL_OWN,
    EDIT_LINK_DOMAINS,
    PREVIEWS_ON,
    SWITCH_ACTION,
    SWITCH_WORDS,
    ChannelFacts,
    channel_settings,
    settings_blocks,
)
from bot.render.summary import render_condensed, render_summary
from bot.sandbox import samples
from bot.sandbox.blockkit import block_kit_problems, mrkdwn_texts, unescaped_markup, view_problems

POLICY = Policy(
    link_domains=("dashboard.tryhamsa.com", "calls.example.com"),
    extra_link_domains=("calls.example.com",),
    show_full_caller_number=False,
)


def home(blocks: list[dict]) -> dict:
    return {"type": "home", "blocks": blocks}


def accessories(blocks: list[dict]) -> list[str]:
    return [b["accessory"]["action_id"] for b in blocks if "accessory" in b]


def test_managers_get_a_select_for_each_switch_set_to_its_value_and_everyone_the_words() -> None:
    managed = settings_blocks(POLICY, can_manage=True)
    seen = settings_blocks(POLICY, can_manage=False)

    assert view_problems(home(managed)) == [] and view_problems(home(seen)) == []
    assert accessories(managed) == [SWITCH_ACTION + key for key in SWITCHES] + [EDIT_LINK_DOMAINS]
    assert accessories(seen) == []
    assert mrkdwn_texts(seen) == mrkdwn_texts(managed)
    select = next(
        b["accessory"] for b in managed if b.get("accessory", {}).get("action_id", "").endswith(SHARED_CHANNELS)
    )
    assert select["initial_option"]["value"] == "condensed"
    assert "This workspace added `calls.example.com`" in "\n".join(mrkdwn_texts(seen))


def test_muted_channels_are_listed_by_name_and_anything_odd_is_not_a_link() -> None:
    muted = Policy(
        link_domains=(),
        extra_link_domains=(),
        show_full_caller_number=False,
        muted_channels=frozenset({"C0NOISY", "G0TRIAGE", "C0X|<!channel>"}),
    )
    texts = "\n".join(mrkdwn_texts(settings_blocks(muted, can_manage=False)))
    assert "<#C0NOISY>, `C0X|&lt;!channel&gt;`, <#G0TRIAGE>" in texts
    many = Policy((), (), False, muted_channels=frozenset(f"C0{i:03d}" for i in range(40)))
    assert "and 10 more" in "\n".join(mrkdwn_texts(settings_blocks(many, can_manage=False)))
    assert "None." in "\n".join(mrkdwn_texts(settings_blocks(POLICY, can_manage=False)))


def test_every_option_label_fits_a_select() -> None:
    for key, (name, options) in SWITCH_WORDS.items():
        assert set(options) == set(SWITCHES[key]), name
        assert all(len(label) <= 75 for label, _ in options.values())


def test_hostile_hosts_are_escaped() -> None:
    hostile = Policy(link_domains=("<!channel>.example.com",), extra_link_domains=(), show_full_caller_number=False)
    texts = mrkdwn_texts(settings_blocks(hostile, can_manage=False))
    texts += mrkdwn_texts(channel_settings(hostile, ChannelFacts(None, None, False), managers="admins")["blocks"])
    assert all(found != "<!channel>" for t in texts for found in unescaped_markup(t))
    assert any("&lt;!channel&gt;.example.com" in t for t in texts)


@pytest.mark.parametrize(
    ("facts", "says"),
    [
        (ChannelFacts(None, None, False), [PREVIEWS_ON, CHANNEL_OWN]),
        (ChannelFacts("U0BOB", datetime(2026, 12, 1, tzinfo=UTC), True), ["muted (by <@U0BOB>", "is shared"]),
        (ChannelFacts(None, None, None), ["taken as shared", "*Condensed preview*"]),
    ],
)
def test_channel_settings_say_the_channels_state_then_the_workspaces(facts: ChannelFacts, says: list[str]) -> None:
    message = channel_settings(POLICY, facts, managers="<@U0INSTALLER> and admins")

    assert block_kit_problems(message["blocks"]) == []
    for words in says:
        assert words in message["text"]
    assert "<@U0INSTALLER> and admins change them" in message["text"]


def test_the_link_domains_modal_holds_the_current_hosts() -> None:
    modal = link_domains_modal(("calls.example.com", "ops.example.org"))
    assert view_problems(modal) == []
    assert modal["blocks"][0]["element"]["initial_value"] == "calls.example.com, ops.example.org"


def test_without_the_recording_option_a_channel_summary_has_no_play_button_and_a_private_one_keeps_its_link() -> None:
    conversation = Conversation.model_validate(samples.documented_example())

    def buttons(**options: bool) -> list[str]:
        blocks = render_summary(conversation, **options)
        return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]

    assert buttons() == [actions.GET_RECORDING, actions.SHOW_LOGS]
    assert buttons(recording=False) == [actions.SHOW_LOGS]
    assert buttons(private=True, recording=False) == [actions.OPEN_RECORDING, actions.SHOW_LOGS]


def test_the_condensed_line_without_logs_has_no_button_and_may_say_who_shared_it() -> None:
    conversation = Conversation.model_validate(samples.failed_call())

    blocks = render_condensed(conversation, logs=False, footer="Shared by <@U0ALICE>")

    assert "accessory" not in blocks[0]
    assert blocks[1]["elements"][0]["text"].endswith(" · Shared by <@U0ALICE>")
    assert "4567" not in json.dumps(blocks)
    assert block_kit_problems(blocks) == []
