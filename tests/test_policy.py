"""The policy: environment defaults, stored overrides read leniently, and what each place may show."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.policy import (
    FULL_CALLER_NUMBER,
    QUOTES,
    RECORDING_IN_CHANNELS,
    SHARED_CHANNELS,
    SWITCHES,
    Place,
    Policy,
    SharedChannels,
    Visibility,
    parse_switch,
)
from bot.settings import Settings


def settings(**values: Any) -> Settings:
    return Settings.model_construct(**values)


def test_the_environment_gives_the_defaults_of_a_new_workspace() -> None:
    env = settings(shared_channels="full", show_transcript_quotes=False, recording_in_channels=False)

    policy = Policy.of(env, None)

    assert policy.shared_channels is SharedChannels.FULL
    assert (policy.show_quotes, policy.recording_in_channels, policy.show_full_caller_number) == (False, False, False)
    assert Policy.of(settings(), None).shared_channels is SharedChannels.CONDENSED


def test_the_shared_channels_setting_is_read_in_any_case_and_refused_when_unknown() -> None:
    assert Settings(_env_file=None, shared_channels=" Full ").shared_channels == "full"
    with pytest.raises(ValidationError):
        Settings(_env_file=None, shared_channels="some")


def test_what_a_workspace_stored_overrides_the_defaults() -> None:
    stored = {SHARED_CHANNELS: "off", FULL_CALLER_NUMBER: True, QUOTES: False, RECORDING_IN_CHANNELS: False}

    policy = Policy.of(settings(), stored, frozenset({"C0NOISY"}))

    assert policy.shared_channels is SharedChannels.OFF
    assert (policy.show_full_caller_number, policy.show_quotes, policy.recording_in_channels) == (True, False, False)
    assert policy.is_muted("C0NOISY") and not policy.is_muted("C0OTHER") and not policy.is_muted(None)


def test_an_unreadable_stored_value_falls_back_to_its_default_alone() -> None:
    stored = {
        SHARED_CHANNELS: ["full"],
        FULL_CALLER_NUMBER: "yes",
        QUOTES: 0,
        RECORDING_IN_CHANNELS: None,
        "extra_link_domains": ["calls.example.com", "<!channel>", 7],
    }

    policy = Policy.of(settings(), stored)

    assert policy == Policy.of(settings(), {"extra_link_domains": ["calls.example.com"]})
    assert policy.shared_channels is SharedChannels.CONDENSED and policy.show_quotes


@pytest.mark.parametrize(("key", "option"), [(key, option) for key, options in SWITCHES.items() for option in options])
def test_each_option_stored_reads_back_as_chosen(key: str, option: str) -> None:
    assert Policy.of(settings(), {key: parse_switch(key, option)}).switch(key) == option


@pytest.mark.parametrize(("key", "option"), [(SHARED_CHANNELS, "all"), ("hamsa_api_key", "on"), (QUOTES, True)])
def test_anything_else_is_not_an_option(key: str, option: object) -> None:
    assert parse_switch(key, option) is None


CONDENSED = Visibility(shown=True, condensed=True, full_numbers=False, quotes=False, recording=False, logs=False)
CHANNEL = Visibility(shown=True, condensed=False, full_numbers=False, quotes=True, recording=True, logs=True)


@pytest.mark.parametrize(
    ("mode", "place", "expected"),
    [
        ("condensed", Place.SHARED, CONDENSED),
        ("condensed", Place.CHANNEL, CHANNEL),
        ("full", Place.SHARED, CHANNEL),
        ("off", Place.SHARED, Visibility(False, True, False, False, False, False)),
        ("off", Place.PRIVATE, Visibility(True, False, True, True, True, True)),
    ],
)
def test_what_each_place_may_show(mode: str, place: Place, expected: Visibility) -> None:
    assert Policy.of(settings(), {SHARED_CHANNELS: mode}).visibility(place) == expected


def test_the_personal_data_switches_apply_to_channels_and_never_to_private_answers() -> None:
    stored = {FULL_CALLER_NUMBER: True, QUOTES: False, RECORDING_IN_CHANNELS: False, SHARED_CHANNELS: "full"}
    policy = Policy.of(settings(), stored)

    for place in (Place.CHANNEL, Place.SHARED):
        seen = policy.visibility(place)
        assert (seen.full_numbers, seen.quotes, seen.recording) == (True, False, False)
    assert policy.visibility(Place.PRIVATE) == Visibility(True, False, True, True, True, True)


def test_composer_links_are_unfurled_only_where_no_channel_could_change_the_answer() -> None:
    assert Policy.of(settings(), {SHARED_CHANNELS: "full"}).channel_blind
    assert not Policy.of(settings(), {SHARED_CHANNELS: "full"}, frozenset({"C0NOISY"})).channel_blind
    assert not Policy.of(settings(), None).channel_blind
