"""What a workspace decided, in words: App Home's Settings, ``/hamsa settings`` and the mute notices.

Pure: a :class:`~bot.policy.Policy` (and what is known of one channel) in, blocks out. Everyone sees every
setting and its value; the people who manage the app also get a control beside each one, and every
change they make is checked again when it arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.policy import (
    FULL_CALLER_NUMBER,
    QUOTES,
    RECORDING_IN_CHANNELS,
    SHARED_CHANNELS,
    SWITCHES,
    Policy,
)
from bot.render.summary import slack_date
from bot.render.text import code

# action_id of a switch's select in App Home: this prefix, then the switch's key (bot/policy.py).
SWITCH_ACTION = "hamsa_setting:"
EDIT_LINK_DOMAINS = "hamsa_edit_link_domains"
SETTINGS_HEADER = "Settings"
EDIT_LABEL = "Edit"

# Each switch: its name, and each option's label (≤ 75 characters, a select's limit) and what it means.
SWITCH_WORDS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    SHARED_CHANNELS: (
        "Channels shared with other organisations",
        {
            "off": ("Nothing", "No previews or summaries there; `/hamsa` still answers privately."),
            "condensed": (
                "Condensed preview",
                "One line: title, status, duration, channel and start time. No caller number, quote, "
                "recording or logs.",
            ),
            "full": ("Full preview", "The same as in this organisation's own channels."),
        },
    ),
    FULL_CALLER_NUMBER: (
        "Caller numbers in channels",
        {
            "masked": ("Last four digits", "Every phone number a channel sees shows only its last four digits."),
            "full": ("In full", "Channels see phone numbers in full."),
        },
    ),
    QUOTES: (
        "Quotes from the transcript in channels",
        {
            "on": ("On", "Summaries may quote the caller, and *Show logs* posts the transcript in the thread."),
            "off": ("Off", "No quotes in channels; *Show logs* shows the transcript to whoever pressed it."),
        },
    ),
    RECORDING_IN_CHANNELS: (
        "Recording button in channels",
        {
            "on": ("On", "*Play recording* sends the recording's link to whoever presses it, privately."),
            "off": ("Off", "No *Play recording* in channels; `/hamsa` still shows it privately."),
        },
    ),
}
LINKS_LABEL = "Conversation links"
LINKS_ADDED = "This workspace added {hosts}; the others are the app's own."
LINKS_NONE_ADDED = "The app's own hosts; this workspace added none."
MUTED_LABEL = "Channels with link previews muted"
NONE_MUTED = "None."
MAX_MUTED_SHOWN = 30
PER_CHANNEL = (
    "*In a channel*, `/hamsa mute` stops link previews there (anyone may; the channel is told who did), "
    "`/hamsa unmute` brings them back, and `/hamsa settings` shows that channel's state."
)

# /hamsa settings, mute and unmute.
CHANNEL_HEADING = "*Hamsa in this channel*"
PREVIEWS_ON = ":loud_sound: Link previews are on. `/hamsa mute` stops them (anyone here may)."
PREVIEWS_MUTED = ":mute: Link previews are muted (by <@{user}>, {when}). `/hamsa unmute` brings them back."
CHANNEL_SHARED = ":link: This channel is shared with other organisations, so it gets: {what}"
CHANNEL_UNKNOWN = (
    ":grey_question: Slack doesn't tell the app whether this conversation is shared with other organisations "
    "(the app is not in it), so it is taken as shared and gets: {what}"
)
CHANNEL_OWN = ":house: This channel is not shared with other organisations."
WORKSPACE_HEADING = "*This workspace's settings* ({managers} change them in the app's *Home* tab)"
MUTED_NOTICE = ":mute: <@{user}> muted Hamsa link previews in this channel. `/hamsa unmute` turns them back on."
UNMUTED_NOTICE = ":loud_sound: <@{user}> turned Hamsa link previews back on in this channel."
ALREADY_MUTED = "Hamsa link previews are already muted in this channel. `/hamsa unmute` turns them back on."
NOT_MUTED = "Hamsa link previews are already on in this channel."
NO_CHANNEL = "This works in a channel, a DM or a group DM: type it there."


_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,30}$")


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """What ``/hamsa settings`` says about one channel."""

    muted_by: str | None  # who muted it; None when previews are on
    muted_at: datetime | None
    shared: bool | None  # None: Slack did not say


def option_label(key: str, option: str) -> str:
    return SWITCH_WORDS[key][1][option][0]


def switch_line(policy: Policy, key: str) -> str:
    """``*Name*: value``, then what the value means."""
    name, options = SWITCH_WORDS[key]
    label, meaning = options[policy.switch(key)]
    return f"*{name}*: {label}\n{meaning}"


def links_line(policy: Policy) -> str:
    """The hosts whose links count as conversations, and which of them the workspace added."""
    hosts = ", ".join(code(d, 100) for d in policy.link_domains)
    added = ", ".join(code(d, 100) for d in policy.extra_link_domains)
    return f"*{LINKS_LABEL}*: {hosts}\n" + (LINKS_ADDED.format(hosts=added) if added else LINKS_NONE_ADDED)


def muted_line(policy: Policy) -> str:
    """The channels where someone ran ``/hamsa mute``, as links Slack names (IDs that are not one, as code)."""
    channels = sorted(policy.muted_channels)
    if not channels:
        return f"*{MUTED_LABEL}*: {NONE_MUTED}"
    shown = [f"<#{c}>" if _CHANNEL_ID.match(c) else code(c, 40) for c in channels[:MAX_MUTED_SHOWN]]
    more = f" and {len(channels) - MAX_MUTED_SHOWN} more" if len(channels) > MAX_MUTED_SHOWN else ""
    return f"*{MUTED_LABEL}*: " + ", ".join(shown) + more


def _select(key: str, chosen: str) -> dict[str, Any]:
    def option(value: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": option_label(key, value)}, "value": value}

    return {
        "type": "static_select",
        "action_id": SWITCH_ACTION + key,
        "options": [option(value) for value in SWITCHES[key]],
        "initial_option": option(chosen),
    }


def settings_blocks(policy: Policy, *, can_manage: bool) -> list[dict[str, Any]]:
    """App Home's Settings: every setting and its value; a control beside each for those who manage."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": SETTINGS_HEADER}}]
    for key in SWITCHES:
        section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": switch_line(policy, key)}}
        if can_manage:
            section["accessory"] = _select(key, policy.switch(key))
        blocks.append(section)
    links: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": links_line(policy)}}
    if can_manage:
        links["accessory"] = {
            "type": "button",
            "text": {"type": "plain_text", "text": EDIT_LABEL},
            "action_id": EDIT_LINK_DOMAINS,
            "value": EDIT_LINK_DOMAINS,
        }
    blocks.append(links)
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": muted_line(policy)}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": PER_CHANNEL}]})
    return blocks


def channel_settings(policy: Policy, channel: ChannelFacts, *, managers: str) -> dict[str, Any]:
    """``/hamsa settings``: this channel's state, then the workspace's settings (a private message)."""
    if channel.muted_by:
        when = slack_date(channel.muted_at) if channel.muted_at else "earlier"
        previews = PREVIEWS_MUTED.format(user=channel.muted_by, when=when)
    else:
        previews = PREVIEWS_ON
    label, meaning = SWITCH_WORDS[SHARED_CHANNELS][1][policy.switch(SHARED_CHANNELS)]
    what = f"*{label}*. {meaning}"
    if channel.shared is None:
        sharing = CHANNEL_UNKNOWN.format(what=what)
    else:
        sharing = CHANNEL_SHARED.format(what=what) if channel.shared else CHANNEL_OWN
    here = "\n".join((CHANNEL_HEADING, previews, sharing))
    settings = [WORKSPACE_HEADING.format(managers=managers)]
    for key in SWITCHES:
        switch_name, _ = SWITCH_WORDS[key]
        settings.append(f"• {switch_name}: {option_label(key, policy.switch(key))}")
    settings.append(f"• {LINKS_LABEL}: " + ", ".join(code(d, 100) for d in policy.link_domains))
    text = f"{here}\n\n" + "\n".join(settings)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": here}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(settings)}},
    ]
    return {"text": text, "blocks": blocks}
