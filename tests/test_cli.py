"""The `hamsa-bot` command as an admin or support engineer runs it: check, serve and preview."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.check import OK, PROBLEM, run_check
from bot.cli import main
from bot.demo import logging_state_kept
from bot.messages import NOT_A_REFERENCE, SLACK_TOKEN_REFUSED
from bot.render.summary import PLAY_RECORDING
from bot.render.terminal import BUILDER_URL, mrkdwn_to_text
from bot.sandbox.blockkit import block_kit_problems
from bot.sandbox.fake_hamsa import FakeHamsa, GatedHamsa
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.lifecycle import free_port
from bot.sandbox.samples import DOCUMENTED_ID, SAMPLES, documented_example
from bot.sandbox.slack_requests import SlackSender
from bot.sandbox.stack import BOT_TOKEN, HAMSA_KEY, SIGNING_SECRET, sandbox_settings
from bot.server import HEALTH_PATH
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTED = documented_example()
WRONG_TOKEN = "xoxb-not-the-right-token-4711"
WRONG_KEY = "not-the-right-hamsa-key-4711"
REQUEST_LINE = re.compile(r"slack request kind=command:/hamsa ref=H-[0-9A-F]{6} status=200 latency_ms=\d+\.\d")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token=BOT_TOKEN) as server:
        yield server


@pytest.fixture
async def hamsa() -> AsyncIterator[FakeHamsa]:
    async with FakeHamsa(api_key=HAMSA_KEY) as server:
        yield server


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only the defaults: no setting from the environment, and no .env file in the working directory."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """The command configures logging; put it back for the tests that follow."""
    with logging_state_kept():
        yield


def command_env(**settings: str) -> dict[str, str]:
    """A clean environment: the package importable from the checkout, and only ``settings``."""
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8", **settings}


# ---- check --------------------------------------------------------------------------------------


async def test_check_names_every_wrong_setting_and_fails(
    slack: FakeSlack, hamsa: FakeHamsa, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.model_construct(
        slack_bot_token=SecretStr(WRONG_TOKEN),
        slack_api_url=slack.api_url,
        hamsa_api_key=SecretStr(WRONG_KEY),
        hamsa_api_url=hamsa.url,
        hamsa_link_domains=("not a host",),
    )
    lines: list[str] = []

    assert await run_check(settings, out=lines) == 1

    problems = [line for line in lines if line.startswith(PROBLEM)]
    named = ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "HAMSA_API_KEY", "HAMSA_LINK_DOMAINS"]
    assert [next(p for p in problems if name in p) for name in named] == problems
    assert "invalid_auth" in problems[0]  # Slack's own answer, so the admin can look it up
    assert "not a host" in problems[3]
    printed = capsys.readouterr()
    assert f"{len(named)} problem(s) found." in printed.out
    for secret in (WRONG_TOKEN, WRONG_KEY):
        assert secret not in printed.out + printed.err


async def test_check_passes_with_right_settings_and_prints_no_secret(
    slack: FakeSlack, hamsa: FakeHamsa, capsys: pytest.CaptureFixture[str]
) -> None:
    lines: list[str] = []

    assert await run_check(sandbox_settings(hamsa, slack), out=lines) == 0

    assert lines and all(line.startswith(OK) for line in lines)
    assert [call.method for call in slack.calls] == ["auth.test"]
    printed = capsys.readouterr()
    assert "All settings look right." in printed.out
    for secret in (BOT_TOKEN, SIGNING_SECRET, HAMSA_KEY):
        assert secret not in printed.out + printed.err


# ---- serve --------------------------------------------------------------------------------------


def test_serve_without_the_required_settings_exits_2_naming_them(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=command_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    for name in ("SLACK_BOT_TOKEN", "HAMSA_API_KEY", "SLACK_SIGNING_SECRET"):
        assert name in result.stderr


class ServerLog:
    """The served app's stderr, read line by line as it comes."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream
        self.lines: list[str] = []

    async def wait_for(self, text: str, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while not any(text in line for line in self.lines):
                raw = await self.stream.readline()
                if not raw:
                    raise AssertionError(f"the app exited before logging {text!r}:\n{''.join(self.lines)}")
                self.lines.append(raw.decode())

    async def read_rest(self) -> str:
        self.lines.append((await self.stream.read()).decode())
        return "".join(self.lines)


async def until_refused(url: str, attempts: int = 500) -> None:
    """Polls until the app refuses connections, which it does once it stops taking requests."""
    async with httpx.AsyncClient(timeout=1) as http:
        for _ in range(attempts):
            try:
                await http.get(url)
            except httpx.ConnectError:
                return
            except httpx.TransportError:
                pass  # closing down mid-request
            await asyncio.sleep(0.01)
    raise AssertionError(f"{url} still answered after {attempts} tries")


async def test_serve_logs_each_request_and_on_sigterm_finishes_work_in_flight_then_exits_0(
    slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    async with GatedHamsa(api_key=HAMSA_KEY) as hamsa:
        env = command_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            HAMSA_API_KEY=HAMSA_KEY,
            HAMSA_API_URL=hamsa.url,
            HOST="127.0.0.1",
            PORT=str(port),
            LOG_LEVEL="INFO",
        )
        serve = (sys.executable, "-m", "bot", "serve")
        process = await asyncio.create_subprocess_exec(
            *serve, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert process.stderr is not None
        log = ServerLog(process.stderr)
        try:
            await log.wait_for(f"serving HTTP on 127.0.0.1:{port}")
            response_url = slack.new_response_url()
            async with httpx.AsyncClient() as http:
                health = await http.get(app_url + HEALTH_PATH)
            assert (health.status_code, health.json()) == (200, {"ok": True, "database": "ok", "redis": "off"})
            async with SlackSender(app_url, SIGNING_SECRET) as sender:
                assert (await sender.command(DOCUMENTED_ID, response_url)).status_code == 200
            async with asyncio.timeout(10):
                await hamsa.arrived.wait()

            process.send_signal(signal.SIGTERM)
            await log.wait_for("stopping: finishing work in flight")
            await until_refused(app_url + HEALTH_PATH)
            hamsa.release.set()  # only now, while the stopped app drains its work
            (reply,) = await slack.wait_for_responses(1, url=response_url)
            async with asyncio.timeout(30):
                exit_code = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        output = await log.read_rest()

    assert exit_code == 0
    assert reply.body["blocks"][0]["text"]["text"] == DOCUMENTED["title"]
    assert re.search(r" bot\.server stopped$", output, re.MULTILINE)
    assert len(REQUEST_LINE.findall(output)) == 1
    for secret in (BOT_TOKEN, SIGNING_SECRET, HAMSA_KEY):
        assert secret not in output


async def test_serve_with_a_token_slack_refuses_stops_with_the_words_check_uses(
    slack: FakeSlack, hamsa: FakeHamsa, tmp_path: Path
) -> None:
    env = command_env(
        SLACK_BOT_TOKEN=WRONG_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        HAMSA_API_KEY=HAMSA_KEY,
        HAMSA_API_URL=hamsa.url,
        HOST="127.0.0.1",
        PORT=str(free_port()),
    )
    serve = (sys.executable, "-m", "bot", "serve")
    process = await asyncio.create_subprocess_exec(
        *serve, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        async with asyncio.timeout(30):
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    (call,) = slack.calls_to("auth.test")
    check_lines: list[str] = []
    await run_check(sandbox_settings(hamsa, slack, slack_bot_token=SecretStr(WRONG_TOKEN)), out=check_lines)

    words = SLACK_TOKEN_REFUSED.format(code="invalid_auth")
    assert call.answer == {"ok": False, "error": "invalid_auth"}
    assert process.returncode == 1
    assert stderr.decode().splitlines()[-1] == f"hamsa-bot: {words}"
    assert f"{PROBLEM} {words}" in check_lines
    assert WRONG_TOKEN not in stderr.decode()


# ---- preview ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_settings", "keep_logging")
def test_preview_of_a_sample_prints_its_summary_and_a_block_kit_builder_link(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["preview", "--sample", DOCUMENTED_ID]) == 0

    out = capsys.readouterr().out
    for shown in (DOCUMENTED["title"], "Completed", "2m 05s", "Telephone", f"[{PLAY_RECORDING}]", BUILDER_URL):
        assert shown in out
    # The preview is what a channel sees: the recording's link is given only to whoever presses the button.
    assert DOCUMENTED["mediaUrl"] not in out


@pytest.mark.usefixtures("no_settings", "keep_logging")
def test_preview_json_prints_block_kit_that_slack_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--sample", "--json", DOCUMENTED_ID]) == 0

    blocks = json.loads(capsys.readouterr().out)["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": DOCUMENTED["title"], "emoji": False}}
    assert block_kit_problems(blocks) == []


@pytest.mark.usefixtures("no_settings", "keep_logging")
def test_preview_of_an_unknown_sample_fails_and_lists_the_samples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--sample", str(uuid.uuid4())]) != 0

    out = capsys.readouterr().out
    assert "No sample with that ID" in out
    assert all(sample_id in out for sample_id in SAMPLES)


@pytest.mark.usefixtures("no_settings", "keep_logging")
def test_preview_of_something_that_is_no_reference_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--sample", "not-a-conversation"]) == 2
    assert mrkdwn_to_text(NOT_A_REFERENCE) in capsys.readouterr().out
