"""Conversation references: bare IDs and dashboard links become a validated, lower-case UUID; nothing else does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.hamsa.errors import HamsaError, InvalidConversationId
from bot.listeners.payload import message_text
from bot.refs import (
    MAX_REF_LENGTH,
    conversation_id_from_url,
    find_conversation_refs,
    linked_and_bare_refs,
    normalize_conversation_id,
    parse_conversation_ref,
)
from bot.settings import DEFAULT_LINK_DOMAINS

DOMAINS = DEFAULT_LINK_DOMAINS
ID = "849e77c6-5cb3-479a-a985-7fab630e2c78"
OTHER_ID = "5b0d3c2e-9f41-4a7b-8c6d-2e1f0a9b8c7d"
THIRD_ID = "a7e4f210-3c5b-4d89-b1a6-0f2e9d8c7b6a"
AGENT_ID = "d949f13f-40d2-4e48-ac86-b66633070603"
DASHBOARD = "https://dashboard.tryhamsa.com"


# ---- bare IDs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [ID, ID.upper(), f"  {ID}\n", "849E77C6-5cb3-479A-a985-7FAB630E2C78"])
def test_bare_id_is_normalised_to_lower_case(typed: str) -> None:
    assert parse_conversation_ref(typed, DOMAINS) == ID
    assert normalize_conversation_id(typed) == ID


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "hello",
        ID[:-1],
        ID + "0",
        ID.replace("-", ""),
        "{" + ID + "}",
        f"{ID}/logs",
        f"../{ID}",
        "849e77c6-5cb3-479a-a985-7fab630e2c7g",
        f"{ID} {OTHER_ID}",
        "\uff18\uff14\uff19e77c6-5cb3-479a-a985-7fab630e2c78",  # full-width digits are not ASCII hex
    ],
)
def test_junk_is_not_a_reference(typed: str) -> None:
    assert parse_conversation_ref(typed, DOMAINS) is None


@pytest.mark.parametrize("value", ["", "not-a-uuid", f"{ID}/../admin", f"{ID}?x=1", f"{ID}%2F", None, 42])
def test_normalize_rejects_anything_but_a_uuid_with_a_typed_error(value: object) -> None:
    with pytest.raises(InvalidConversationId) as raised:
        normalize_conversation_id(value)  # type: ignore[arg-type]

    assert isinstance(raised.value, HamsaError)
    assert isinstance(raised.value, ValueError)


# ---- links -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        f"{DASHBOARD}/call-history/{ID}",
        f"{DASHBOARD}/call-history/{ID.upper()}",
        f"{DASHBOARD}/call-history?conversationId={ID}",
        f"{DASHBOARD}/call-history?conversationId={ID.upper()}&tab=logs",
        f"{DASHBOARD}/anything?page=2&conversation_id={ID}",
        f"{DASHBOARD}/#/calls/{ID}",
        f"{DASHBOARD}/#/call-history?conversationId={ID}",
        f"{DASHBOARD}/agents/{AGENT_ID}/call-history?conversationId={ID}",
        f"{DASHBOARD}/agents/{AGENT_ID}/calls/{ID}",
        f"{DASHBOARD}/agents/{AGENT_ID}/calls/{ID}/",
        "https://DASHBOARD.TryHamsa.com/calls/" + ID,
        "https://dashboard.tryhamsa.com./calls/" + ID,
        f"https://dashboard.tryhamsa.com:443/calls/{ID}",
        f"https://eu.dashboard.tryhamsa.com/calls/{ID}",
    ],
)
def test_dashboard_link_yields_the_conversation_id(link: str) -> None:
    assert parse_conversation_ref(link, DOMAINS) == ID
    assert conversation_id_from_url(link, DOMAINS) == ID


@pytest.mark.parametrize(
    "pasted",
    [
        f"<{DASHBOARD}/call-history?conversationId={ID}|the failed call>",
        f"<{DASHBOARD}/call-history/{ID}>",
        f"  <{DASHBOARD}/call-history/{ID}|{DASHBOARD}/call-history/{ID}>  ",
    ],
)
def test_slack_wrapped_link_yields_the_conversation_id(pasted: str) -> None:
    assert parse_conversation_ref(pasted, DOMAINS) == ID


@pytest.mark.parametrize(
    "link",
    [
        f"https://evil.example.com/call-history/{ID}",
        f"https://dashboard.tryhamsa.com.evil.example.com/calls/{ID}",
        f"https://notdashboard.tryhamsa.com/calls/{ID}",
        f"https://tryhamsa.com/calls/{ID}",
        f"https://dashboard.tryhamsa.com@evil.example.com/calls/{ID}",
        f"https://evil.example.com/?next={DASHBOARD}/calls/{ID}",
        f"<https://evil.example.com/go|{DASHBOARD}/calls/{ID}>",
        f"<https://evil.example.com/calls/{ID}|{ID}>",
    ],
)
def test_links_to_other_domains_are_rejected(link: str) -> None:
    assert parse_conversation_ref(link, DOMAINS) is None


@pytest.mark.parametrize(
    "link",
    [
        f"http://dashboard.tryhamsa.com/calls/{ID}",
        f"<http://dashboard.tryhamsa.com/calls/{ID}|call>",
        f"ftp://dashboard.tryhamsa.com/calls/{ID}",
        f"javascript:{ID}",
        f"<mailto:ops@tryhamsa.com|{ID}>",
    ],
)
def test_links_that_are_not_https_are_rejected(link: str) -> None:
    assert parse_conversation_ref(link, DOMAINS) is None


@pytest.mark.parametrize(
    "link",
    [
        f"{DASHBOARD}/call-history",
        f"{DASHBOARD}/calls/{ID[:-2]}",
        f"{DASHBOARD}/calls/{ID}x",
        f"{DASHBOARD}/call-history?conversationId=latest",
        "https://[::1/calls",
        "https://",
    ],
)
def test_dashboard_links_without_a_conversation_id_are_rejected(link: str) -> None:
    assert parse_conversation_ref(link, DOMAINS) is None


def test_an_encoded_newline_after_the_id_is_not_part_of_the_id() -> None:
    link = f"{DASHBOARD}/calls?conversationId={ID}%0A"

    assert parse_conversation_ref(link, DOMAINS) == ID
    assert find_conversation_refs(link, DOMAINS) == [ID]


def test_configured_domains_replace_the_default() -> None:
    link = f"https://calls.example.org/c/{ID}"

    assert parse_conversation_ref(link, ("calls.example.org",)) == ID
    assert parse_conversation_ref(f"{DASHBOARD}/c/{ID}", ("calls.example.org",)) is None
    assert parse_conversation_ref(link, ()) is None


def test_very_long_input_is_rejected_without_scanning_it() -> None:
    padded_link = f"{DASHBOARD}/calls/{ID}?pad=" + "a" * MAX_REF_LENGTH

    assert parse_conversation_ref(padded_link, DOMAINS) is None
    assert conversation_id_from_url(padded_link, DOMAINS) is None
    assert parse_conversation_ref("x" * 1_000_000, DOMAINS) is None


# ---- references inside a message ---------------------------------------------------------------


def test_mention_text_yields_dashboard_links_and_bare_ids_in_order() -> None:
    text = (
        f"<@U012AB3CD> can you look at <{DASHBOARD}/calls/{ID}|this call> "
        f"and {OTHER_ID.upper()}? Also {DASHBOARD}/call-history?conversationId={THIRD_ID}"
    )

    assert find_conversation_refs(text, DOMAINS) == [ID, THIRD_ID, OTHER_ID]


def test_links_and_bare_ids_are_told_apart() -> None:
    text = f"<@U012AB3CD> <{DASHBOARD}/calls/{ID}|this call>, {OTHER_ID} and again {ID}, {DASHBOARD}/calls/{ID}"

    assert linked_and_bare_refs(text, DOMAINS) == ([ID], [OTHER_ID, ID])


def test_message_text_reads_text_blocks_and_attachments_but_not_button_values() -> None:
    message = {
        "text": "fallback",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "in a section"}},
            {"type": "actions", "elements": [{"type": "button", "value": OTHER_ID, "url": "https://x.example/"}]},
        ],
        "attachments": [{"from_url": f"{DASHBOARD}/calls/{ID}", "title": "a title", "id": 1}],
        "metadata": {"event_payload": {"text": THIRD_ID}},
    }

    assert message_text(message).splitlines() == [
        "fallback",
        "in a section",
        "https://x.example/",
        f"{DASHBOARD}/calls/{ID}",
        "a title",
    ]


def test_message_text_stays_bounded_on_hostile_payloads() -> None:
    deep: object = {"text": ID}
    for _ in range(10_000):
        deep = {"blocks": [deep]}
    wide = {"text": "t" * 1_000_000, "blocks": [{"text": ID}] * 100_000}

    assert message_text({"blocks": [deep]}) == ""
    assert len(message_text(wide)) <= 200_000
    assert message_text(["not", "a", "message"]) == message_text({"blocks": "odd"}) == ""


def test_uuids_inside_other_sites_links_are_ignored() -> None:
    text = (
        f"<@U012AB3CD> the bug is <https://github.com/acme/bot/issues/{ID}|here>, "
        f"see https://sentry.example.com/events/{OTHER_ID} and <https://jira.example.com/browse?id={THIRD_ID}>"
    )

    assert find_conversation_refs(text, DOMAINS) == []


def test_http_dashboard_links_in_a_message_are_ignored() -> None:
    assert find_conversation_refs(f"see http://dashboard.tryhamsa.com/calls/{ID}", DOMAINS) == []


def test_repeated_references_are_listed_once_and_capped() -> None:
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(8)]
    text = f"{ID} <{DASHBOARD}/calls/{ID}> {ID.upper()} " + " ".join(ids)

    assert find_conversation_refs(text, DOMAINS) == [ID, *ids[:4]]
    assert find_conversation_refs(text, DOMAINS, limit=2) == [ID, ids[0]]


def test_ids_glued_to_other_text_are_not_references() -> None:
    assert find_conversation_refs(f"order-{ID} {ID}x ref{ID}", DOMAINS) == []


def test_a_stray_angle_bracket_does_not_swallow_the_next_link() -> None:
    text = f"<https://example.com/a<{DASHBOARD}/calls/{ID}|call>"

    assert find_conversation_refs(text, DOMAINS) == [ID]


@pytest.mark.parametrize(
    "hostile",
    [
        "<https://" * 5000,
        "<https://a|" * 4000,
        "https://a" * 5000,
        ("a" * 7 + "-") * 5000,
        ID * 1000,
    ],
)
def test_long_hostile_messages_find_the_real_reference(hostile: str) -> None:
    # Slack allows messages of 40,000 characters; patterns that backtrack on such input stall the app.
    text = hostile + f" <{DASHBOARD}/calls/{OTHER_ID}|call>"

    assert find_conversation_refs(text, DOMAINS) == [OTHER_ID]


def test_empty_message_has_no_references() -> None:
    assert find_conversation_refs("", DOMAINS) == []


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from([*"<>|:/.?=&#@ \n-_hHtTpPsS09afAF", "%0A", ID, ID.upper(), DASHBOARD, "conversationId"]))
)
def test_any_text_gives_only_lower_case_uuids(pieces: list[str]) -> None:
    text = "".join(pieces)
    single = parse_conversation_ref(text, DOMAINS)
    found = find_conversation_refs(text, DOMAINS)

    for conversation_id in [*found, *([single] if single else [])]:
        assert normalize_conversation_id(conversation_id) == conversation_id
