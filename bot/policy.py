"""A workspace's policy: what its people see, and where, decided in one place.

The environment's settings are the defaults (and all there is in single-workspace mode until someone
changes a setting in App Home); what a workspace stored overrides them. Stored values are read
leniently: one unreadable value falls back to its default instead of failing every request.

Every message is shown in a :class:`Place` (one person, a channel of this organisation, or a channel
shared with other organisations); :meth:`Policy.visibility` says what a message may show there, and
the services hand that to the pure renderers as options. Listeners never decide it themselves.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.settings import Settings

MAX_EXTRA_DOMAINS = 10
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

# The keys of a workspace's stored settings (the ``workspace_settings`` JSON).
EXTRA_LINK_DOMAINS = "extra_link_domains"
SHARED_CHANNELS = "shared_channels"
FULL_CALLER_NUMBER = "show_full_caller_number"
QUOTES = "show_quotes"
RECORDING_IN_CHANNELS = "recording_in_channels"


class Place(StrEnum):
    """Who sees a message."""

    PRIVATE = "private"  # one person: /hamsa, the shortcut's preview, any ephemeral answer
    CHANNEL = "channel"  # a channel, DM or thread of this organisation
    SHARED = "shared"  # a channel shared with other organisations (Slack Connect)


class SharedChannels(StrEnum):
    """What channels shared with other organisations are shown."""

    OFF = "off"  # nothing: no previews, no summaries
    CONDENSED = "condensed"  # title, status and duration only
    FULL = "full"  # as in the organisation's own channels


# What App Home offers for each switch: the option's value → what is stored under the key.
SWITCHES: dict[str, dict[str, Any]] = {
    SHARED_CHANNELS: {mode.value: mode.value for mode in SharedChannels},
    FULL_CALLER_NUMBER: {"masked": False, "full": True},
    QUOTES: {"on": True, "off": False},
    RECORDING_IN_CHANNELS: {"on": True, "off": False},
}


def valid_host(value: str) -> bool:
    return bool(_HOST.match(value))


def parse_domains(raw: str) -> tuple[tuple[str, ...], list[str]]:
    """Host names typed by a person (comma or space separated): the valid ones, and what was not one."""
    parts = [part.strip().lower().rstrip(".") for part in re.split(r"[,\s]+", raw or "") if part.strip()]
    hosts = [p.removeprefix("https://").removeprefix("http://").split("/")[0] for p in parts]
    good = tuple(dict.fromkeys(h for h in hosts if valid_host(h)))
    bad = [p for p, h in zip(parts, hosts, strict=True) if not valid_host(h)]
    return good, bad


def parse_switch(key: str, option: object) -> Any | None:
    """What to store for the option ``option`` of the switch ``key``; None when it is not one of them."""
    options = SWITCHES.get(key)
    if options is None or not isinstance(option, str):
        return None
    return options.get(option)


@dataclass(frozen=True, slots=True)
class Visibility:
    """What a message may show in one place."""

    shown: bool  # anything at all
    condensed: bool  # one line: title, status, duration (no number, quote, recording or logs)
    full_numbers: bool  # phone numbers in full, else only their last four digits
    quotes: bool  # words from the transcript: the summary's quote, the transcript of logs posted there
    recording: bool  # the recording button
    logs: bool  # the logs button, and logs posted there


PRIVATELY = Visibility(shown=True, condensed=False, full_numbers=True, quotes=True, recording=True, logs=True)
NOTHING = Visibility(shown=False, condensed=True, full_numbers=False, quotes=False, recording=False, logs=False)
CONDENSED = Visibility(shown=True, condensed=True, full_numbers=False, quotes=False, recording=False, logs=False)


@dataclass(frozen=True, slots=True)
class Policy:
    link_domains: tuple[str, ...]
    extra_link_domains: tuple[str, ...]
    show_full_caller_number: bool
    shared_channels: SharedChannels = SharedChannels.CONDENSED
    show_quotes: bool = True
    recording_in_channels: bool = True
    muted_channels: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def defaults(cls, settings: Settings) -> Policy:
        return cls(
            link_domains=tuple(settings.hamsa_link_domains),
            extra_link_domains=(),
            show_full_caller_number=settings.show_full_caller_number,
            shared_channels=SharedChannels(settings.shared_channels),
            show_quotes=settings.show_transcript_quotes,
            recording_in_channels=settings.recording_in_channels,
        )

    @classmethod
    def of(cls, settings: Settings, stored: dict[str, Any] | None, muted: frozenset[str] = frozenset()) -> Policy:
        """The defaults, overridden by what the workspace stored; ``muted``: its muted channels."""
        policy = replace(cls.defaults(settings), muted_channels=muted)
        if not stored:
            return policy
        extra = stored.get(EXTRA_LINK_DOMAINS)
        if isinstance(extra, list):
            policy = policy.with_extra_domains(tuple(d for d in extra if isinstance(d, str) and valid_host(d)))
        mode = parse_switch(SHARED_CHANNELS, stored.get(SHARED_CHANNELS))

        def flag(key: str, default: bool) -> bool:
            value = stored.get(key)
            return value if isinstance(value, bool) else default

        return replace(
            policy,
            shared_channels=SharedChannels(mode) if mode is not None else policy.shared_channels,
            show_full_caller_number=flag(FULL_CALLER_NUMBER, policy.show_full_caller_number),
            show_quotes=flag(QUOTES, policy.show_quotes),
            recording_in_channels=flag(RECORDING_IN_CHANNELS, policy.recording_in_channels),
        )

    def with_extra_domains(self, extra: tuple[str, ...]) -> Policy:
        extra = extra[:MAX_EXTRA_DOMAINS]
        base = tuple(d for d in self.link_domains if d not in self.extra_link_domains)
        return replace(self, link_domains=tuple(dict.fromkeys(base + extra)), extra_link_domains=extra)

    def switch(self, key: str) -> str:
        """The option App Home shows as chosen for the switch ``key``."""
        stored = getattr(self, _FIELDS[key])
        return next(option for option, value in SWITCHES[key].items() if value == stored)

    def is_muted(self, channel: str | None) -> bool:
        """Whether someone ran ``/hamsa mute`` in ``channel``: its links are not unfurled."""
        return channel in self.muted_channels

    @property
    def channel_blind(self) -> bool:
        """Whether a link unfurls the same in every channel (no channel muted, shared ones shown in full).

        Links typed into the message composer arrive with no channel: they are unfurled only then.
        """
        return not self.muted_channels and self.shared_channels is SharedChannels.FULL

    def visibility(self, place: Place) -> Visibility:
        """What a message seen in ``place`` may show."""
        if place is Place.PRIVATE:
            return PRIVATELY
        if place is Place.SHARED and self.shared_channels is not SharedChannels.FULL:
            return NOTHING if self.shared_channels is SharedChannels.OFF else CONDENSED
        return _in_channels(self.show_full_caller_number, self.show_quotes, self.recording_in_channels)


@functools.cache
def _in_channels(full_numbers: bool, quotes: bool, recording: bool) -> Visibility:
    """The eight ways a channel may be shown, made once (this is asked on every unfurl)."""
    return Visibility(
        shown=True, condensed=False, full_numbers=full_numbers, quotes=quotes, recording=recording, logs=True
    )


# Each switch's stored key → the Policy field it sets.
_FIELDS = {
    SHARED_CHANNELS: "shared_channels",
    FULL_CALLER_NUMBER: "show_full_caller_number",
    QUOTES: "show_quotes",
    RECORDING_IN_CHANNELS: "recording_in_channels",
}
