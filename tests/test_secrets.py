"""No secret in any log line or in anything sent to Slack, on the happy paths and on every error path."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest

from bot import actions
from bot.actions import ButtonValue
from bot.messages import NOT_FOUND, UNAUTHORIZED, UNAVAILABLE
from bot.observability import configure_logging
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import FakeHamsa, Fault
from bot.sandbox.fake_slack import FakeSlack, SlackFault
from bot.sandbox.slack_requests import BOT_USER_ID, app_mention_event, link_shared_event, new_ts, sign, slash_command
from bot.sandbox.stack import Stack, start_stack

# Each ends in a unique tail, so a secret cut short in a log line is caught too.
HAMSA_API_KEY = "hk_SECRET_hamsa_3c9d1e7f5a2b"
BOT_TOKEN = "xoxb-SECRET-bot-8e4f2a6c1d9b"
SIGNING_SECRET = "SECRET-signing-5b7d9f1a3c2e"
SECRETS = (HAMSA_API_KEY, BOT_TOKEN, SIGNING_SECRET)
NOISY_LOGGERS = ("httpx", "httpcore", "aiohttp.access", "slack_sdk")

DOCUMENTED_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text or secret[-12:] in text]


class Logs:
    def __init__(self) -> None:
        self.production = io.StringIO()  # what the app writes, through its SecretFilter
        self.raw = io.StringIO()  # every record as logged, before any filter, libraries at DEBUG


@pytest.fixture
def logs() -> Iterator[Logs]:
    """The app's production logging at DEBUG, plus a raw copy of every record, restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    captured = Logs()
    configure_logging("DEBUG", SECRETS, captured.production)
    raw = logging.StreamHandler(captured.raw)
    raw.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root.handlers.insert(0, raw)  # first, so it formats each record before the SecretFilter rewrites it
    yield captured
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)


async def ask(stack: Stack, text: str) -> str:
    response_url = stack.slack.new_response_url()
    await stack.sender.command(text, response_url)
    (reply,) = await stack.slack.wait_for_responses(1, url=response_url)
    return str(reply.body["text"])


async def exercise_every_path(stack: Stack) -> None:
    """Commands that succeed and fail, an unfurl, buttons, a mention, a shortcut, Slack refusing things."""
    assert (await ask(stack, samples.DOCUMENTED_ID)).startswith(samples.documented_example()["title"])
    assert (await ask(stack, str(uuid.uuid4()))).startswith(NOT_FOUND)
    stack.hamsa.inject(Fault.status(401), conversation_id=samples.FAILED_ID)
    assert (await ask(stack, samples.FAILED_ID)).startswith(UNAUTHORIZED)
    stack.hamsa.inject(Fault.status(500), times=-1, conversation_id=samples.IN_PROGRESS_ID)
    assert (await ask(stack, samples.IN_PROGRESS_ID)).startswith(UNAVAILABLE)
    await ask(stack, "help")
    await ask(stack, "not a conversation")

    stack.slack.inject("chat.unfurl", SlackFault.rate_limited(retry_after=0))
    await stack.sender.event(link_shared_event([DOCUMENTED_LINK]))
    await stack.slack.wait_for_calls("chat.unfurl", 2)

    message_ts = new_ts()
    value = actions.encode(ButtonValue(samples.DOCUMENTED_ID))
    channel_url = stack.slack.new_response_url()
    await stack.sender.action(actions.SHOW_LOGS, value, response_url=channel_url, message_ts=message_ts)
    await stack.slack.wait_for_calls("chat.postMessage", 1)
    stack.slack.non_member_channels.add("C0PRIVATE")
    private_url = stack.slack.new_response_url()
    await stack.sender.action(actions.SHOW_LOGS, value, response_url=private_url, channel_id="C0PRIVATE")
    await stack.slack.wait_for_responses(1, url=private_url)

    await stack.sender.event(app_mention_event(f"<@{BOT_USER_ID}> {samples.DOCUMENTED_ID}"))
    await stack.slack.wait_for_calls("chat.postMessage", 3)
    shortcut_url = stack.slack.new_response_url()
    message = {"text": f"see {DOCUMENTED_LINK}", "ts": new_ts()}
    await stack.sender.shortcut(actions.PREVIEW_SHORTCUT, message, response_url=shortcut_url)
    await stack.slack.wait_for_responses(1, url=shortcut_url)

    expired = stack.slack.new_response_url()
    stack.slack.expire(expired)
    await stack.sender.command(samples.DOCUMENTED_ID, expired)

    forged_body = slash_command(samples.DOCUMENTED_ID, response_url=stack.slack.new_response_url())[0]
    forged = sign("a-guess-at-the-secret", forged_body)
    refused = await stack.sender.post(forged_body, "application/x-www-form-urlencoded", headers_override=forged)
    assert refused.status_code == 401

    await stack.services.background.drain(5)


async def test_no_secret_reaches_the_logs_or_slack(logs: Logs) -> None:
    hamsa = FakeHamsa(api_key=HAMSA_API_KEY)
    slack = FakeSlack(bot_token=BOT_TOKEN)
    async with await start_stack(
        hamsa=hamsa, slack=slack, signing_secret=SIGNING_SECRET, hamsa_lookup_budget=0.6, hamsa_retry_after_cap=0.1
    ) as stack:
        for name in NOISY_LOGGERS:  # the raw copy also sees what libraries log at DEBUG
            logging.getLogger(name).setLevel(logging.DEBUG)
        await exercise_every_path(stack)

    production, raw = logs.production.getvalue(), logs.raw.getvalue()
    # The paths really ran and were logged (one line per request), errors included.
    assert production.count("slack request kind=") == 13
    for line in ("error=HamsaUnauthorized", "error=HamsaUnavailable", "Invalid request signature", "expired_url"):
        assert line in production
    assert leaks(production) == []
    assert leaks(raw) == []

    sent_to_slack = [json.dumps(call.params) for call in slack.calls]
    sent_to_slack += [json.dumps(response.body) for response in slack.responses]
    sent_to_slack += [url + text for url, text in slack.rejected_responses]
    assert len(slack.calls_to("chat.postMessage")) >= 3 and slack.calls_to("chat.unfurl")
    assert leaks("\n".join(sent_to_slack)) == []
    # The key goes to Hamsa in its header, and nowhere else.
    assert {request.headers["Authorization"] for request in hamsa.requests} == {f"Token {HAMSA_API_KEY}"}
    assert leaks("\n".join(request.path for request in hamsa.requests)) == []
