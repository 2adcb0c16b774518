"""Hamsa misbehaving: every fault ends in a clear notice with a reference code, never a traceback.

Each case goes through the real HTTP path (a signed ``/hamsa`` command or a ``link_shared`` event),
lets the fake Hamsa fail in one way, checks what the person sees, and then checks that the very next
request succeeds once Hamsa is healthy again (errors are never cached).
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.hamsa.models import Conversation
from bot.messages import BAD_RESPONSE, RATE_LIMITED, UNAVAILABLE
from bot.render.summary import summary_text
from bot.sandbox import samples
from bot.sandbox.fake_hamsa import Fault
from bot.sandbox.slack_requests import link_shared_event
from bot.sandbox.stack import Stack, start_stack

# Short budgets keep the slow faults (no answer, trickle) to about half a second each.
FAST_HAMSA = {
    "hamsa_lookup_budget": 0.6,
    "hamsa_read_timeout": 0.3,
    "hamsa_connect_timeout": 0.3,
    "hamsa_retry_after_cap": 0.1,
}
REFERENCE = re.compile(r"\(ref `(H-[0-9A-F]{6})`\)$")
DOCUMENTED_LINK = f"https://dashboard.tryhamsa.com/conversations/{samples.DOCUMENTED_ID}"
EXPECTED_SUMMARY = summary_text(Conversation.model_validate(samples.documented_example()))

RETRIED = "retried"  # worth another attempt: the app tries again within the budget
NOT_RETRIED = "not retried"  # an answer that will not improve by asking again
TIMED = "timed"  # how many attempts fit depends on the clock; only the outcome is checked

HAMSA_FAULTS = [
    pytest.param(Fault.never_answer(), UNAVAILABLE, TIMED, id="no-answer"),
    pytest.param(Fault.trickle(chunk_delay=0.05), UNAVAILABLE, TIMED, id="trickle"),
    pytest.param(Fault.status(500), UNAVAILABLE, RETRIED, id="500"),
    pytest.param(Fault.html(502), UNAVAILABLE, RETRIED, id="502-html-page"),
    pytest.param(Fault.status(503, headers={"Retry-After": "1"}), UNAVAILABLE, RETRIED, id="503-retry-after"),
    pytest.param(Fault.rate_limited(retry_after=1), RATE_LIMITED, RETRIED, id="429-retry-after"),
    pytest.param(Fault.malformed_json(), BAD_RESPONSE, NOT_RETRIED, id="malformed-json"),
    pytest.param(Fault.wrong_shape(), BAD_RESPONSE, NOT_RETRIED, id="wrong-shape"),
    pytest.param(Fault.oversized(), BAD_RESPONSE, NOT_RETRIED, id="10mb-chunked"),
    pytest.param(Fault.oversized(declare_length=True), BAD_RESPONSE, NOT_RETRIED, id="10mb-content-length"),
    pytest.param(Fault.reset_midway(), UNAVAILABLE, RETRIED, id="reset-midway"),
    pytest.param(Fault.drop(), UNAVAILABLE, RETRIED, id="connection-dropped"),
]


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with await start_stack(**FAST_HAMSA) as running:
        yield running


async def ask(stack: Stack, text: str) -> dict[str, Any]:
    """Run ``/hamsa text`` and return the one reply posted to its response_url."""
    response_url = stack.slack.new_response_url()
    response = await stack.sender.command(text, response_url)
    assert response.status_code == 200
    (reply,) = await stack.slack.wait_for_responses(1, url=response_url)
    return reply.body


def assert_notice(reply: dict[str, Any], notice: str) -> str:
    """The reply is exactly ``notice`` plus a reference code, as text and as a block; returns the code."""
    assert reply["text"].startswith(notice)
    match = REFERENCE.search(reply["text"])
    assert match, reply["text"]
    assert [block["text"]["text"] for block in reply["blocks"]] == [reply["text"]]
    return match.group(1)


def assert_logged_quietly(caplog: pytest.LogCaptureFixture, ref: str) -> None:
    """The failure is one warning line carrying the reference; no traceback anywhere."""
    failures = [r for r in caplog.records if r.name == "bot.lookup" and f"ref={ref}" in r.getMessage()]
    assert [r.levelno for r in failures] == [logging.WARNING]
    assert [r for r in caplog.records if r.exc_info] == []
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(("fault", "notice", "attempts"), HAMSA_FAULTS)
async def test_hamsa_fault_gives_a_clear_notice_then_recovers(
    stack: Stack, caplog: pytest.LogCaptureFixture, fault: Fault, notice: str, attempts: str
) -> None:
    caplog.set_level(logging.INFO)
    stack.hamsa.inject(fault, times=-1)

    ref = assert_notice(await ask(stack, samples.DOCUMENTED_ID), notice)

    assert_logged_quietly(caplog, ref)
    if attempts == NOT_RETRIED:
        assert stack.hamsa.count() == 1
    elif attempts == RETRIED:
        assert stack.hamsa.count() > 1

    stack.hamsa.clear_faults()
    assert (await ask(stack, samples.DOCUMENTED_ID))["text"] == EXPECTED_SUMMARY


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault.html(502), id="502-html-page"),
        pytest.param(Fault.trickle(chunk_delay=0.05), id="trickle"),
        pytest.param(Fault.malformed_json(), id="malformed-json"),
    ],
)
async def test_unfurl_is_skipped_while_hamsa_fails_and_arrives_once_it_recovers(
    stack: Stack, caplog: pytest.LogCaptureFixture, fault: Fault
) -> None:
    caplog.set_level(logging.INFO)
    stack.hamsa.inject(fault, times=-1)

    assert (await stack.sender.event(link_shared_event([DOCUMENTED_LINK]))).status_code == 200
    await stack.services.background.drain(5)

    # An unfurl is seen by the whole channel: a failed lookup leaves the plain link, nothing more.
    assert stack.slack.calls_to("chat.unfurl") == []
    failures = [r for r in caplog.records if r.name == "bot.lookup"]
    assert len(failures) == 1 and failures[0].levelno == logging.WARNING
    assert re.search(r"ref=H-[0-9A-F]{6}", failures[0].getMessage())
    assert [r for r in caplog.records if r.exc_info] == [] and "Traceback" not in caplog.text

    stack.hamsa.clear_faults()
    await stack.sender.event(link_shared_event([DOCUMENTED_LINK]))
    (call,) = await stack.slack.wait_for_calls("chat.unfurl", 1)
    assert call.answer == {"ok": True}
    assert list(call.params["unfurls"]) == [DOCUMENTED_LINK]


async def test_connection_refused_gives_unavailable_then_recovers_when_hamsa_listens(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    # A bound socket that does not listen yet: connecting to its port is refused.
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    async with await start_stack(hamsa_api_url=f"http://127.0.0.1:{port}", **FAST_HAMSA) as stack:
        ref = assert_notice(await ask(stack, samples.DOCUMENTED_ID), UNAVAILABLE)
        assert_logged_quietly(caplog, ref)
        assert stack.hamsa.count() == 0

        # Hamsa comes back on that same port (forwarding to the fake, which holds the data).
        runner = await _listen_forwarding_to(closed, stack.hamsa.url)
        try:
            assert (await ask(stack, samples.DOCUMENTED_ID))["text"] == EXPECTED_SUMMARY
        finally:
            await runner.cleanup()
    assert stack.hamsa.count() == 1


async def _listen_forwarding_to(sock: socket.socket, upstream: str) -> web.AppRunner:
    async def forward(request: web.Request) -> web.Response:
        headers = {"Authorization": request.headers.get("Authorization", "")}
        async with httpx.AsyncClient() as client:
            answer = await client.get(upstream + request.path_qs, headers=headers)
        return web.Response(status=answer.status_code, body=answer.content, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner
