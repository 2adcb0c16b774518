"""No request, and no answer from Slack, can write a log line of its own.

Each carrier below puts ``FORGED`` (a newline, then what looks like a whole record) into a string
the app logs: a request's kind, an event ID, an error code from Slack. The app's own log set-up must
write it escaped, on the line it belongs to.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Awaitable, Callable

import httpx
import pytest

from bot.observability import CONTINUATION
from bot.sandbox import samples
from bot.sandbox.fake_slack import SlackFault
from bot.sandbox.slack_requests import JSON, link_shared_event, sign
from bot.sandbox.stack import SIGNING_SECRET, Stack

FORGED_TIME = "2026-01-01 00:00:00,000"
# A line break, a whole record, then a carriage return and a terminal's erase-line.
FORGED = f"\n{FORGED_TIME} INFO bot.requests slack request kind=FAKE ok=1\r\x1b[2K"
RECORD_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
DOCUMENTED_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"


async def post_json(stack: Stack, body: dict[str, object], secret: str = SIGNING_SECRET) -> httpx.Response:
    raw = json.dumps(body)
    headers = {"Content-Type": JSON, **sign(secret, raw)}
    async with httpx.AsyncClient() as client:
        return await client.post(f"{stack.server.url}/slack/events", content=raw.encode(), headers=headers)


async def unverified_kind(stack: Stack) -> None:
    assert (await post_json(stack, {"type": "x" + FORGED}, secret="not-the-signing-secret")).status_code == 401


async def verified_kind(stack: Stack) -> None:
    await post_json(stack, {"type": "x" + FORGED})


async def event_id_of_a_duplicate(stack: Stack) -> None:
    event = link_shared_event([DOCUMENTED_LINK])
    for _ in range(2):
        assert (await stack.sender.event(event, event_id="Ev0DUPLICATE" + FORGED)).status_code == 200


async def error_code_from_slack(stack: Stack) -> None:
    stack.slack.inject("chat.unfurl", SlackFault.error("invalid_blocks" + FORGED))
    assert (await stack.sender.event(link_shared_event([DOCUMENTED_LINK]))).status_code == 200
    await stack.slack.wait_for_calls("chat.unfurl")


Carrier = Callable[[Stack], Awaitable[None]]


@pytest.mark.parametrize(
    ("carrier", "logged"),
    [
        pytest.param(unverified_kind, False, id="kind-of-an-unverified-request"),
        pytest.param(verified_kind, True, id="kind-of-a-verified-request"),
        pytest.param(event_id_of_a_duplicate, True, id="event-id-of-a-duplicate"),
        pytest.param(error_code_from_slack, True, id="error-code-from-slack"),
    ],
)
async def test_nothing_from_outside_writes_a_log_line_of_its_own(
    production_logging: io.StringIO, stack: Stack, carrier: Carrier, logged: bool
) -> None:
    await carrier(stack)
    await stack.services.background.drain(5)

    log = production_logging.getvalue()
    lines = log.splitlines()
    assert [line for line in lines if line.startswith(FORGED_TIME)] == []
    assert [line for line in lines if not (RECORD_START.match(line) or line.startswith(CONTINUATION))] == []
    assert "\x1b" not in log and "\r" not in log
    # Escaped, it is still there to read, on the line of the record that carried it.
    assert (f"\\n{FORGED_TIME}" in log) is logged


async def test_an_unverified_request_is_logged_as_unverified_whatever_it_says_it_is(
    production_logging: io.StringIO, stack: Stack
) -> None:
    await post_json(stack, {"type": "event_callback", "event": {"type": "link_shared"}}, secret="wrong-secret")

    (line,) = [line for line in production_logging.getvalue().splitlines() if " bot.requests " in line]
    assert " kind=unverified " in line and "status=401" in line
