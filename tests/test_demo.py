"""`hamsa-bot demo` (what `make demo` runs): the real app end to end, offline, showing what Slack would show."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from bot.demo import run_demo
from bot.messages import NOT_FOUND
from bot.render.home import CONNECT_LABEL, CONNECTED, DISCONNECT_LABEL, NOT_CONNECTED
from bot.render.logs import NEWER
from bot.render.modals import TITLE
from bot.render.pages import ADD_TO_SLACK, INSTALL_HEADING, INSTALLED_HEADING
from bot.render.terminal import BUILDER_URL, mrkdwn_to_text
from bot.sandbox.fake_hamsa import FakeHamsa
from bot.sandbox.samples import DOCUMENTED_ID, documented_example
from bot.sandbox.stack import HAMSA_KEY

DOCUMENTED = documented_example()


async def test_demo_shows_the_documented_call_its_logs_and_a_link_preview(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_demo() == 0
    out = capsys.readouterr().out

    for shown in ("Customer Support Call", "Completed", "2m 05s", "Telephone", DOCUMENTED["mediaUrl"]):
        assert shown in out
    # The documented call's logs: its one entry, 15 seconds into the call.
    assert "Logs · Customer Support Call" in out
    assert "+00:15" in out
    # The pasted link, its logs in the thread, and the next page.
    assert "chat.unfurl" in out
    assert "Page 1 of" in out and "Page 2 of" in out
    assert NEWER in out
    # /hamsa recent, then View on a call that was cut short: a summary that says what happened.
    assert "/hamsa recent failed terminated 24h" in out
    assert "Recent calls · failed, terminated · the last 24 hours" in out
    assert "Why it ended: The caller hung up while being transferred" in out
    assert "💬 Caller: “Call me back on 050 987 6543, it's about my refund.”" in out
    assert "Callback number: +971509876543" in out
    assert out.count(BUILDER_URL) == 13
    assert "Done:" in out


async def test_demo_installs_the_app_in_a_workspace_and_connects_its_hamsa_account(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_demo() == 0
    out = capsys.readouterr().out
    installable = out[out.index("Installable by any workspace") :]

    steps = [
        INSTALL_HEADING,
        f"[{ADD_TO_SLACK} → http://127.0.0.1:",
        "[Allow → http://127.0.0.1:",
        INSTALLED_HEADING,
        mrkdwn_to_text(NOT_CONNECTED),
        f"[{CONNECT_LABEL}]",
        f"╭─ {TITLE} ",
        mrkdwn_to_text(CONNECTED),
        f"[{DISCONNECT_LABEL}]",
        "in Sandbox → Customer Support Call",
    ]
    positions = [installable.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), dict(zip(steps, positions, strict=True))
    home, modal = quote('{"type":"home"'), quote('{"type":"modal"')
    assert installable.count(BUILDER_URL + home) == 2 and installable.count(BUILDER_URL + modal) == 1


async def test_demo_is_quiet_by_default_and_logs_each_request_when_verbose(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_demo() == 0
    assert "slack request" not in capsys.readouterr().err

    assert await run_demo(verbose=True) == 0
    err = capsys.readouterr().err
    # five in the first part; the Home tab opened, Connect Hamsa clicked, its form submitted, and /hamsa
    assert err.count("slack request kind=") == 13
    assert "kind=command:/hamsa" in err and "kind=event:link_shared" in err and "kind=event:app_home_opened" in err


async def test_demo_puts_the_callers_logging_back() -> None:
    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    handlers, level = list(root.handlers), root.level
    httpx_logger.setLevel(logging.DEBUG)
    try:
        assert await run_demo(verbose=True) == 0

        assert root.handlers == handlers
        assert root.level == level
        assert httpx_logger.level == logging.DEBUG  # the demo quiets it while it runs
    finally:
        httpx_logger.setLevel(logging.NOTSET)


async def test_demo_fails_with_the_reason_when_a_step_shows_the_wrong_thing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty_hamsa = FakeHamsa(conversations={}, api_key=HAMSA_KEY)

    assert await run_demo(hamsa=empty_hamsa) == 1

    captured = capsys.readouterr()
    assert "Demo failed: the /hamsa answer has no show_logs button" in captured.err
    assert mrkdwn_to_text(NOT_FOUND) in captured.err
    assert "Done:" not in captured.out
    assert empty_hamsa.count(DOCUMENTED_ID) == 1
