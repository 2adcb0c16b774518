"""Requests that are not Slack's, or that the app has no use for: refused or quietly ignored, never a 500.

None of them may reach Hamsa or Slack, and the raw body (which Bolt logs when a signature fails,
response URLs included) must not end up in the app's log.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest

from bot import actions
from bot.actions import ButtonValue
from bot.observability import REDACTED, SecretFilter
from bot.sandbox import samples
from bot.sandbox.slack_requests import (
    FORM,
    JSON,
    TEAM_ID,
    app_rate_limited,
    block_actions,
    event_callback,
    link_shared_event,
    message_shortcut,
    sign,
    slash_command,
)
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY, SIGNING_SECRET, Stack

# Put in every body: if it shows up in a log line, the raw body was logged.
MARKER = "raw-body-marker-5f1c9e"
DOCUMENTED_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"

# Header values are bytes where a test sends what no HTTP client would encode from text.
Request = tuple[bytes, dict[str, str | bytes]]


def signed(
    body: str, content_type: str = FORM, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> Request:
    return body.encode(), {"Content-Type": content_type, **sign(secret, body, timestamp)}


def command_body(stack: Stack, conversation_id: str = samples.DOCUMENTED_ID) -> str:
    """A /hamsa command that would look up a real conversation if it were accepted."""
    return slash_command(conversation_id, response_url=stack.slack.new_response_url(), channel_name=MARKER)[0]


def rate_limited_notice_body(minute: int = 1518467820, team_id: str = TEAM_ID) -> str:
    notice = json.loads(app_rate_limited(minute, team_id=team_id)[0])
    return json.dumps({**notice, "token": MARKER})


def link_event_body() -> str:
    """A link_shared event that would be unfurled if it were accepted."""
    return event_callback(link_shared_event([DOCUMENTED_LINK], channel=MARKER))[0]


# ---- refused --------------------------------------------------------------------------------


def wrong_signature(stack: Stack) -> Request:
    return signed(command_body(stack), secret="not-the-signing-secret")


def garbled_signature(stack: Stack) -> Request:
    body, headers = signed(command_body(stack))
    return body, {**headers, "X-Slack-Signature": "v0=not-even-hex"}


def timestamp_10_minutes_old(stack: Stack) -> Request:
    return signed(command_body(stack), timestamp=int(time.time()) - 600)


def timestamp_10_minutes_ahead(stack: Stack) -> Request:
    return signed(command_body(stack), timestamp=int(time.time()) + 600)


def timestamp_not_a_number(stack: Stack) -> Request:
    body, headers = signed(command_body(stack))
    return body, {**headers, "X-Slack-Request-Timestamp": "yesterday"}


def timestamp_in_superscript_digits(stack: Stack) -> Request:
    """``"²".isdigit()`` is true, yet ``int("²")`` fails: Bolt's signature check would crash on it."""
    body, headers = signed(command_body(stack))
    return body, {**headers, "X-Slack-Request-Timestamp": "²".encode()}


def rate_limited_notice_unsigned(_: Stack) -> Request:
    return signed(rate_limited_notice_body(), JSON, secret="not-the-signing-secret")


def replay_as_captured(_: Stack) -> Request:
    """A genuine, correctly signed delivery, captured and sent again six minutes later."""
    return signed(link_event_body(), JSON, timestamp=int(time.time()) - 360)


def replay_with_a_fresh_timestamp(_: Stack) -> Request:
    """The captured signature paired with a current timestamp: the signature covers the timestamp."""
    body, headers = signed(link_event_body(), JSON, timestamp=int(time.time()) - 360)
    return body, {**headers, "X-Slack-Request-Timestamp": str(int(time.time()))}


def tampered_body(stack: Stack) -> Request:
    _, headers = signed(command_body(stack, samples.DOCUMENTED_ID))
    return command_body(stack, samples.FAILED_ID).encode(), headers


def without(*names: str) -> Callable[[Stack], Request]:
    def build(stack: Stack) -> Request:
        body, headers = signed(command_body(stack))
        return body, {name: value for name, value in headers.items() if name not in names}

    build.__name__ = "missing " + " and ".join(names)
    return build


def body_over_1_mb(stack: Stack) -> Request:
    return signed(command_body(stack) + "&padding=" + "x" * (1024 * 1024))


def not_utf8(_: Stack) -> Request:
    body = b"\xff\xfe" + MARKER.encode()
    return body, {"Content-Type": FORM, **sign(SIGNING_SECRET, body.decode("latin-1"))}


def malformed_json(_: Stack) -> Request:
    return signed('{"type": "event_callback", "event": {"type": "link_shared", "channel": "' + MARKER, JSON)


def malformed_form_payload(_: Stack) -> Request:
    return signed("payload=%7B%22type%22%3A%22block_actions%22%2C" + MARKER, FORM)


def json_array(_: Stack) -> Request:
    return signed(json.dumps([MARKER]), JSON)


def json_null_payload(_: Stack) -> Request:
    return signed("payload=null&" + MARKER + "=1", FORM)


def json_object_of_the_wrong_shape(_: Stack) -> Request:
    return signed(json.dumps({"type": "block_actions", "user": MARKER, "channel": 7}), JSON)


def event_that_is_not_an_object(_: Stack) -> Request:
    return signed(json.dumps({"type": "event_callback", "event": MARKER, "event_id": "Ev0MALFORMED"}), JSON)


def event_type_that_is_not_text(_: Stack) -> Request:
    return signed(json.dumps({"type": "event_callback", "event": {"type": 5, "text": MARKER}}), JSON)


def interaction_without_actions(_: Stack) -> Request:
    return signed("payload=" + quote(json.dumps({"type": "block_actions", "actions": [], "user": MARKER})))


def action_id_that_is_not_text(_: Stack) -> Request:
    payload = {"type": "block_actions", "actions": [{"action_id": 5, "value": MARKER}]}
    return signed("payload=" + quote(json.dumps(payload)))


def json_nested_100k_deep(_: Stack) -> Request:
    return signed("[" * 100_000 + json.dumps(MARKER) + "]" * 100_000, JSON)


def unknown_command(stack: Stack) -> Request:
    body = slash_command("help", response_url=stack.slack.new_response_url(), command="/other", channel_name=MARKER)
    return signed(body[0])


def unknown_shortcut(stack: Stack) -> Request:
    message = {"text": f"{samples.DOCUMENTED_ID} {MARKER}"}
    return signed(message_shortcut("someone_elses_shortcut", message, response_url=stack.slack.new_response_url())[0])


REFUSED = [
    pytest.param(wrong_signature, 401, id="wrong-signature"),
    pytest.param(garbled_signature, 401, id="garbled-signature"),
    pytest.param(timestamp_10_minutes_old, 401, id="timestamp-10-minutes-old"),
    pytest.param(timestamp_10_minutes_ahead, 401, id="timestamp-10-minutes-ahead"),
    pytest.param(timestamp_not_a_number, 401, id="timestamp-not-a-number"),
    pytest.param(timestamp_in_superscript_digits, 401, id="timestamp-superscript-digit"),
    pytest.param(rate_limited_notice_unsigned, 401, id="app-rate-limited-unsigned"),
    pytest.param(replay_as_captured, 401, id="replay-as-captured"),
    pytest.param(replay_with_a_fresh_timestamp, 401, id="replay-with-fresh-timestamp"),
    pytest.param(tampered_body, 401, id="tampered-body"),
    pytest.param(without("X-Slack-Signature"), 401, id="missing-signature"),
    pytest.param(without("X-Slack-Request-Timestamp"), 401, id="missing-timestamp"),
    pytest.param(without("X-Slack-Signature", "X-Slack-Request-Timestamp"), 401, id="missing-both-headers"),
    pytest.param(body_over_1_mb, 413, id="body-over-1-mb"),
    pytest.param(not_utf8, 400, id="body-not-utf8"),
    pytest.param(malformed_json, 400, id="malformed-json"),
    pytest.param(malformed_form_payload, 400, id="malformed-form-payload"),
    pytest.param(json_array, 400, id="json-array"),
    pytest.param(json_null_payload, 400, id="json-null-payload"),
    pytest.param(json_object_of_the_wrong_shape, 400, id="json-wrong-shape"),
    pytest.param(json_nested_100k_deep, 400, id="json-nested-100k-deep"),
    # Signed, yet shaped as Slack never sends: Bolt itself would crash on these (a 500).
    pytest.param(event_that_is_not_an_object, 400, id="event-not-an-object"),
    pytest.param(event_type_that_is_not_text, 400, id="event-type-not-text"),
    pytest.param(interaction_without_actions, 400, id="interaction-without-actions"),
    pytest.param(action_id_that_is_not_text, 400, id="action-id-not-text"),
]


# ---- quietly ignored ------------------------------------------------------------------------


def unknown_event_type(_: Stack) -> Request:
    event = {"type": "reaction_added", "user": "U0ALICE", "reaction": MARKER, "event_ts": "1700000000.000100"}
    return signed(event_callback(event)[0], JSON)


def rate_limited_notice(_: Stack) -> Request:
    return signed(rate_limited_notice_body(), JSON)


def unknown_action_id(stack: Stack) -> Request:
    return signed(block_actions("someone_elses_button", MARKER, response_url=stack.slack.new_response_url())[0])


def forged_button_value(stack: Stack) -> Request:
    forged = json.dumps({"id": f"../../{MARKER}"})
    return signed(block_actions(actions.SHOW_LOGS, forged, response_url=stack.slack.new_response_url())[0])


def logs_page_out_of_range(stack: Stack) -> Request:
    value = actions.encode(ButtonValue(samples.DOCUMENTED_ID, page=10**9))
    body = block_actions(actions.LOGS_PAGE, value, response_url=stack.slack.new_response_url(), block_id=MARKER)
    return signed(body[0])


def recording_link_click(stack: Stack) -> Request:
    body = block_actions(actions.OPEN_RECORDING, "", response_url=stack.slack.new_response_url(), block_id=MARKER)
    return signed(body[0])


IGNORED = [
    pytest.param(unknown_event_type, id="unknown-event-type"),
    pytest.param(unknown_command, id="unknown-command"),
    pytest.param(unknown_shortcut, id="unknown-shortcut"),
    pytest.param(rate_limited_notice, id="app-rate-limited"),
    pytest.param(unknown_action_id, id="unknown-action-id"),
    pytest.param(forged_button_value, id="forged-button-value"),
    pytest.param(logs_page_out_of_range, id="logs-page-out-of-range"),
    pytest.param(recording_link_click, id="recording-link-click"),
]


@pytest.fixture
def filtered_caplog(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog behind the app's SecretFilter, as the production log handler is.

    Requested before ``stack``: Bolt fixes its loggers' levels when the app is built.
    """
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(SecretFilter([SIGNING_SECRET, BOT_TOKEN, HAMSA_KEY]))
    return caplog


async def post(stack: Stack, request: Request) -> httpx.Response:
    body, headers = request
    async with httpx.AsyncClient() as client:
        return await client.post(f"{stack.server.url}/slack/events", content=body, headers=headers)


async def assert_went_nowhere(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    await stack.services.background.drain(5)
    assert stack.hamsa.count() == 0
    assert [call.method for call in stack.slack.calls if call.method != "auth.test"] == []
    assert stack.slack.responses == [] and stack.slack.rejected_responses == []
    assert MARKER not in caplog.text
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(("build", "status"), REFUSED)
async def test_request_is_refused_without_reaching_hamsa_or_slack(
    filtered_caplog: pytest.LogCaptureFixture, stack: Stack, build: Callable[[Stack], Request], status: int
) -> None:
    response = await post(stack, build(stack))

    assert response.status_code == status
    await assert_went_nowhere(stack, filtered_caplog)


@pytest.mark.parametrize("build", IGNORED)
async def test_request_the_app_has_no_use_for_is_acknowledged_quietly(
    filtered_caplog: pytest.LogCaptureFixture, stack: Stack, build: Callable[[Stack], Request]
) -> None:
    response = await post(stack, build(stack))

    assert response.status_code == 200 and response.content == b""
    await assert_went_nowhere(stack, filtered_caplog)


async def test_body_of_a_request_with_a_bad_signature_is_not_logged(
    production_logging: io.StringIO, stack: Stack
) -> None:
    response_url = stack.slack.new_response_url()
    body = slash_command(samples.DOCUMENTED_ID, response_url=response_url, channel_name=MARKER)[0]

    response = await post(stack, signed(body, secret="not-the-signing-secret"))

    assert response.status_code == 401
    log = production_logging.getvalue()
    assert "Invalid request signature detected (body not logged)" in log
    assert "status=401" in log  # the request's own log line is still there
    assert MARKER not in log and response_url not in log and REDACTED not in log


async def test_app_rate_limited_is_warned_once_per_workspace_and_minute(
    caplog: pytest.LogCaptureFixture, stack: Stack
) -> None:
    caplog.set_level(logging.INFO)
    minute = 1518467820
    # Slack delivers the notice again when it is not acknowledged; a later minute, or another
    # workspace, is news.
    notices = [(minute, TEAM_ID), (minute, TEAM_ID), (minute, TEAM_ID), (minute + 60, TEAM_ID), (minute, "T0OTHER")]

    for notice_minute, team_id in notices:
        response = await post(stack, signed(rate_limited_notice_body(notice_minute, team_id), JSON))
        assert (response.status_code, response.content) == (200, b"")

    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 3, warnings
    for (notice_minute, team_id), warning in zip([notices[0], *notices[3:]], warnings, strict=True):
        assert "app_rate_limited" in warning
        assert f"team={team_id} minute_rate_limited={notice_minute}" in warning
    kinds = [r.getMessage() for r in caplog.records if r.name == "bot.requests"]
    assert len(kinds) == len(notices) and all("kind=app_rate_limited" in line for line in kinds)
    await assert_went_nowhere(stack, caplog)
